#pragma once
/* A network's weights as a weighted undirected graph (rolled: one node per channel or neuron).
   docs/graph.md is the user-facing reference; this is the contract.

   Nodes. The input channels (group "input"), then one group per conv or linear layer in stack
   order, named after the layer, holding its output channels or neurons. A 1x1 projection conv on
   a residual shortcut adds no group (its edges end on the block's output nodes, see below).
   Pooling, activation, dropout, BatchNorm, global average pooling, flatten and ADD add no nodes.

   Edge blocks. Each conv or linear layer joins the group its input comes from (following src
   through node-less layers) to its own group, complete bipartite, in layer order, output-major:
     conv (o, i)      -> |s_o| ||W[o,i,:,:]||_2  (Frobenius norm of the kernel slice)
     flatten (o, c)   -> |s_o| ||W[o, c*H*W : (c+1)*H*W]||_2 (H*W = in_features / channels; 1
                         after global average pooling, where in_features == channels)
     linear (o, i)    -> |s_o| |W[o,i]|
   s_o = gamma_o / sqrt(running_var_o + eps) when a BatchNorm reads this layer's output (and
   nothing else does): BN's affine map, folded into the layer's output channel o. beta and
   running_mean only shift the output (like a bias) and are not edges; gamma NULL means 1.
   s_o = 1 without a BatchNorm. A BatchNorm anywhere else is not folded and adds nothing.
   Residual blocks (ADD with src = main path, src2 = shortcut): the ADD's output nodes are the
   main path's nodes (the group of the conv that ends the main path). The shortcut becomes edges
   into those nodes from the block's input group:
     identity shortcut  (c, c) -> 1, one edge per channel (the identity map's gain); the block
                         is named after the ADD layer;
     1x1 projection     (o, i) -> |s_o| ||W[o,i]|| as a conv edge, BN folded, named after the conv.
   A shortcut is a projection when src2 reaches a conv through at most one BatchNorm and no other
   layer reads that conv or BatchNorm; otherwise it is an identity and needs equal channel counts.
   Blocks run in the stack order of the layer that owns them (the ADD for an identity).

   Storage. The symmetric adjacency matrix A (both directions stored) is a PETSc AIJ Mat on the
   graph's communicator; every edge joins an earlier group to a later one, so node ids also give
   a direction (input side -> output side) used by in/out strength. Edge e (global order above) is
   the COO pair (later node, earlier node) and its mirror; on a communicator of several ranks each
   rank holds only the COO entries of the rows it owns (contiguous ranges with about equal entries:
   graph.c, balanced_rows). The pattern is assembled once, straight into the AIJ arrays (csr.c; the
   same matrix COO assembly would give); values are set per epoch into those arrays through a map
   from COO entry to stored position (on one rank written during the edge walk itself, a block's
   edges visited in 64 x 64 tiles so that both directions' writes stay in cache). Weights are reduced in double; NaN/Inf pass through. */
#include <petscmat.h>
#include "cnndyn/model.h"

typedef enum { CDN_BLOCK_WEIGHTS, CDN_BLOCK_IDENTITY, CDN_BLOCK_POOL } cdn_block_kind_t;

typedef struct {
  cdn_block_kind_t kind;
  int              layer; /* conv/linear layer (WEIGHTS) or ADD layer (IDENTITY) */
  int              bn;    /* BatchNorm layer folded into it, or -1 */
  int              g0, g1; /* from group (input side), to group (output side) */
  PetscInt         hw;    /* weights per edge: k*k (conv), H*W (flatten), 1 */
  char             name[CDN_NAME_LEN];
  /* unrolled graphs only: the layer's geometry (the export walks the pattern without a desc) */
  int op, in_h, in_w, out_h, out_w, kernel, stride, padding;
} cdn_edge_block_t;

typedef struct {
  PetscInt nnodes;
  PetscInt nedges; /* undirected edges, over all ranks */
  int      ngroups;
  char     group_name[CDN_MAX_LAYERS + 1][CDN_NAME_LEN];
  PetscInt group_start[CDN_MAX_LAYERS + 1];
  PetscInt group_size[CDN_MAX_LAYERS + 1];
  int              nblocks;
  cdn_edge_block_t block[CDN_MAX_LAYERS];
  PetscInt         ncoo;  /* COO entries held on this rank (2 * nedges on one rank) */
  PetscInt         rstart, rend; /* rows this rank owns */
  int              unrolled;     /* built by cdn_graph_create_unrolled */
  PetscScalar     *coo_v;
  PetscInt        *coo_pos; /* where COO entry k's value sits in the matrix's arrays */
  Mat              A;
} cdn_graph_t;

