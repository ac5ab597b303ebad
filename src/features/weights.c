/* Per-tensor weight statistics: the baseline that needs no graph at all. Unterthiner et al. (2020)
   predicted CNN accuracy from exactly these with R^2 above 0.98, so the graph must beat them. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "cnndyn/features.h"
#include "cnndyn/util.h"

static const char *const stat_names[CDN_WEIGHT_STATS_PER_TENSOR] = {"mean", "std", "p0", "p25", "p50", "p75", "p100"};
const char              *cdn_weight_stat_name(int s) { return s >= 0 && s < CDN_WEIGHT_STATS_PER_TENSOR ? stat_names[s] : "?"; }

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

static PetscErrorCode weight_column(cdn_column_t *c, const char *layer, int bias, int s)
{
  return cdn_column_make(c, bias ? "bias" : "weight", layer[0] ? "tensor" : "all", layer, stat_names[s]);
}

PetscErrorCode cdn_weight_stats_columns(const cdn_model_desc_t *desc, cdn_column_t *cols)
{
  int n = 0;

  PetscFunctionBeginUser;
  for (int i = 0; i < desc->nlayers; i++) {
    const cdn_layer_desc_t *l = &desc->layer[i];
    if (!cdn_layer_has_params(l) || !l->weight) continue;
    for (int t = 0; t < 1 + (l->bias != NULL); t++)
      for (int s = 0; s < CDN_WEIGHT_STATS_PER_TENSOR; s++) PetscCall(weight_column(&cols[n++], l->name, t, s));
  }
  PetscFunctionReturn(0);
}

/* mean, std, then p0..p100 by selection (cdn_select): the values a sort gives, at a fraction of
   its time, which was a visible share of a tiny model's (issue 15). */
static void tensor_stats(const float *x, int n, double *buf, double *out)
{
  static const double q[5] = {0, 0.25, 0.5, 0.75, 1};
  double              sum = 0, ss = 0, mean;
  int                 nan = 0;

  for (int s = 0; s < CDN_WEIGHT_STATS_PER_TENSOR; s++) out[s] = NAN;
  if (n <= 0) return;
  for (int i = 0; i < n; i++) nan |= isnan(x[i]), sum += x[i];
  if (nan) return; /* a diverged tensor has no meaningful order */
  mean = sum / n;
  for (int i = 0; i < n; i++) ss += (x[i] - mean) * (x[i] - mean);
  out[0] = mean;
  out[1] = sqrt(ss / n);
  for (int i = 0; i < n; i++) buf[i] = x[i]; /* exact: every float is a double */
  cdn_select(buf, n, NULL, 0, NULL, q, 5, out + 2);
}

PetscErrorCode cdn_weight_stats(const cdn_model_desc_t *desc, double *out)
{
  int     big = 1, w = 0;
  double *buf;

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

PetscErrorCode cdn_weight_pooled_columns(cdn_column_t *cols)
{
  PetscFunctionBeginUser;
  for (int t = 0; t < 2; t++)
    for (int s = 0; s < CDN_WEIGHT_STATS_PER_TENSOR; s++)
      PetscCall(weight_column(&cols[t * CDN_WEIGHT_STATS_PER_TENSOR + s], "", t, s));
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_weight_stats_pooled(const cdn_model_desc_t *desc, double *out)
{
  size_t total[2] = {0, 0}, n[2] = {0, 0};
  float  *pool[2];
  double *buf;

  PetscFunctionBeginUser;
  for (int i = 0; i < desc->nlayers; i++) {
    const cdn_layer_desc_t *l = &desc->layer[i];
    if (!cdn_layer_has_params(l) || !l->weight) continue;
    total[0] += (size_t)cdn_layer_weight_count(l);
    if (l->bias) total[1] += (size_t)l->out_c;
  }
  PetscCall(PetscMalloc3(total[0] + 1, &pool[0], total[1] + 1, &pool[1], (total[0] > total[1] ? total[0] : total[1]) + 1, &buf));
  for (int i = 0; i < desc->nlayers; i++) {
    const cdn_layer_desc_t *l = &desc->layer[i];
    if (!cdn_layer_has_params(l) || !l->weight) continue;
    memcpy(pool[0] + n[0], l->weight, (size_t)cdn_layer_weight_count(l) * sizeof(float));
    n[0] += (size_t)cdn_layer_weight_count(l);
    if (l->bias) memcpy(pool[1] + n[1], l->bias, (size_t)l->out_c * sizeof(float)), n[1] += (size_t)l->out_c;
  }
  for (int t = 0; t < 2; t++) tensor_stats(pool[t], (int)n[t], buf, out + t * CDN_WEIGHT_STATS_PER_TENSOR);
  PetscCall(PetscFree3(pool[0], pool[1], buf));
  PetscFunctionReturn(0);
}
