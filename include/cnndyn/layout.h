#pragma once
/* The feature layout: which columns a features.csv row holds and what each measures. All models
   of a run share one header, so a population whose models have different layers (several
   architectures, or several depths) keeps only the columns every model has: node statistics over
   the whole graph ("degree.all.mean"), the layer statistic's aggregates over edge blocks
   ("singular.all.max") and weight statistics pooled over all tensors ("weights.all.weight.std").
   Width changes channel counts, not layer names, so a population that varies only width keeps
   every per-group, per-block and per-tensor column. `cnndyn run` and `cnndyn stats RUN_DIR` both
   build their rows here (src/features/layout.c), from the layout cdn_layout_of decides. */
#include <petscsys.h>
#include "cnndyn/column.h"
#include "cnndyn/data.h"
#include "cnndyn/graph.h"
#include "cnndyn/jobspec.h"
#include "cnndyn/model.h"

typedef struct {
  unsigned stat_mask, agg_mask; /* [graph] statistics, [features] aggregators */
  int      mixed;               /* the population mixes layer layouts: only the shared columns */
} cdn_layout_t;

/* The one decision: the layout of a job spec's population (mixed when [training] architecture or
   depth lists more than one value). */
cdn_layout_t cdn_layout_of(const cdn_jobspec_t *spec);

/* One network's row is its graph columns, then its weight-statistics columns. */
int            cdn_layout_graph_count(const cdn_layout_t *lay, const cdn_graph_t *g);
PetscErrorCode cdn_layout_graph_row(const cdn_layout_t *lay, const cdn_graph_t *g, double *row);
int            cdn_layout_weight_count(const cdn_layout_t *lay, const cdn_model_desc_t *desc);
PetscErrorCode cdn_layout_weight_row(const cdn_layout_t *lay, const cdn_model_desc_t *desc, double *out);
/* Every column of the row, in order (*n of them; *cols is PetscFree'd by the caller). */
PetscErrorCode cdn_layout_columns(const cdn_layout_t *lay, const cdn_graph_t *g, const cdn_model_desc_t *desc,
                                  int *n, cdn_column_t **cols);
/* features_columns.csv: `column, statistic, scope, layer, aggregator`, one row per feature column
   (docs/formats.md, "features_columns.csv"), written under a temporary name and renamed. */
PetscErrorCode cdn_layout_write_columns(const char *path, int n, const cdn_column_t *cols);
/* The columns of every model's feature row in a run (graph columns, then weight statistics),
   checked equal over every network shape of the population (each built once, so each must fit
   the data and the graph size guard before any work is spent); *cols is PetscFree'd by the caller. */
PetscErrorCode cdn_layout_run_columns(const cdn_jobspec_t *spec, const cdn_data_t *data, int *nfeat, cdn_column_t **cols);
