/* Aggregators over node values and the names that tie statistics to feature columns. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "cnndyn/stats.h"
#include "cnndyn/util.h"

static const char *stat_names[CDN_STAT_COUNT] = {"degree",      "eigenvector",  "pagerank", "singular",
                                                 "in_strength", "out_strength", "spectral", "degree_entropy"};
static const char *agg_names[CDN_AGG_COUNT]   = {"mean", "std", "min", "max", "median", "q25", "q75"};

const char *cdn_stat_name(cdn_stat_t s) { return (unsigned)s < CDN_STAT_COUNT ? stat_names[s] : "?"; }
cdn_stat_kind_t cdn_stat_kind(cdn_stat_t s)
{
  return s == CDN_STAT_SINGULAR         ? CDN_STAT_KIND_LAYER
         : s == CDN_STAT_SPECTRAL       ? CDN_STAT_KIND_GRAPH
         : s == CDN_STAT_DEGREE_ENTROPY ? CDN_STAT_KIND_SCOPE
                                        : CDN_STAT_KIND_NODE;
}
const char *cdn_agg_name(cdn_agg_t a) { return (unsigned)a < CDN_AGG_COUNT ? agg_names[a] : "?"; }

int cdn_stat_from_name(const char *name)
{
  for (int s = 0; name && s < CDN_STAT_COUNT; s++)
    if (!strcmp(name, stat_names[s])) return s;
  return -1;
}

int cdn_agg_from_name(const char *name)
{
  for (int a = 0; name && a < CDN_AGG_COUNT; a++)
    if (!strcmp(name, agg_names[a])) return a;
  return -1;
}

/* Conventions: std is the population one (divides by n, numpy's default); any NaN among the values
   makes every aggregate NaN, so a diverged network never looks ordinary; n == 0 gives NaN. This is
   a numeric kernel and cannot report errors: if the sort buffer cannot be allocated, the order
   statistics come out NaN. */
void cdn_aggregate(const PetscReal *x, int n, unsigned agg_mask, PetscReal *out)
{
  PetscReal  v[CDN_AGG_COUNT];
  PetscReal *s    = NULL;
  double     mean = 0, var = 0;
  int        nan  = n <= 0, k = 0;

  for (int i = 0; i < n && !nan; i++) nan = isnan(x[i]);
  for (int a = 0; a < CDN_AGG_COUNT; a++) v[a] = NAN;
  if (!nan) {
    for (int i = 0; i < n; i++) mean += x[i];
    mean /= n;
    for (int i = 0; i < n; i++) var += (x[i] - mean) * (x[i] - mean);
    v[CDN_AGG_MEAN] = mean;
    v[CDN_AGG_STD]  = sqrt(var / n);
    s               = malloc((size_t)n * sizeof *s);
  }
  if (s) { /* order statistics by selection, not a sort: the same values (cdn_select) */
    _Static_assert(CDN_AGG_MAX == CDN_AGG_MIN + 1 && CDN_AGG_Q25 == CDN_AGG_MEDIAN + 1 && CDN_AGG_Q75 == CDN_AGG_MEDIAN + 2,
                   "cdn_select writes min, max and median, q25, q75 in a row");
    const int    ends[2] = {0, n - 1};
    const double q[3]    = {0.5, 0.25, 0.75};
    memcpy(s, x, (size_t)n * sizeof *s);
    cdn_select(s, n, ends, 2, &v[CDN_AGG_MIN], q, 3, &v[CDN_AGG_MEDIAN]);
    free(s);
  }
  for (int a = 0; a < CDN_AGG_COUNT; a++)
    if (agg_mask & (1u << a)) out[k++] = v[a];
}

/* p_i from deg_i / max (so degrees near the top of double range cannot overflow the sum), each
   -p_i ln p_i in double: the n-term sum loses a few ulps, far below the float32 rounding of the
   weights the degrees come from. */
PetscReal cdn_degree_entropy(const PetscReal *deg, int n)
{
  double top = 0, sum = 0, h = 0;

  if (n <= 0) return NAN;
  for (int i = 0; i < n; i++) {
    if (!(deg[i] >= 0 && deg[i] <= PETSC_MAX_REAL)) return NAN; /* NaN, Inf or negative */
    if (deg[i] > top) top = deg[i];
  }
  if (n == 1 || top == 0) return 1;
  for (int i = 0; i < n; i++) sum += deg[i] / top;
  for (int i = 0; i < n; i++) {
    double p = deg[i] / top / sum;
    if (p > 0) h -= p * log(p);
  }
  return h / log((double)n);
}
