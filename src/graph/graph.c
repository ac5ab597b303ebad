/* The rolled layer graph: one node per channel or neuron, one edge per (output, input) pair of
   consecutive parametric layers. The pattern depends only on the architecture, so it is built once
   as COO coordinates and only the values change per epoch. */
#include <math.h>
#include <stdlib.h>
#include "cnndyn/graph.h"
#include "cnndyn/util.h"

/* Visits the parametric layers in order, with the size of the group before each one. The block
   size hw is how many weights join one neuron to one node of the previous group: 1 for a linear
   layer after a linear layer, H*W for the first linear layer after a flatten (PyTorch flattens in
   C,H,W order, so channel c owns the contiguous slice c*H*W .. (c+1)*H*W). */
static PetscErrorCode layer_block(const cdn_layer_desc_t *l, PetscInt prev, PetscInt *hw)
{
  PetscFunctionBeginUser;
  if (l->op == CDN_OP_CONV2D) {
    PetscCheck(l->in_c == prev, PETSC_COMM_SELF, CDN_ERR_INPUT,
               "%s: conv layer has %d input channels but the previous layer gives %d", l->name, l->in_c, (int)prev);
    PetscCheck(l->kernel > 0, PETSC_COMM_SELF, CDN_ERR_INPUT, "%s: kernel size %d", l->name, l->kernel);
    *hw = (PetscInt)l->kernel * l->kernel;
  } else {
    PetscCheck(prev > 0 && l->in_c > 0 && l->in_c % prev == 0, PETSC_COMM_SELF, CDN_ERR_INPUT,
               "%s: linear layer has %d inputs, not a multiple of the %d nodes before it", l->name, l->in_c,
               (int)prev);
    *hw = l->in_c / prev;
  }
  PetscCheck(l->out_c > 0, PETSC_COMM_SELF, CDN_ERR_INPUT, "%s: %d outputs", l->name, l->out_c);
  PetscFunctionReturn(0);
}

/* Fills the node groups from desc; counts edges in 64 bits so an oversized net fails cleanly
   instead of wrapping 32-bit PetscInt. */
