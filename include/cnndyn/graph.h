#pragma once
/* A network's weights as a weighted undirected graph (rolled: one node per channel or neuron).
   Node order: the input channels, then the output channels or neurons of each conv or linear layer
   in stack order. Each such block is a "node group" named after its layer ("input", "conv1", ...).
   Edges join consecutive groups, complete bipartite:
     conv (o, i)      -> ||W[o,i,:,:]||_2 (Frobenius norm of the kernel slice)
     flatten (o, c)   -> ||W[o, c*H*W : (c+1)*H*W]||_2 (the linear weights joining neuron o to channel c)
     linear (o, i)    -> |W[o,i]|
   The matrix is symmetric (both (i,j) and (j,i) stored). Its pattern is fixed per architecture and
   assembled once (MatSetPreallocationCOO); values are set per epoch (MatSetValuesCOO).
   COO entry 2e is edge e as (later group's node, earlier group's node), 2e+1 its mirror; edges run
   layer by layer, output-major. Weights are reduced in double; NaN/Inf weights pass through.
   Only single-rank communicators are supported for now (checked). */
#include <petscmat.h>
#include "cnndyn/model.h"

typedef struct {
  PetscInt nnodes;
  PetscInt nedges; /* undirected edges */
  int      ngroups;
  char     group_name[CDN_MAX_LAYERS + 1][CDN_NAME_LEN];
  PetscInt group_start[CDN_MAX_LAYERS + 1];
  PetscInt group_size[CDN_MAX_LAYERS + 1];
  PetscInt    ncoo;  /* 2 * nedges */
  PetscInt    *coo_i, *coo_j;
  PetscScalar *coo_v;
  Mat          A;
} cdn_graph_t;

/* Builds the pattern for desc's architecture on comm (PETSC_COMM_SELF for a graph one rank holds).
   Values are zero until cdn_graph_set_weights. */
PetscErrorCode cdn_graph_create(MPI_Comm comm, const cdn_model_desc_t *desc, cdn_graph_t *g);
/* Sets edge weights from desc's current parameters (same architecture as at create). */
PetscErrorCode cdn_graph_set_weights(cdn_graph_t *g, const cdn_model_desc_t *desc);
PetscErrorCode cdn_graph_destroy(cdn_graph_t *g);
/* Matrix Market "coordinate real symmetric", lower triangle, 1-based, written atomically. */
PetscErrorCode cdn_graph_export_mtx(const cdn_graph_t *g, const char *path);
/* Node id -> (group index, index inside the group); both -1 for a node outside the graph. */
void cdn_graph_node_group(const cdn_graph_t *g, PetscInt node, int *group, PetscInt *local);

/* A symmetric n x n matrix from m undirected edges (ei[k], ej[k], w[k]), both directions stored,
   for graphs that do not come from a network (tests, imported graphs). Repeated edges add up;
   self-loops are refused. Indices are global and given on rank 0; other ranks pass m = 0. */
PetscErrorCode cdn_graph_mat_from_edges(MPI_Comm comm, PetscInt n, PetscInt m, const PetscInt *ei, const PetscInt *ej,
                                        const PetscReal *w, Mat *A);