/* Allocates *g and builds the pattern for desc's architecture on comm (PETSC_COMM_SELF for a graph
   one rank holds, a team's communicator for a large one: collective, every rank passes the same
   desc). Values are zero until cdn_graph_set_weights. After an error *g is NULL and nothing is held.
   The plans below (cdn_graph_plan, cdn_graph_plan_as) fill a caller's struct instead: they hold no
   memory and need no destroy. */
PetscErrorCode cdn_graph_create(MPI_Comm comm, const cdn_model_desc_t *desc, cdn_graph_t **g);
/* Sets edge weights from desc's current parameters (same architecture as at create); collective,
   each rank reduces only the edges of its own rows. */
PetscErrorCode cdn_graph_set_weights(cdn_graph_t *g, const cdn_model_desc_t *desc);
/* Frees the matrix, the COO arrays and the graph; *g is NULL afterwards (NULL is fine). */
PetscErrorCode cdn_graph_destroy(cdn_graph_t **g);
/* The unrolled graph (Gebhart et al. 2019): one node per channel and pixel position, docs/graph.md "The
   graph" documents it. Refused (CDN_ERR_INPUT, the count and the limit named) when it would have
   more than max_edges edges; residual networks are not supported (CDN_ERR_INPUT). Weights are set
   with cdn_graph_set_weights like a rolled graph. */
PetscErrorCode cdn_graph_create_unrolled(MPI_Comm comm, const cdn_model_desc_t *desc, PetscInt64 max_edges,
                                         cdn_graph_t **g);
/* The graph a job spec asks for: unrolled or rolled, refused (CDN_ERR_INPUT) above max_edges. */
PetscErrorCode cdn_graph_create_as(MPI_Comm comm, const cdn_model_desc_t *desc, int unrolled, PetscInt64 max_edges,
                                   cdn_graph_t **g);
/* The plan cdn_graph_create_as would build (groups, blocks, nnodes, nedges; no matrix), with the
   same refusals: enough to decide where the graph lives before any rank assembles it. */
PetscErrorCode cdn_graph_plan_as(const cdn_model_desc_t *desc, int unrolled, PetscInt64 max_edges, cdn_graph_t *g);
/* Where a graph of nedges edges lives: on team (the ranks that hold the model) when threshold > 0
   and nedges >= threshold, otherwise on PETSC_COMM_SELF. Statistics are the same either way to
   about 1e-10 relative (docs/cluster.md, "Distributed graphs"); the CSV's 9 digits usually hide it. */
MPI_Comm cdn_graph_comm_for(MPI_Comm team, PetscInt64 nedges, PetscInt64 threshold);
/* Only the node groups and edge blocks (no matrix): counts, names, checks. */
PetscErrorCode cdn_graph_plan(const cdn_model_desc_t *desc, cdn_graph_t *g);
/* Matrix Market "coordinate real symmetric", lower triangle, 1-based, written atomically, edges in
   the builder's order. Needs the graph on one rank (a graph on several ranks: PETSC_ERR_SUP). */
PetscErrorCode cdn_graph_export_mtx(const cdn_graph_t *g, const char *path);
/* Node id -> (group index, index inside the group); both -1 for a node outside the graph. */
void cdn_graph_node_group(const cdn_graph_t *g, PetscInt node, int *group, PetscInt *local);

/* A symmetric n x n matrix from m undirected edges (ei[k], ej[k], w[k]), both directions stored,
   for graphs that do not come from a network (tests, imported graphs). Repeated edges add up, in
   the order given (rank 0's edges first, then rank 1's, ...: with the edges split in order, the
   same sum at any rank count); self-loops are refused, on every rank if any rank's list has one.
   Rows are split as PETSc's PETSC_DECIDE splits them. Indices are global; each rank passes its own share of the edges (any
   split: rank 0 may pass them all and the others m = 0). */
PetscErrorCode cdn_graph_mat_from_edges(MPI_Comm comm, PetscInt n, PetscInt m, const PetscInt *ei, const PetscInt *ej,
                                        const PetscReal *w, Mat *A);
