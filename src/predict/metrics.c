/* Metrics of a prediction against its label. Every one is computed over the pairs where both
   values are finite (so one diverged model cannot turn a whole report into NaN) and returns NaN when
   it is undefined, which a report prints as "nan" rather than as a misleading number. */
#include <math.h>
#include <stdlib.h>
#include "cnndyn/predict.h"

typedef struct {
  double a, b;
} pair_t;

static int by_a_then_b(const void *p, const void *q)
{
  const pair_t *x = p, *y = q;
  if (x->a != y->a) return x->a < y->a ? -1 : 1;
  if (x->b != y->b) return x->b < y->b ? -1 : 1;
  return 0;
}

/* Sum of t(t-1)/2 over runs of equal values; the runs must be contiguous. */
static double tied_pairs(const pair_t *p, int n, int use_a, int use_b)
{
  double s = 0;
  for (int i = 0, j; i < n; i = j) {
    for (j = i + 1; j < n && (!use_a || p[j].a == p[i].a) && (!use_b || p[j].b == p[i].b); j++) {}
    s += 0.5 * (double)(j - i) * (double)(j - i - 1);
  }
  return s;
}

/* Sorts p[0..n) by b and returns the number of strictly inverted pairs: discordant pairs, given
   that p arrived sorted by (a, b). Bottom-up merges keep the stack flat for any n. */
static double merge_count(pair_t *p, pair_t *tmp, int n)
{
  double swaps = 0;
  for (int w = 1; w < n; w *= 2) {
    for (int lo = 0; lo < n - w; lo += 2 * w) {
      int mid = lo + w, hi = lo + 2 * w < n ? lo + 2 * w : n, i = lo, j = mid, k = lo;
      while (i < mid && j < hi) {
        if (p[j].b < p[i].b) {
          swaps += mid - i; /* p[j] is below every remaining left element */
          tmp[k++] = p[j++];
        } else tmp[k++] = p[i++];
      }
      while (i < mid) tmp[k++] = p[i++];
      while (j < hi) tmp[k++] = p[j++];
      for (k = lo; k < hi; k++) p[k] = tmp[k];
    }
  }
  return swaps;
}

/* Knight's O(n log n) tau-b: sort by (a, b), count ties in a and joint ties, then count discordant
   pairs as the inversions of a merge sort on b, and ties in b on the result. */
double cdn_kendall_tau(const double *a, const double *b, int n)
{
  pair_t *p = malloc(sizeof(pair_t) * (size_t)(n > 0 ? 2 * n : 1));
  int     m = 0;
  double  tau = NAN;

  if (!p) return NAN;
  for (int i = 0; i < n; i++)
    if (isfinite(a[i]) && isfinite(b[i])) p[m++] = (pair_t){a[i], b[i]};
  if (m >= 2) {
    double n0, n1, n2, n3, dis;
    qsort(p, (size_t)m, sizeof *p, by_a_then_b);
    n0  = 0.5 * (double)m * (double)(m - 1);
    n1  = tied_pairs(p, m, 1, 0);
    n3  = tied_pairs(p, m, 1, 1);
    dis = merge_count(p, p + m, m);
    n2  = tied_pairs(p, m, 0, 1);
    if (n0 > n1 && n0 > n2) tau = (n0 - n1 - n2 + n3 - 2.0 * dis) / sqrt((n0 - n1) * (n0 - n2));
  }
  free(p);
  return tau;
}

double cdn_r2(const double *y, const double *pred, int n)
{
  double mean = 0, ss_res = 0, ss_tot = 0, lo = INFINITY, hi = -INFINITY;
  int    m = 0;
  for (int i = 0; i < n; i++)
    if (isfinite(y[i]) && isfinite(pred[i])) mean += y[i], m++, lo = fmin(lo, y[i]), hi = fmax(hi, y[i]);
  if (!m || lo == hi) return NAN; /* tested exactly: round-off in the mean would make SStot tiny, not 0 */
  mean /= m;
  for (int i = 0; i < n; i++) {
    if (!(isfinite(y[i]) && isfinite(pred[i]))) continue;
    ss_res += (y[i] - pred[i]) * (y[i] - pred[i]);
    ss_tot += (y[i] - mean) * (y[i] - mean);
  }
  return ss_tot > 0 ? 1.0 - ss_res / ss_tot : NAN;
}

double cdn_mae(const double *y, const double *pred, int n)
{
  double s = 0;
  int    m = 0;
  for (int i = 0; i < n; i++)
    if (isfinite(y[i]) && isfinite(pred[i])) s += fabs(y[i] - pred[i]), m++;
  return m ? s / m : NAN;
}

double cdn_accuracy(const int *truth, const int *pred, int n)
{
  int hit = 0;
  for (int i = 0; i < n; i++) hit += truth[i] == pred[i];
  return n > 0 ? (double)hit / n : NAN;
}

double cdn_f1(const int *truth, const int *pred, int n)
{
  double tp = 0, fp = 0, fn = 0;
  for (int i = 0; i < n; i++) {
    tp += truth[i] == 1 && pred[i] == 1;
    fp += truth[i] != 1 && pred[i] == 1;
    fn += truth[i] == 1 && pred[i] != 1;
  }
  return tp + fp + fn > 0 ? 2 * tp / (2 * tp + fp + fn) : NAN;
}

double cdn_majority_rate(const int *cls, int n)
{
  int ones = 0;
  for (int i = 0; i < n; i++) ones += cls[i] == 1;
  return n > 0 ? (double)(ones > n - ones ? ones : n - ones) / n : NAN;
}
