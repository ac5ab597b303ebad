/* The feature layout of a run (include/cnndyn/layout.h): which columns every model's per-epoch
   feature row holds. This file is the one place that decides; `cnndyn stats RUN_DIR` calls it too. */
#include <string.h>
#include "cnndyn/features.h"
#include "cnndyn/graph.h"
#include "cnndyn/layout.h"
#include "cnndyn/report.h"
#include "cnndyn/stats.h"
#include "cnndyn/util.h"
#include "cnndyn/nn.h"

cdn_layout_t cdn_layout_of(const cdn_jobspec_t *spec)
{
  cdn_layout_t lay = {.stat_mask = spec->stat_mask, .agg_mask = spec->agg_mask};
  lay.mixed        = spec->narchs > 1 || spec->axis[CDN_HP_DEPTH].n > 1;
  return lay;
}

int cdn_layout_graph_count(const cdn_layout_t *lay, const cdn_graph_t *g)
{
  return lay->mixed ? cdn_feature_count_all(lay->stat_mask, lay->agg_mask)
                    : cdn_feature_count(g, lay->stat_mask, lay->agg_mask);
}

/* The graph's full row and columns, then only the whole-graph ones when mixed. */
static PetscErrorCode graph_part(const cdn_layout_t *lay, const cdn_graph_t *g, double *row, cdn_column_t *cols)
{
  int           nfull = cdn_feature_count(g, lay->stat_mask, lay->agg_mask), k = 0;
  cdn_column_t *full_cols;
  PetscReal    *full = NULL;

  PetscFunctionBeginUser;
  PetscCall(PetscMalloc1(nfull + 1, &full_cols));
  PetscCall(cdn_feature_columns(g, lay->stat_mask, lay->agg_mask, full_cols));
  if (row) {
    PetscCall(PetscMalloc1(nfull + 1, &full));
    PetscCall(cdn_graph_features(g, lay->stat_mask, lay->agg_mask, full));
  }
  for (int f = 0; f < nfull; f++) {
    if (lay->mixed && strcmp(full_cols[f].scope, "all")) continue;
    if (row) row[k] = full[f];
    if (cols) cols[k] = full_cols[f];
    k++;
  }
  PetscCall(PetscFree(full));
  PetscCall(PetscFree(full_cols));
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_layout_graph_row(const cdn_layout_t *lay, const cdn_graph_t *g, double *row)
{
  PetscFunctionBeginUser;
  if (!lay->mixed) PetscCall(cdn_graph_features(g, lay->stat_mask, lay->agg_mask, row));
  else PetscCall(graph_part(lay, g, row, NULL));
  PetscFunctionReturn(0);
}

int cdn_layout_weight_count(const cdn_layout_t *lay, const cdn_model_desc_t *desc)
{
  return lay->mixed ? CDN_WEIGHT_POOLED_COUNT : cdn_weight_stats_count(desc);
}

PetscErrorCode cdn_layout_weight_row(const cdn_layout_t *lay, const cdn_model_desc_t *desc, double *out)
{
  PetscFunctionBeginUser;
  if (lay->mixed) PetscCall(cdn_weight_stats_pooled(desc, out));
  else PetscCall(cdn_weight_stats(desc, out));
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_layout_columns(const cdn_layout_t *lay, const cdn_graph_t *g, const cdn_model_desc_t *desc, int *n,
                                  cdn_column_t **cols)
{
  int ng = cdn_layout_graph_count(lay, g);

  PetscFunctionBeginUser;
  *n = ng + cdn_layout_weight_count(lay, desc);
  PetscCall(PetscMalloc1(*n + 1, cols));
  PetscCall(graph_part(lay, g, NULL, *cols));
  if (lay->mixed) PetscCall(cdn_weight_pooled_columns(*cols + ng));
  else PetscCall(cdn_weight_stats_columns(desc, *cols + ng));
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_layout_write_columns(const char *path, int n, const cdn_column_t *cols)
{
  cdn_afile_t af = {0};

  PetscFunctionBeginUser;
  PetscCall(cdn_afile_open(&af, path));
  fputs("column,statistic,scope,layer,aggregator\n", af.fp);
  for (int f = 0; f < n; f++) { /* names come from layer names: quoted by the one CSV writer if need be */
    const char *field[5] = {cols[f].name, cols[f].statistic, cols[f].scope, cols[f].layer, cols[f].aggregator};
    for (int k = 0; k < 5; k++) {
      if (k) fputc(',', af.fp);
      cdn_csv_text(af.fp, field[k]);
    }
    fputc('\n', af.fp);
  }
  PetscCall(cdn_afile_commit(&af));
  PetscFunctionReturn(0);
}

/* Columns of one network shape. */
static PetscErrorCode shape_columns(const cdn_jobspec_t *spec, const cdn_data_t *data, const char *arch, double width,
                                    double depth, int *nfeat, cdn_column_t **cols)
{
  cdn_train_config_t tc  = {.lr = 0.1, .batch_size = 1, .init_scale = 1, .width = width, .depth = (int)depth};
  cdn_layout_t       lay = cdn_layout_of(spec);
  cdn_net_t         *net;
  cdn_graph_t       *g = NULL;

  PetscFunctionBeginUser;
  PetscCall(cdn_net_create(arch, data->train.c, data->train.h, data->train.w, data->num_classes, &tc, &net));
  PetscCall(cdn_graph_create_as(PETSC_COMM_SELF, cdn_net_desc(net), spec->unrolled, spec->max_edges, &g));
  PetscCall(cdn_layout_columns(&lay, g, cdn_net_desc(net), nfeat, cols));
  PetscCall(cdn_graph_destroy(&g));
  PetscCall(cdn_net_destroy(&net));
  PetscFunctionReturn(0);
}

/* Every shape the population trains is built once (so each must fit the data and the graph size
   guard before any work is spent) and must give the same columns. */
PetscErrorCode cdn_layout_run_columns(const cdn_jobspec_t *spec, const cdn_data_t *data, int *nfeat, cdn_column_t **cols)
{
  const cdn_axis_t *W = &spec->axis[CDN_HP_WIDTH], *D = &spec->axis[CDN_HP_DEPTH];

  PetscFunctionBeginUser;
  *cols = NULL;
  for (int a = 0; a < spec->narchs; a++)
    for (int w = 0; w < W->n; w++)
      for (int d = 0; d < D->n; d++) {
        cdn_column_t *c;
        int           n;
        PetscCall(shape_columns(spec, data, spec->archs[a], W->v[w], D->v[d], &n, &c));
        if (!*cols) {
          *cols = c, *nfeat = n;
          continue;
        }
        int same = n == *nfeat;
        for (int f = 0; f < n && same; f++) same = !strcmp(c[f].name, (*cols)[f].name);
        PetscCall(PetscFree(c));
        PetscCheck(same, PETSC_COMM_SELF, PETSC_ERR_PLIB,
                   "%s: %s at width %g, depth %g has other feature columns than the first network of the population",
                   spec->source, spec->archs[a], W->v[w], D->v[d]);
      }
  PetscFunctionReturn(0);
}
