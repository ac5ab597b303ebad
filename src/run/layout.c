/* The feature layout of a run: which columns every model's per-epoch feature row holds. All models
   of a run share one features.csv header, so a population whose models have different layers
   (several architectures, or several depths) keeps only the columns every model has: node
   statistics over the whole graph ("degree.all.mean"), the layer statistic's aggregates over edge
   blocks ("singular.all.max") and weight statistics pooled over all tensors
   ("weights.all.weight.std"). Width changes channel counts, not layer names, so a population that
   varies only width keeps every per-group, per-block and per-tensor column. This file is the one
   place that decides. */
#include <string.h>
#include "cnndyn/features.h"
#include "cnndyn/graph.h"
#include "cnndyn/stats.h"
#include "run_internal.h"

int cdn_layout_mixed(const cdn_jobspec_t *spec) { return spec->narchs > 1 || spec->axis[CDN_HP_DEPTH].n > 1; }

/* A whole-graph column: "STAT.all.AGG". No node group or edge block is called "all". */
static int whole_graph(const char *name)
{
  const char *dot = strchr(name, '.');
  return dot && !strncmp(dot + 1, "all.", 4);
}

int cdn_layout_graph_count(const cdn_jobspec_t *spec, const cdn_graph_t *g)
{
  int na = 0, nnode = 0, nlayer = 0;
  if (!cdn_layout_mixed(spec)) return cdn_feature_count(g, spec->stat_mask, spec->agg_mask);
  for (int a = 0; a < CDN_AGG_COUNT; a++) na += (spec->agg_mask >> a) & 1u;
  for (int s = 0; s < CDN_STAT_COUNT; s++)
    if (spec->stat_mask & (1u << s)) s == CDN_STAT_SINGULAR ? nlayer++ : nnode++;
  return (nnode + nlayer) * na;
}

/* The graph's full row (and names when wanted), then the whole-graph columns when mixed. */
static PetscErrorCode graph_part(const cdn_jobspec_t *spec, const cdn_graph_t *g, double *row, char (*names)[64])
{
  int        nfull = cdn_feature_count(g, spec->stat_mask, spec->agg_mask), k = 0;
  char     (*full_names)[64];
  PetscReal *full = NULL;

  PetscFunctionBeginUser;
  PetscCall(PetscMalloc1(nfull + 1, &full_names));
  PetscCall(cdn_feature_names(g, spec->stat_mask, spec->agg_mask, full_names));
  if (row) {
    PetscCall(PetscMalloc1(nfull + 1, &full));
    PetscCall(cdn_graph_features(g, spec->stat_mask, spec->agg_mask, full));
  }
  for (int f = 0; f < nfull; f++) {
    if (cdn_layout_mixed(spec) && !whole_graph(full_names[f])) continue;
    if (row) row[k] = full[f];
    if (names) memcpy(names[k], full_names[f], 64);
    k++;
  }
  PetscCall(PetscFree(full));
  PetscCall(PetscFree(full_names));
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_layout_graph_row(const cdn_jobspec_t *spec, const cdn_graph_t *g, double *row)
{
  PetscFunctionBeginUser;
  if (!cdn_layout_mixed(spec)) PetscCall(cdn_graph_features(g, spec->stat_mask, spec->agg_mask, row));
  else PetscCall(graph_part(spec, g, row, NULL));
  PetscFunctionReturn(0);
}

int cdn_layout_weight_count(const cdn_jobspec_t *spec, const cdn_model_desc_t *desc)
{
  return cdn_layout_mixed(spec) ? CDN_WEIGHT_POOLED_COUNT : cdn_weight_stats_count(desc);
}

PetscErrorCode cdn_layout_weight_row(const cdn_jobspec_t *spec, const cdn_model_desc_t *desc, double *out)
{
  PetscFunctionBeginUser;
  if (cdn_layout_mixed(spec)) PetscCall(cdn_weight_stats_pooled(desc, out));
  else PetscCall(cdn_weight_stats(desc, out));
  PetscFunctionReturn(0);
}

/* Feature names of one network shape: graph columns, then the weight statistics. */
static PetscErrorCode shape_names(const cdn_jobspec_t *spec, const cdn_data_t *data, const char *arch, double width,
                                  double depth, int *nfeat, char (**names)[64])
{
  cdn_train_config_t tc = {.lr = 0.1, .batch_size = 1, .init_scale = 1, .width = width, .depth = (int)depth};
  cdn_net_t         *net;
  cdn_graph_t        g;
  int                ng;

  PetscFunctionBeginUser;
  PetscCall(cdn_net_create(arch, data->train.c, data->train.h, data->train.w, data->num_classes, &tc, &net));
  PetscCall(cdn_graph_create_as(PETSC_COMM_SELF, cdn_net_desc(net), spec->unrolled, spec->max_edges, &g));
  ng     = cdn_layout_graph_count(spec, &g);
  *nfeat = ng + cdn_layout_weight_count(spec, cdn_net_desc(net));
  PetscCall(PetscMalloc1(*nfeat, names));
  PetscCall(graph_part(spec, &g, NULL, *names));
  if (cdn_layout_mixed(spec)) cdn_weight_pooled_names(*names + ng);
  else cdn_weight_stats_names(cdn_net_desc(net), *names + ng);
  PetscCall(cdn_graph_destroy(&g));
  cdn_net_destroy(&net);
  PetscFunctionReturn(0);
}

/* Every shape the population trains is built once (so each must fit the data and the graph size
   guard before any work is spent) and must give the same names. */
PetscErrorCode cdn_layout_names(const cdn_jobspec_t *spec, const cdn_data_t *data, int *nfeat, char (**names)[64])
{
  const cdn_axis_t *W = &spec->axis[CDN_HP_WIDTH], *D = &spec->axis[CDN_HP_DEPTH];

  PetscFunctionBeginUser;
  *names = NULL;
  for (int a = 0; a < spec->narchs; a++)
    for (int w = 0; w < W->n; w++)
      for (int d = 0; d < D->n; d++) {
        char (*nm)[64];
        int   n;
        PetscCall(shape_names(spec, data, spec->archs[a], W->v[w], D->v[d], &n, &nm));
        if (!*names) {
          *names = nm, *nfeat = n;
          continue;
        }
        int same = n == *nfeat;
        for (int f = 0; f < n && same; f++) same = !strcmp(nm[f], (*names)[f]);
        PetscCall(PetscFree(nm));
        PetscCheck(same, PETSC_COMM_SELF, PETSC_ERR_PLIB,
                   "%s: %s at width %g, depth %g has other feature columns than the first network of the population",
                   spec->source, spec->archs[a], W->v[w], D->v[d]);
      }
  PetscFunctionReturn(0);
}
