/* One feature row per graph: node statistics x scope ("all", then each node group) x aggregator,
   the layer statistic (singular) as aggregates over edge blocks plus one value per block, the
   graph statistic (spectral) as one value, the scope statistic (degree_entropy) as one value per
   scope. */
#include <stdio.h>
#include <string.h>
#include "cnndyn/stats.h"

static int popcount_below(unsigned mask, int limit)
{
  int c = 0;
  for (int b = 0; b < limit; b++) c += (mask >> b) & 1u;
  return c;
}

static int is_layer_stat(int s) { return cdn_stat_kind((cdn_stat_t)s) == CDN_STAT_KIND_LAYER; }

/* Columns one statistic contributes. */
static int stat_width(const cdn_graph_t *g, int s, int na)
{
  switch (cdn_stat_kind((cdn_stat_t)s)) {
  case CDN_STAT_KIND_LAYER: return na + g->nblocks;
  case CDN_STAT_KIND_GRAPH: return 1;
  case CDN_STAT_KIND_SCOPE: return 1 + g->ngroups;
  default: return (1 + g->ngroups) * na;
  }
}

int cdn_feature_count_all(unsigned stat_mask, unsigned agg_mask)
{
  int n = 0, na = popcount_below(agg_mask, CDN_AGG_COUNT);
  for (int s = 0; s < CDN_STAT_COUNT; s++) {
    cdn_stat_kind_t kind = cdn_stat_kind((cdn_stat_t)s);
    if (stat_mask & (1u << s)) n += kind == CDN_STAT_KIND_GRAPH || kind == CDN_STAT_KIND_SCOPE ? 1 : na;
  }
  return n;
}

int cdn_feature_count(const cdn_graph_t *g, unsigned stat_mask, unsigned agg_mask)
{
  int n = 0, na = popcount_below(agg_mask, CDN_AGG_COUNT);
  for (int s = 0; s < CDN_STAT_COUNT; s++)
    if (stat_mask & (1u << s)) n += stat_width(g, s, na);
  return n;
}

