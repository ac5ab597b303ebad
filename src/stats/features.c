/* One feature row per graph: statistic x scope ("all", then each node group) x aggregator. */
#include <stdio.h>
#include "cnndyn/stats.h"

static int popcount_below(unsigned mask, int limit)
{
  int c = 0;
  for (int b = 0; b < limit; b++) c += (mask >> b) & 1u;
  return c;
}

int cdn_feature_count(const cdn_graph_t *g, unsigned stat_mask, unsigned agg_mask)
{
  return popcount_below(stat_mask, CDN_STAT_COUNT) * (1 + g->ngroups) * popcount_below(agg_mask, CDN_AGG_COUNT);
}

PetscErrorCode cdn_feature_names(const cdn_graph_t *g, unsigned stat_mask, unsigned agg_mask, char (*names)[64])
{
  int k = 0;

  PetscFunctionBeginUser;
  for (int s = 0; s < CDN_STAT_COUNT; s++) {
    if (!(stat_mask & (1u << s))) continue;
    for (int scope = -1; scope < g->ngroups; scope++)
      for (int a = 0; a < CDN_AGG_COUNT; a++) {
        if (!(agg_mask & (1u << a))) continue;
        int len = snprintf(names[k++], 64, "%s.%s.%s", cdn_stat_name((cdn_stat_t)s),
                           scope < 0 ? "all" : g->group_name[scope], cdn_agg_name((cdn_agg_t)a));
        PetscCheck(len < 64, PETSC_COMM_SELF, PETSC_ERR_ARG_SIZ, "feature name too long: %s", names[k - 1]);
      }
  }
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_graph_features(const cdn_graph_t *g, unsigned stat_mask, unsigned agg_mask, PetscReal *row)
{
  PetscReal *x, lambda;
  int        na = popcount_below(agg_mask, CDN_AGG_COUNT), k = 0;

  PetscFunctionBeginUser;
  PetscCall(PetscMalloc1(g->nnodes, &x));
  for (int s = 0; s < CDN_STAT_COUNT; s++) {
    if (!(stat_mask & (1u << s))) continue;
    PetscErrorCode ierr = s == CDN_STAT_DEGREE ? cdn_stat_degree(g->A, x) : cdn_stat_eigenvector(g->A, x, &lambda);
    if (ierr) PetscCall(PetscFree(x));
    PetscCall(ierr);
    cdn_aggregate(x, (int)g->nnodes, agg_mask, row + k);
    k += na;
    for (int grp = 0; grp < g->ngroups; grp++, k += na)
      cdn_aggregate(x + g->group_start[grp], (int)g->group_size[grp], agg_mask, row + k);
  }
  PetscCall(PetscFree(x));
  PetscFunctionReturn(0);
}
