/* Sorting and quantiles of doubles: one definition for every module that summarises values
   (aggregators, label quantiles, class cuts, feature scaling, fold medians, weight statistics). */
#include <math.h>
#include <stdlib.h>
#include "cnndyn/util.h"

#define SELECT_MAX_RANKS 32 /* cdn_select's ranks asked for at once; more take the full sort */

static int ascending(const void *p, const void *q)
{
  double a = *(const double *)p, b = *(const double *)q;
  return (a > b) - (a < b);
}

void cdn_sort_doubles(double *v, int n)
{
  if (n > 1) qsort(v, (size_t)n, sizeof *v, ascending);
}

/* Quantile q of n sorted values: the two ranks it mixes (*hi == *lo when it is the last value)... */
static double quantile_ranks(int n, double q, int *lo, int *hi)
{
  double pos = q * (n - 1);
  *lo        = (int)floor(pos);
  if (*lo + 1 >= n) *lo = n - 1; /* q = 1 (or above): the largest value itself */
  *hi = *lo + 1 < n ? *lo + 1 : *lo;
  return pos;
}

/* ... and their mix, given the values at those ranks. */
static double quantile_mix(int n, double pos, int lo, double vlo, double vhi)
{
  return lo + 1 < n ? vlo + (pos - lo) * (vhi - vlo) : vlo;
}

double cdn_quantile_sorted(const double *sorted, int n, double q)
{
  int    lo, hi;
  double pos;

  if (n < 1) return NAN;
  pos = quantile_ranks(n, q, &lo, &hi);
  return quantile_mix(n, pos, lo, sorted[lo], sorted[hi]);
}

static void swap_doubles(double *a, double *b)
{
  double t = *a;
  *a       = *b;
  *b       = t;
}

/* Puts the values of ranks r[0..nr) (ascending, inside [lo, hi)) of v[lo..hi) in place, every
   value before a placed one no larger, every value after it no smaller: quickselect that recurses
   only into the parts holding a wanted rank, with Hoare's partition around the median of three
   (moved to v[lo], so both parts are never empty; a run of equal values, a zero bias, splits in
   the middle). Hoare's over a three-way partition: a third of the time on 4,000 weights.
   budget bounds the partitions on one path: inputs that defeat the pivot choice end in the sort,
   never in n^2 steps or a deep stack. */
static void select_ranks(double *v, int lo, int hi, const int *r, int nr, int budget)
{
  while (nr > 0) {
    int    m = lo + (hi - lo) / 2, i, j, left = 0, mid;
    double a, b, c, p;
    if (hi - lo <= 16 || budget-- <= 0) { /* small or unlucky: insertion sort / full sort */
      if (hi - lo > 16) cdn_sort_doubles(v + lo, hi - lo);
      else
        for (int x = lo + 1; x < hi; x++)
          for (int k = x; k > lo && v[k] < v[k - 1]; k--) swap_doubles(&v[k], &v[k - 1]);
      return;
    }
    a = v[lo], b = v[m], c = v[hi - 1];
    mid = a < b ? (b < c ? m : a < c ? hi - 1 : lo) : (a < c ? lo : b < c ? hi - 1 : m);
    swap_doubles(&v[lo], &v[mid]);
    p = v[lo], i = lo - 1, j = hi;
    for (;;) { /* then v[lo..j] <= p <= v[j+1..hi), lo <= j < hi - 1 */
      do i++;
      while (v[i] < p);
      do j--;
      while (v[j] > p);
      if (i >= j) break;
      swap_doubles(&v[i], &v[j]);
    }
    while (left < nr && r[left] <= j) left++;
    select_ranks(v, lo, j + 1, r, left, budget); /* as deep as budget at most */
    lo = j + 1, r += left, nr -= left;
  }
}

void cdn_select(double *v, int n, const int *k, int nk, double *kout, const double *q, int nq, double *qout)
{
  int    want[SELECT_MAX_RANKS], nw = 0, lo, hi;
  double first = NAN, last = NAN, pos;

  if (n < 1) {
    for (int j = 0; j < nk; j++) kout[j] = NAN;
    for (int j = 0; j < nq; j++) qout[j] = NAN;
    return;
  }
  if (nk + 2 * nq > SELECT_MAX_RANKS) { /* not the case it is for: sort, then read */
    cdn_sort_doubles(v, n);
    for (int j = 0; j < nk; j++) kout[j] = v[k[j]];
    for (int j = 0; j < nq; j++) qout[j] = cdn_quantile_sorted(v, n, q[j]);
    return;
  }
  /* The extremes as the sort leaves them (glibc's qsort is a stable merge sort): the first smallest
     and the last largest in v's order, which tells -0 from +0 when both occur there; read before
     any value moves. At an inner rank a zero may come out with either sign (equal values in any
     order); the quantile's mix of two values drops that sign, so qout is always the sort's. */
  first = last = v[0];
  for (int i = 1; i < n; i++) {
    if (v[i] < first) first = v[i];
    if (v[i] >= last) last = v[i];
  }
  for (int j = 0; j < nk + nq; j++) {
    int r[2], nr = 2;
    if (j < nk) r[0] = k[j], nr = 1;
    else quantile_ranks(n, q[j - nk], &r[0], &r[1]);
    for (int t = 0; t < nr; t++) {
      int x = r[t], at = nw;
      if (x <= 0 || x >= n - 1) continue; /* the extremes are known */
      while (at > 0 && want[at - 1] > x) at--;
      if (at > 0 && want[at - 1] == x) continue;
      for (int s = nw; s > at; s--) want[s] = want[s - 1];
      want[at] = x, nw++;
    }
  }
  select_ranks(v, 0, n, want, nw, 2 * (int)ceil(log2((double)n)) + 8);
#define AT(x) ((x) <= 0 ? first : (x) >= n - 1 ? last : v[x])
  for (int j = 0; j < nk; j++) kout[j] = AT(k[j]);
  for (int j = 0; j < nq; j++) {
    pos     = quantile_ranks(n, q[j], &lo, &hi);
    qout[j] = quantile_mix(n, pos, lo, AT(lo), AT(hi));
  }
#undef AT
}

int cdn_pair_cmp(const void *p, const void *q)
{
  const cdn_pair_t *a = p, *b = q;
  if (a->v != b->v) return a->v < b->v ? -1 : 1;
  return (a->i > b->i) - (a->i < b->i);
}