static PetscErrorCode column(cdn_column_t *cols, int *k, const char *stat, const char *scope, const char *layer,
                             const char *agg)
{
  PetscFunctionBeginUser;
  PetscCall(cdn_column_make(&cols[*k], stat, scope, layer, agg));
  (*k)++;
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_feature_columns(const cdn_graph_t *g, unsigned stat_mask, unsigned agg_mask, cdn_column_t *cols)
{
  int k = 0;

  PetscFunctionBeginUser;
  for (int s = 0; s < CDN_STAT_COUNT; s++) {
    const char     *sn   = cdn_stat_name((cdn_stat_t)s);
    cdn_stat_kind_t kind = cdn_stat_kind((cdn_stat_t)s);
    if (!(stat_mask & (1u << s))) continue;
    if (kind == CDN_STAT_KIND_GRAPH || kind == CDN_STAT_KIND_SCOPE) { /* one value per scope, no aggregator */
      for (int scope = -1; scope < (kind == CDN_STAT_KIND_SCOPE ? g->ngroups : 0); scope++)
        PetscCall(column(cols, &k, sn, scope < 0 ? "all" : "group", scope < 0 ? "" : g->group_name[scope], "value"));
      continue;
    }
    int nscope = is_layer_stat(s) ? 0 : g->ngroups;
    for (int scope = -1; scope < nscope; scope++)
      for (int a = 0; a < CDN_AGG_COUNT; a++)
        if (agg_mask & (1u << a))
          PetscCall(column(cols, &k, sn, scope < 0 ? "all" : "group", scope < 0 ? "" : g->group_name[scope],
                           cdn_agg_name((cdn_agg_t)a)));
    if (is_layer_stat(s))
      for (int b = 0; b < g->nblocks; b++) PetscCall(column(cols, &k, sn, "block", g->block[b].name, "value"));
  }
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_feature_names(const cdn_graph_t *g, unsigned stat_mask, unsigned agg_mask, char (*names)[64])
{
  int           n = cdn_feature_count(g, stat_mask, agg_mask);
  cdn_column_t *cols;

  PetscFunctionBeginUser;
  PetscCall(PetscMalloc1(n + 1, &cols));
  PetscCall(cdn_feature_columns(g, stat_mask, agg_mask, cols));
  for (int f = 0; f < n; f++) memcpy(names[f], cols[f].name, 64);
  PetscCall(PetscFree(cols));
  PetscFunctionReturn(0);
}

/* The node statistic s on every node; scratch for the directed pair; the eigenvector solve's
   eigenvalue into *lambda (the spectral statistic reuses it). */
static PetscErrorCode node_stat(const cdn_graph_t *g, int s, PetscReal *x, PetscReal *scratch, PetscReal *lambda)
{
  PetscFunctionBeginUser;
  switch (s) {
  case CDN_STAT_DEGREE: PetscCall(cdn_stat_degree(g->A, x)); break;
  case CDN_STAT_EIGENVECTOR: PetscCall(cdn_stat_eigenvector(g->A, x, lambda)); break;
  case CDN_STAT_PAGERANK: PetscCall(cdn_stat_pagerank(g->A, x)); break;
  case CDN_STAT_IN_STRENGTH: PetscCall(cdn_stat_strength(g->A, x, scratch)); break;
  case CDN_STAT_OUT_STRENGTH: PetscCall(cdn_stat_strength(g->A, scratch, x)); break;
  default: SETERRQ(PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "statistic %d is not a node statistic", s);
  }
  PetscFunctionReturn(0);
}

static PetscErrorCode fill_row(const cdn_graph_t *g, unsigned stat_mask, unsigned agg_mask, PetscReal *row,
                               PetscReal *x, PetscReal *scratch)
{
  int       na = popcount_below(agg_mask, CDN_AGG_COUNT), k = 0, have_lambda = 0;
  PetscReal lambda = NAN;

  PetscFunctionBeginUser;
  for (int s = 0; s < CDN_STAT_COUNT; s++) {
    if (!(stat_mask & (1u << s))) continue;
    if (s == CDN_STAT_SPECTRAL) { /* eigenvector comes first in enum order: its solve, if it ran */
      if (!have_lambda) PetscCall(cdn_stat_eigenvector(g->A, x, &lambda));
      row[k++] = lambda;
      continue;
    }
    if (s == CDN_STAT_DEGREE_ENTROPY) {
      PetscCall(cdn_stat_degree(g->A, x));
      row[k++] = cdn_degree_entropy(x, (int)g->nnodes);
      for (int grp = 0; grp < g->ngroups; grp++)
        row[k++] = cdn_degree_entropy(x + g->group_start[grp], (int)g->group_size[grp]);
      continue;
    }
    if (is_layer_stat(s)) {
      PetscReal sv[CDN_MAX_LAYERS];
      for (int b = 0; b < g->nblocks; b++) {
        const cdn_edge_block_t *e = &g->block[b];
        PetscCall(cdn_stat_block_singular(g->A, g->group_start[e->g1], g->group_size[e->g1], g->group_start[e->g0],
                                          g->group_size[e->g0], &sv[b]));
      }
      cdn_aggregate(sv, g->nblocks, agg_mask, row + k);
      k += na;
      for (int b = 0; b < g->nblocks; b++) row[k++] = sv[b];
      continue;
    }
    PetscCall(node_stat(g, s, x, scratch, &lambda));
    have_lambda |= s == CDN_STAT_EIGENVECTOR;
    cdn_aggregate(x, (int)g->nnodes, agg_mask, row + k);
    k += na;
    for (int grp = 0; grp < g->ngroups; grp++, k += na)
      cdn_aggregate(x + g->group_start[grp], (int)g->group_size[grp], agg_mask, row + k);
  }
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_graph_features(const cdn_graph_t *g, unsigned stat_mask, unsigned agg_mask, PetscReal *row)
{
  PetscReal     *x, *scratch;
  PetscErrorCode ierr;

  PetscFunctionBeginUser;
  PetscCall(PetscMalloc2(g->nnodes, &x, g->nnodes, &scratch));
  ierr = fill_row(g, stat_mask, agg_mask, row, x, scratch);
  PetscCall(PetscFree2(x, scratch));
  PetscCall(ierr);
  PetscFunctionReturn(0);
}
