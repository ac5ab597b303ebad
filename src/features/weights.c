/* Per-tensor weight statistics: the baseline that needs no graph at all. Unterthiner et al. (2020)
   predicted CNN accuracy from exactly these with R^2 above 0.98, so the graph must beat them. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "cnndyn/features.h"

static const char *const stat_names[CDN_WEIGHT_STATS_PER_TENSOR] = {"mean", "std", "p0", "p25", "p50", "p75", "p100"};

int cdn_weight_stats_count(const cdn_model_desc_t *desc)
{
  int n = 0;
  for (int i = 0; i < desc->nlayers; i++) {
    const cdn_layer_desc_t *l = &desc->layer[i];
    if (!cdn_layer_has_params(l) || !l->weight) continue;
    n += CDN_WEIGHT_STATS_PER_TENSOR * (1 + (l->bias != NULL));
  }
  return n;
}

void cdn_weight_stats_names(const cdn_model_desc_t *desc, char (*names)[64])
{
  int n = 0;
  for (int i = 0; i < desc->nlayers; i++) {
    const cdn_layer_desc_t *l = &desc->layer[i];
    if (!cdn_layer_has_params(l) || !l->weight) continue;
    for (int t = 0; t < 1 + (l->bias != NULL); t++)
      for (int s = 0; s < CDN_WEIGHT_STATS_PER_TENSOR; s++)
        snprintf(names[n++], 64, "weights.%s.%s.%s", l->name, t ? "bias" : "weight", stat_names[s]);
  }
}

static int cmp_float(const void *p, const void *q)
{
  float a = *(const float *)p, b = *(const float *)q;
  return (a > b) - (a < b);
}

static double quantile(const float *sorted, int n, double q)
{
  double pos = q * (n - 1);
  int    lo  = (int)floor(pos);
  if (lo >= n - 1) return sorted[n - 1];
  return sorted[lo] + (pos - lo) * ((double)sorted[lo + 1] - sorted[lo]);
}

static void tensor_stats(const float *x, int n, float *buf, double *out)
{
  double sum = 0, ss = 0, mean;
  int    nan = 0;

  for (int s = 0; s < CDN_WEIGHT_STATS_PER_TENSOR; s++) out[s] = NAN;
  if (n <= 0) return;
  for (int i = 0; i < n; i++) nan |= isnan(x[i]), sum += x[i];
  if (nan) return; /* a diverged tensor has no meaningful order */
  mean = sum / n;
  for (int i = 0; i < n; i++) ss += (x[i] - mean) * (x[i] - mean);
  out[0] = mean;
  out[1] = sqrt(ss / n);
  memcpy(buf, x, (size_t)n * sizeof *x);
  qsort(buf, (size_t)n, sizeof *buf, cmp_float);
  for (int s = 0; s < 5; s++) out[2 + s] = quantile(buf, n, 0.25 * s);
}

PetscErrorCode cdn_weight_stats(const cdn_model_desc_t *desc, double *out)
{
  int    big = 1, w = 0;
  float *buf;

  PetscFunctionBeginUser;
  for (int i = 0; i < desc->nlayers; i++)
    if (cdn_layer_has_params(&desc->layer[i])) {
      int c = cdn_layer_weight_count(&desc->layer[i]);
      big   = c > big ? c : big;
      big   = desc->layer[i].out_c > big ? desc->layer[i].out_c : big;
    }
  PetscCall(PetscMalloc1(big, &buf));
  for (int i = 0; i < desc->nlayers; i++) {
    const cdn_layer_desc_t *l = &desc->layer[i];
    if (!cdn_layer_has_params(l) || !l->weight) continue;
    tensor_stats(l->weight, cdn_layer_weight_count(l), buf, out + w), w += CDN_WEIGHT_STATS_PER_TENSOR;
    if (l->bias) tensor_stats(l->bias, l->out_c, buf, out + w), w += CDN_WEIGHT_STATS_PER_TENSOR;
  }
  PetscCall(PetscFree(buf));
  PetscFunctionReturn(0);
}
