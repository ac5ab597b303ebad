#pragma once
/* Temporal summaries: a model's per-epoch feature rows over the first k epochs, as one vector.
   Weight statistics: the per-tensor baseline of Unterthiner et al. (2020), computed per epoch. */
#include <petscsys.h>
#include "cnndyn/column.h"
#include "cnndyn/model.h"

/* Width of the summary of nfeat features over epochs 0..k: the k+1 rows, then (if differences)
   the k differences row(e) - row(e-1). */
int  cdn_summary_width(int nfeat, int k, int differences);
/* rows: (k+1) x nfeat, epochs 0..k. out: cdn_summary_width values. */
void cdn_summary_build(const double *rows, int nfeat, int k, int differences, double *out);

/* Statistics of every weight and bias tensor of the layers with parameters, in layer order, weight
   before bias: mean, std (population), and the 0/25/50/75/100 percentiles (linear interpolation,
   numpy's default). Named "weights.LAYER.weight.STAT" / "weights.LAYER.bias.STAT" with STAT in
   mean, std, p0, p25, p50, p75, p100. A tensor holding a NaN gives NaN for all seven; infinities
   propagate through mean and std. Cost: one sort per tensor, O(P log P) for P parameters. */
#define CDN_WEIGHT_STATS_PER_TENSOR 7
int            cdn_weight_stats_count(const cdn_model_desc_t *desc);
const char    *cdn_weight_stat_name(int s); /* s in 0..6: "mean" .. "p100" */
PetscErrorCode cdn_weight_stats_columns(const cdn_model_desc_t *desc, cdn_column_t *cols);
PetscErrorCode cdn_weight_stats(const cdn_model_desc_t *desc, double *out);
/* The same seven statistics over every weight tensor pooled into one set, then every bias tensor:
   the columns any network has, whatever its layers, for populations that mix layer layouts.
   Named "weights.all.weight.STAT" / "weights.all.bias.STAT"; a network without biases gives NaN. */
#define CDN_WEIGHT_POOLED_COUNT (2 * CDN_WEIGHT_STATS_PER_TENSOR)
PetscErrorCode cdn_weight_pooled_columns(cdn_column_t *cols);
PetscErrorCode cdn_weight_stats_pooled(const cdn_model_desc_t *desc, double *out);
