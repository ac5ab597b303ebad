#pragma once
/* Graph statistics on a graph's symmetric weighted adjacency matrix, and aggregators over nodes. */
#include <petscmat.h>
#include "cnndyn/graph.h"

typedef enum { CDN_STAT_DEGREE, CDN_STAT_EIGENVECTOR, CDN_STAT_COUNT } cdn_stat_t;
typedef enum {
  CDN_AGG_MEAN, CDN_AGG_STD, CDN_AGG_MIN, CDN_AGG_MAX, CDN_AGG_MEDIAN, CDN_AGG_Q25, CDN_AGG_Q75,
  CDN_AGG_COUNT
} cdn_agg_t;

const char *cdn_stat_name(cdn_stat_t s); /* "degree", "eigenvector" */
const char *cdn_agg_name(cdn_agg_t a);   /* "mean", "std", "min", "max", "median", "q25", "q75" */
/* Name to enum; returns -1 for an unknown name. */
int cdn_stat_from_name(const char *name);
int cdn_agg_from_name(const char *name);

/* Weighted degree (strength): deg[i] = sum_j A[i][j]. deg has one entry per node. */
PetscErrorCode cdn_stat_degree(Mat A, PetscReal *deg);

/* Eigenvector centrality: the eigenvector of the largest real eigenvalue of the symmetric matrix A
   (SLEPc, EPS_HEP, EPS_LARGEST_REAL, deterministic start vector), sign fixed so that its entries
   sum to a non-negative value, scaled so that its largest entry is 1. Graphs without edges or with
   all-zero weights give 1 for every node and lambda 0; any NaN or Inf weight gives NaN for every
   node and lambda NaN without running the solver. Weights are assumed non-negative. The solve runs
   on A / max|a_ij| (lambda is reported in A's units), so exploded weights (1e18) are fine. Negative
   round-off is clamped to 0. Disconnected graphs: the component with the largest eigenvalue gets
   the mass, the others 0; ties are resolved by the solver (see centrality.c). Options prefix
   "eigenvector_" (tolerance 1e-10, at most 10000 iterations by default); not converging is an
   error (PETSC_ERR_CONV_FAILED), never a hang. */
PetscErrorCode cdn_stat_eigenvector(Mat A, PetscReal *cent, PetscReal *lambda);

/* Writes one value per aggregator set in agg_mask (bit 1u << cdn_agg_t), in enum order. n == 0
   gives NaN for each, and so does any NaN among the values. std divides by n; quantiles interpolate
   linearly between order statistics (numpy's default). */
void cdn_aggregate(const PetscReal *x, int n, unsigned agg_mask, PetscReal *out);

/* One feature row for a graph: for each statistic in stat_mask, for scope "all" and then each node
   group of g, each aggregator in agg_mask. Names are "statistic.scope.aggregator", e.g.
   "degree.conv2.median". */
int            cdn_feature_count(const cdn_graph_t *g, unsigned stat_mask, unsigned agg_mask);
PetscErrorCode cdn_feature_names(const cdn_graph_t *g, unsigned stat_mask, unsigned agg_mask, char (*names)[64]);
PetscErrorCode cdn_graph_features(const cdn_graph_t *g, unsigned stat_mask, unsigned agg_mask, PetscReal *row);
