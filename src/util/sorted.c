/* Sorting and quantiles of doubles: one definition for every module that summarises values
   (aggregators, label quantiles, class cuts, feature scaling, fold medians). */
#include <math.h>
#include <stdlib.h>
#include "cnndyn/util.h"

static int ascending(const void *p, const void *q)
{
  double a = *(const double *)p, b = *(const double *)q;
  return (a > b) - (a < b);
}

void cdn_sort_doubles(double *v, int n)
{
  if (n > 1) qsort(v, (size_t)n, sizeof *v, ascending);
}

double cdn_quantile_sorted(const double *sorted, int n, double q)
{
  double pos;
  int    lo;

  if (n < 1) return NAN;
  pos = q * (n - 1);
  lo  = (int)floor(pos);
  return lo + 1 < n ? sorted[lo] + (pos - lo) * (sorted[lo + 1] - sorted[lo]) : sorted[n - 1];
}

int cdn_pair_cmp(const void *p, const void *q)
{
  const cdn_pair_t *a = p, *b = q;
  if (a->v != b->v) return a->v < b->v ? -1 : 1;
  return (a->i > b->i) - (a->i < b->i);
}