static PetscErrorCode build_groups(const cdn_model_desc_t *desc, cdn_graph_t *g)
{
  PetscInt64 nodes, edges = 0;
  PetscInt   hw;

  PetscFunctionBeginUser;
  PetscCheck(desc->in_c > 0, PETSC_COMM_SELF, CDN_ERR_INPUT, "%s: %d input channels", desc->arch, desc->in_c);
  g->ngroups = 1;
  snprintf(g->group_name[0], CDN_NAME_LEN, "input");
  g->group_start[0] = 0;
  g->group_size[0]  = desc->in_c;
  nodes             = desc->in_c;
  for (int k = 0; k < desc->nlayers; k++) {
    const cdn_layer_desc_t *l = &desc->layer[k];
    if (!cdn_layer_has_params(l)) continue;
    PetscInt prev = g->group_size[g->ngroups - 1];
    PetscCall(layer_block(l, prev, &hw));
    snprintf(g->group_name[g->ngroups], CDN_NAME_LEN, "%s", l->name);
    g->group_start[g->ngroups] = (PetscInt)nodes;
    g->group_size[g->ngroups]  = l->out_c;
    g->ngroups++;
    nodes += l->out_c;
    edges += (PetscInt64)l->out_c * prev;
  }
  PetscCheck(2 * edges < PETSC_MAX_INT && nodes < PETSC_MAX_INT, PETSC_COMM_SELF, PETSC_ERR_SUP,
             "%s: graph too large for 32-bit indices (%lld edges)", desc->arch, (long long)edges);
  g->nnodes = (PetscInt)nodes;
  g->nedges = (PetscInt)edges;
  g->ncoo   = (PetscInt)(2 * edges);
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_graph_create(MPI_Comm comm, const cdn_model_desc_t *desc, cdn_graph_t *g)
{
  PetscMPIInt size;
  PetscInt   *ci, *cj, e = 0;

  PetscFunctionBeginUser;
  PetscCall(PetscMemzero(g, sizeof *g));
  PetscCallMPI(MPI_Comm_size(comm, &size));
  PetscCheck(size == 1, comm, PETSC_ERR_SUP,
             "cdn_graph_create: a graph spread over %d ranks is not supported yet; use PETSC_COMM_SELF", size);
  PetscCall(build_groups(desc, g));
  PetscCall(PetscMalloc3(g->ncoo, &g->coo_i, g->ncoo, &g->coo_j, g->ncoo, &g->coo_v));
  /* Edge e is stored twice, at 2e (output row) and 2e+1 (its mirror), so the matrix is symmetric. */
  for (int k = 1; k < g->ngroups; k++) {
    PetscInt s0 = g->group_start[k - 1], n0 = g->group_size[k - 1], s1 = g->group_start[k];
    for (PetscInt o = 0; o < g->group_size[k]; o++)
      for (PetscInt i = 0; i < n0; i++, e++) {
        g->coo_i[2 * e] = g->coo_j[2 * e + 1] = s1 + o;
        g->coo_j[2 * e] = g->coo_i[2 * e + 1] = s0 + i;
      }
  }
  for (PetscInt c = 0; c < g->ncoo; c++) g->coo_v[c] = 0;
  PetscCall(MatCreate(comm, &g->A));
  PetscCall(MatSetSizes(g->A, g->nnodes, g->nnodes, g->nnodes, g->nnodes));
  PetscCall(MatSetType(g->A, MATAIJ));
  /* PETSc may reorder the index arrays it is given; keep ours intact for export. */
  PetscCall(PetscMalloc2(g->ncoo, &ci, g->ncoo, &cj));
  PetscCall(PetscArraycpy(ci, g->coo_i, g->ncoo));
  PetscCall(PetscArraycpy(cj, g->coo_j, g->ncoo));
  PetscCall(MatSetPreallocationCOO(g->A, g->ncoo, ci, cj));
  PetscCall(PetscFree2(ci, cj));
  PetscCall(MatSetValuesCOO(g->A, g->coo_v, INSERT_VALUES));
  PetscFunctionReturn(0);
}

/* Weights are read as float and reduced in double: an exploded net with entries near 1e18 still
   gives finite squares, and NaN or Inf weights pass through to the statistics, which define them. */
PetscErrorCode cdn_graph_set_weights(cdn_graph_t *g, const cdn_model_desc_t *desc)
{
  cdn_graph_t shape;
  PetscInt    e = 0, hw;
  int         grp = 1;

  PetscFunctionBeginUser;
  PetscCall(PetscMemzero(&shape, sizeof shape));
  PetscCall(build_groups(desc, &shape));
  PetscCheck(shape.ngroups == g->ngroups && shape.nnodes == g->nnodes && shape.nedges == g->nedges, PETSC_COMM_SELF,
             CDN_ERR_INPUT, "%s: architecture differs from the one the graph was created for", desc->arch);
  for (int k = 0; k < desc->nlayers; k++) {
    const cdn_layer_desc_t *l = &desc->layer[k];
    if (!cdn_layer_has_params(l)) continue;
    PetscInt n0 = g->group_size[grp - 1];
    PetscCheck(l->out_c == g->group_size[grp], PETSC_COMM_SELF, CDN_ERR_INPUT,
               "%s: %d outputs, graph group has %d", l->name, l->out_c, (int)g->group_size[grp]);
    PetscCheck(l->weight, PETSC_COMM_SELF, PETSC_ERR_ARG_NULL, "%s: no weights", l->name);
    PetscCall(layer_block(l, n0, &hw));
    /* Conv [o][i][kh][kw] and linear [o][c*hw + r] both put edge (o, i) at o*n0*hw + i*hw. */
    for (PetscInt o = 0; o < l->out_c; o++)
      for (PetscInt i = 0; i < n0; i++, e++) {
        const float *w = l->weight + ((size_t)o * n0 + i) * hw;
        double       s = 0;
        for (PetscInt r = 0; r < hw; r++) s += (double)w[r] * w[r];
        g->coo_v[2 * e] = g->coo_v[2 * e + 1] = hw == 1 ? fabs((double)w[0]) : sqrt(s);
      }
    grp++;
  }
  PetscCall(MatSetValuesCOO(g->A, g->coo_v, INSERT_VALUES));
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_graph_destroy(cdn_graph_t *g)
{
  PetscFunctionBeginUser;
  PetscCall(MatDestroy(&g->A));
  PetscCall(PetscFree3(g->coo_i, g->coo_j, g->coo_v));
  g->ncoo = g->nnodes = g->nedges = 0;
  PetscFunctionReturn(0);
}

/* Written from the COO arrays, so the edge order is the builder's and independent of PETSc's. */
PetscErrorCode cdn_graph_export_mtx(const cdn_graph_t *g, const char *path)
{
  cdn_afile_t af = {0};
  int         bad;

  PetscFunctionBeginUser;
  PetscCall(cdn_afile_open(&af, path));
  bad = fprintf(af.fp, "%%%%MatrixMarket matrix coordinate real symmetric\n%d %d %d\n", (int)g->nnodes,
                (int)g->nnodes, (int)g->nedges) < 0;
  for (PetscInt c = 0; c < g->ncoo && !bad; c++)
    if (g->coo_i[c] > g->coo_j[c])
      bad = fprintf(af.fp, "%d %d %.17g\n", (int)g->coo_i[c] + 1, (int)g->coo_j[c] + 1, (double)g->coo_v[c]) < 0;
  if (bad) {
    cdn_afile_abort(&af);
    SETERRQ(PETSC_COMM_SELF, CDN_ERR_WRITE, "%s: cannot write", path);
  }
  PetscCall(cdn_afile_commit(&af));
  PetscFunctionReturn(0);
}

/* Groups are few (one per layer), so a linear scan is fine; out-of-range nodes give -1. */
void cdn_graph_node_group(const cdn_graph_t *g, PetscInt node, int *group, PetscInt *local)
{
  *group = -1;
  *local = -1;
  for (int k = 0; k < g->ngroups; k++)
    if (node >= g->group_start[k] && node < g->group_start[k] + g->group_size[k]) {
      *group = k;
      *local = node - g->group_start[k];
      return;
    }
}
