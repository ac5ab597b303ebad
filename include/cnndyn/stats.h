#pragma once
/* Graph statistics on a graph's symmetric weighted adjacency matrix, and aggregators over nodes. */
#include <petscmat.h>
#include "cnndyn/column.h"
#include "cnndyn/graph.h"

/* Node statistics give one value per node (aggregated over the whole graph and each node group);
   SINGULAR is a layer statistic: one value per edge block (graph.h); SPECTRAL is a graph statistic
   (one value for the whole graph); DEGREE_ENTROPY a scope statistic (one value for the whole graph
   and one per node group). See cdn_graph_features. New statistics go last: the enum order is the
   column order of every features.csv. */
typedef enum {
  CDN_STAT_DEGREE,
  CDN_STAT_EIGENVECTOR,
  CDN_STAT_PAGERANK,
  CDN_STAT_SINGULAR,
  CDN_STAT_IN_STRENGTH,
  CDN_STAT_OUT_STRENGTH,
  CDN_STAT_SPECTRAL,
  CDN_STAT_DEGREE_ENTROPY,
  CDN_STAT_COUNT
} cdn_stat_t;
typedef enum { CDN_STAT_KIND_NODE, CDN_STAT_KIND_LAYER, CDN_STAT_KIND_GRAPH, CDN_STAT_KIND_SCOPE } cdn_stat_kind_t;
typedef enum {
  CDN_AGG_MEAN, CDN_AGG_STD, CDN_AGG_MIN, CDN_AGG_MAX, CDN_AGG_MEDIAN, CDN_AGG_Q25, CDN_AGG_Q75,
  CDN_AGG_COUNT
} cdn_agg_t;

/* "degree", "eigenvector", "pagerank", "singular", "in_strength", "out_strength", "spectral", "degree_entropy" */
const char     *cdn_stat_name(cdn_stat_t s);
cdn_stat_kind_t cdn_stat_kind(cdn_stat_t s);
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
   on A itself, or on A / max|a_ij| when that is outside [1e-100, 1e100] (lambda is reported in
   A's units), so exploded weights (1e18 and far beyond) are fine. Negative
   round-off is clamped to 0. Disconnected graphs: the component with the largest eigenvalue gets
   the mass, the others 0; ties are resolved by the solver (see centrality.c). Options prefix
   "eigenvector_" (tolerance 1e-10, at most 10000 iterations by default); not converging is an
   error (PETSC_ERR_CONV_FAILED), never a hang. */
PetscErrorCode cdn_stat_eigenvector(Mat A, PetscReal *cent, PetscReal *lambda);

/* PageRank of the undirected weighted graph: the stationary distribution of a walk that follows
   an edge with probability proportional to its weight (damping d, default 0.85) or jumps to a
   uniformly chosen node (1 - d); a node with zero strength jumps uniformly. Entries sum to 1.
   Power iteration from the uniform vector until the L1 change is below tol (1e-10) or an error
   after max_it (1000) steps; options -pagerank_damping, -pagerank_tol, -pagerank_max_it. Any NaN
   or Inf weight gives NaN everywhere. Weights are assumed non-negative; the scale of the weights
   does not matter. Cost: one sparse mat-vec per step, about 140 steps at d = 0.85. */
PetscErrorCode cdn_stat_pagerank(Mat A, PetscReal *pr);

/* Directed strengths, with edges pointing from the lower node id to the higher one (for a
   network's graph: from the input side to the output side, graph.h): in[i] = sum of A[i][j] over
   j < i, out[i] = the sum over j > i. in + out = degree. */
PetscErrorCode cdn_stat_strength(Mat A, PetscReal *in, PetscReal *out);

/* Leading singular value (spectral norm) of the block A[r0 .. r0+nr, c0 .. c0+nc) (SLEPc SVD,
   largest, options prefix "singular_", tolerance 1e-10). For an edge block of a network's graph
   it measures how strongly that layer can amplify a signal, BN gain included. All-zero block: 0;
   any NaN or Inf entry: NaN (no solver run); the solve runs on the block scaled to max 1. */
PetscErrorCode cdn_stat_block_singular(Mat A, PetscInt r0, PetscInt nr, PetscInt c0, PetscInt nc, PetscReal *sigma);

/* Normalised Shannon entropy of a weighted-degree distribution (Pielou's evenness):
   H = -sum_i p_i ln p_i / ln n with p_i = deg_i / sum_j deg_j (0 ln 0 = 0), in [0, 1]: 1 when every
   node carries the same strength, towards 0 when one node carries it all. Conventions: n == 0, any
   NaN, Inf or negative value: NaN; n == 1 or all degrees zero: 1 (the uniform distribution, as
   eigenvector centrality gives every node 1 on an edgeless graph). Scale-free: deg and c * deg
   give the same value. */
PetscReal cdn_degree_entropy(const PetscReal *deg, int n);

/* Writes one value per aggregator set in agg_mask (bit 1u << cdn_agg_t), in enum order. n == 0
   gives NaN for each, and so does any NaN among the values. std divides by n; quantiles interpolate
   linearly between order statistics (numpy's default). */
void cdn_aggregate(const PetscReal *x, int n, unsigned agg_mask, PetscReal *out);

/* One feature row for a graph, statistics in enum order. A node statistic gives, for scope "all"
   and then each node group of g, each aggregator in agg_mask: "degree.conv2.median". The layer
   statistic SINGULAR gives each aggregator over the edge blocks ("singular.all.max"), then one
   value per edge block named after it: "singular.conv2.value". The graph statistic SPECTRAL gives
   one column, "spectral.all.value": the largest real eigenvalue of A (the lambda of
   cdn_stat_eigenvector, from the same solve when eigenvector is in stat_mask too). The scope
   statistic DEGREE_ENTROPY gives cdn_degree_entropy of the weighted degrees of all nodes, then of
   each node group: "degree_entropy.all.value", "degree_entropy.conv2.value". */
int            cdn_feature_count(const cdn_graph_t *g, unsigned stat_mask, unsigned agg_mask);
/* How many of those columns have scope "all" (the ones every graph has, whatever its layers). */
int            cdn_feature_count_all(unsigned stat_mask, unsigned agg_mask);
PetscErrorCode cdn_feature_names(const cdn_graph_t *g, unsigned stat_mask, unsigned agg_mask, char (*names)[64]);
/* The same columns with what each measures (cdn_feature_names copies their names). */
PetscErrorCode cdn_feature_columns(const cdn_graph_t *g, unsigned stat_mask, unsigned agg_mask, cdn_column_t *cols);
PetscErrorCode cdn_graph_features(const cdn_graph_t *g, unsigned stat_mask, unsigned agg_mask, PetscReal *row);
