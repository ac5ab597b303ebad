/* The rolled layer graph as a PETSc matrix. The pattern depends only on the architecture, so it is
   built once from COO coordinates and only the values change per epoch. One walk over the edges,
   in the order graph.h documents, serves counting, the pattern, the values and the export, so the
   four can never disagree about which COO slot holds which edge. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include "cnndyn/graph.h"
#include "cnndyn/util.h"
#include "graph_impl.h"

/* |gamma_o| / sqrt(var_o + eps): BatchNorm's per-channel gain (graph.h). */
PetscErrorCode cdn_bn_scale(const cdn_layer_desc_t *bn, PetscInt o, double *s)
{
  PetscFunctionBeginUser;
  PetscCheck(bn->running_var, PETSC_COMM_SELF, CDN_ERR_INPUT, "%s: BatchNorm without running_var", bn->name);
  double gamma = bn->weight ? bn->weight[o] : 1.0;
  *s           = fabs(gamma) / sqrt((double)bn->running_var[o] + (double)bn->eps);
  PetscFunctionReturn(0);
}

/* Edge (o, i)'s weight: |s_o| times the norm of its hw weights (graph.h). */
static inline double edge_weight(const cdn_layer_desc_t *l, PetscInt n0, PetscInt hw, PetscInt o, PetscInt i, double s)
{
  /* Conv [o][i][kh][kw] and linear [o][c*hw + r] both put edge (o, i) at (o*n0 + i)*hw. */
  const float *x = l->weight + ((size_t)o * n0 + i) * hw;
  double       v = 0;

  if (hw == 1) return fabs((double)x[0]) * s;
  for (PetscInt r = 0; r < hw; r++) v += (double)x[r] * x[r];
  return sqrt(v) * s;
}

#define TILE 64

/* A block whose rows on both sides this rank owns (every block on one rank): edge (o, i) is COO
   entries n + 2 (o n0 + i) and the one after (its mirror), so the edges can be visited in any
   order. Tiles of 64 x 64 edges keep both directions' writes (row o's run of columns, and the
   mirror rows' entries o..o+63) in cache: in edge order the mirror entries land a whole row
   apart, one cache miss each, which made writing the values of the 4096 x 4096 FC graph cost
   several times its reading. Slots of a row still fill in column order (PLACE). */
static PetscErrorCode walk_tiles(walker_t *w, const cdn_model_desc_t *d, const cdn_layer_desc_t *l,
                                 const cdn_edge_block_t *b, PetscInt s0, PetscInt n0, PetscInt s1, PetscInt n1)
{
  PetscInt n = w->n;
  double  *scale;

  PetscFunctionBeginUser;
  if (w->mode == WALK_COUNT || w->mode == WALK_ROWS) { /* whole rows at once: no visit per edge */
    for (PetscInt o = 0; o < n1 && w->mode == WALK_ROWS; o++) w->rows[s1 + o - w->g->rstart] += n0;
    for (PetscInt i = 0; i < n0 && w->mode == WALK_ROWS; i++) w->rows[s0 + i - w->g->rstart] += n1;
    w->n = n + 2 * n0 * n1;
    PetscFunctionReturn(0);
  }
  PetscCall(PetscMalloc1(n1, &scale));
  for (PetscInt o = 0; o < n1; o++) scale[o] = 1;
  if (l && b->bn >= 0)
    for (PetscInt o = 0; o < n1; o++) {
      PetscErrorCode ierr = cdn_bn_scale(&d->layer[b->bn], o, &scale[o]);
      if (ierr) { /* a BatchNorm that cannot be folded (a bad variance): scale goes before the error */
        PetscCall(PetscFree(scale));
        PetscCall(ierr);
      }
    }
  for (PetscInt o0 = 0; o0 < n1; o0 += TILE)
    for (PetscInt i0 = 0; i0 < n0; i0 += TILE)
      for (PetscInt o = o0; o < PetscMin(o0 + TILE, n1); o++)
        if (w->mode == WALK_VALUES) { /* cdn_put with both rows owned, without its tests per entry */
          PetscScalar    *cv = w->g->coo_v, *dst = w->dst;
          const PetscInt *pos = w->g->coo_pos;
          for (PetscInt i = i0, k = n + 2 * (o * n0 + i0); i < PetscMin(i0 + TILE, n0); i++, k += 2) {
            cv[k] = cv[k + 1] = edge_weight(l, n0, b->hw, o, i, scale[o]);
            if (dst) dst[pos[k]] = cv[k] + 0.0, dst[pos[k + 1]] = cv[k] + 0.0;
          }
        } else
          for (PetscInt i = i0; i < PetscMin(i0 + TILE, n0); i++) {
            w->n = n + 2 * (o * n0 + i);
            cdn_put(w, s1 + o, s0 + i, 0);
          }
  w->n = n + 2 * n0 * n1;
  PetscCall(PetscFree(scale));
  PetscFunctionReturn(0);
}

static PetscErrorCode walk_block(walker_t *w, const cdn_model_desc_t *d, const cdn_edge_block_t *b)
{
  cdn_graph_t *g  = w->g;
  PetscInt     s0 = g->group_start[b->g0], n0 = g->group_size[b->g0], s1 = g->group_start[b->g1];
  PetscInt     n1 = g->group_size[b->g1], hw = b->hw;
  int          vals = w->mode == WALK_VALUES;

  PetscFunctionBeginUser;
  if (b->kind == CDN_BLOCK_IDENTITY) {
    for (PetscInt c = 0; c < n0; c++) cdn_put(w, s1 + c, s0 + c, 1.0);
    PetscFunctionReturn(0);
  }
  const cdn_layer_desc_t *l = vals ? &d->layer[b->layer] : NULL; /* counting and patterns need no weights */
  PetscCheck(!vals || l->weight, PETSC_COMM_SELF, PETSC_ERR_ARG_NULL, "%s: no weights", l->name);
  /* A rank's rows are one contiguous range: blocks entirely outside it only advance nothing. */
  int mine0 = s0 < g->rend && s0 + n0 > g->rstart, mine1 = s1 < g->rend && s1 + n1 > g->rstart;
  if (!mine0 && !mine1) PetscFunctionReturn(0);
  if (cdn_owns(g, s0) && cdn_owns(g, s0 + n0 - 1) && cdn_owns(g, s1) && cdn_owns(g, s1 + n1 - 1)) {
    PetscCall(walk_tiles(w, d, l, b, s0, n0, s1, n1));
    PetscFunctionReturn(0);
  }
  for (PetscInt o = 0; o < n1; o++) {
    double s = 1;
    if (vals && b->bn >= 0) PetscCall(cdn_bn_scale(&d->layer[b->bn], o, &s));
    if (!cdn_owns(g, s1 + o) && !mine0) continue;
    for (PetscInt i = 0; i < n0; i++)
      cdn_put(w, s1 + o, s0 + i, vals && (cdn_owns(g, s1 + o) || cdn_owns(g, s0 + i)) ? edge_weight(l, n0, hw, o, i, s) : 0);
  }
  PetscFunctionReturn(0);
}

static PetscErrorCode walk(walker_t *w, const cdn_model_desc_t *d)
{
  PetscFunctionBeginUser;
  w->n = 0;
  if (w->g->unrolled) PetscCall(cdn_unrolled_walk(w, d));
  else for (int b = 0; b < w->g->nblocks; b++) PetscCall(walk_block(w, d, &w->g->block[b]));
  PetscFunctionReturn(0);
}

/* This rank's rows of a graph held by several: contiguous ranges with about the same number of
   matrix entries each, since the solvers' work is a sparse mat-vec per iteration, which goes by
   entries, while layers differ in size by orders of magnitude (PETSc's even row split left one
   rank of a team 2.8x the entries of the other on unrolled graphs). Every rank walks the whole
   pattern once and computes the same split: rank k's rows start at the first row before which
   k/size of all entries lie. */
static PetscErrorCode balanced_rows(MPI_Comm comm, const cdn_model_desc_t *desc, cdn_graph_t *g, PetscInt *nlocal)
{
  PetscMPIInt size, rank;
  PetscInt   *count, start = -1, end = -1;
  PetscInt64  total, before = 0;
  walker_t    w;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_size(comm, &size));
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  if (size == 1) {
    *nlocal = g->nnodes;
    PetscFunctionReturn(0);
  }
  PetscCall(PetscCalloc1(g->nnodes + 1, &count));
  g->rstart = 0, g->rend = g->nnodes; /* every row, for the count */
  w         = (walker_t){.g = g, .mode = WALK_ROWS, .rows = count};
  PetscCall(walk(&w, desc));
  total = w.n;
  for (PetscInt r = 0; r <= g->nnodes && end < 0; r++) {
    if (start < 0 && before >= total * rank / size) start = r;
    if (start >= 0 && rank < size - 1 && before >= total * (rank + 1) / size) end = r;
    if (r < g->nnodes) before += count[r];
  }
  if (rank == size - 1) end = g->nnodes; /* rows after the last entry too */
  *nlocal = end - start;
  PetscCall(PetscFree(count));
  PetscFunctionReturn(0);
}

/* From a plan to the matrix: this rank's rows, their pattern, zero values. */
static PetscErrorCode assemble(MPI_Comm comm, const cdn_model_desc_t *desc, cdn_graph_t *g)
{
  PetscInt nlocal, end, *ptr;
  walker_t w;

  PetscFunctionBeginUser;
  PetscCall(balanced_rows(comm, desc, g, &nlocal));
  PetscCallMPI(MPI_Scan(&nlocal, &end, 1, MPIU_INT, MPI_SUM, comm));
  g->rstart = end - nlocal, g->rend = end;
  /* Entries per row, then each entry's column straight into its row: no coordinates in between. */
  PetscCall(PetscCalloc1(nlocal + 1, &ptr));
  w = (walker_t){.g = g, .mode = WALK_ROWS, .rows = ptr + 1};
  PetscCall(walk(&w, desc));
  g->ncoo = w.n;
  for (PetscInt r = 0; r < nlocal; r++) ptr[r + 1] += ptr[r];
  PetscCall(cdn_big_calloc((g->ncoo + 1) * sizeof(PetscScalar), &g->coo_v));
  PetscCall(cdn_big_calloc((g->ncoo + 1) * sizeof(PetscInt), &g->coo_pos));
  PetscCall(cdn_big_calloc((g->ncoo + 1) * sizeof(PetscInt), &w.col));
  PetscCall(PetscMalloc1(nlocal + 1, &w.rows));
  PetscCall(PetscArraycpy(w.rows, ptr, nlocal));
  w.mode = WALK_PLACE, w.pos = g->coo_pos;
  PetscCall(walk(&w, desc));
  PetscCall(PetscFree(w.rows));
  PetscCall(cdn_csr_create(comm, g->rstart, nlocal, g->nnodes, g->ncoo, ptr, w.col, g->coo_pos, &g->A));
  PetscFunctionReturn(0);
}

/* A planned graph's matrix: *out is the graph, or NULL after an error with nothing left held. */
static PetscErrorCode create_planned(MPI_Comm comm, const cdn_model_desc_t *desc, int unrolled, PetscInt64 max_edges,
                                     cdn_graph_t **out)
{
  cdn_graph_t   *g;
  PetscErrorCode ierr;

  PetscFunctionBeginUser;
  *out = NULL;
  PetscCall(PetscNew(&g));
  ierr = cdn_graph_plan_as(desc, unrolled, max_edges, g);
  if (!ierr) ierr = assemble(comm, desc, g);
  if (ierr) {
    PetscCall(cdn_graph_destroy(&g));
    PetscCall(ierr);
  }
  *out = g;
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_graph_create(MPI_Comm comm, const cdn_model_desc_t *desc, cdn_graph_t **g)
{
  PetscFunctionBeginUser;
  PetscCall(create_planned(comm, desc, 0, INT64_MAX, g));
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_graph_create_unrolled(MPI_Comm comm, const cdn_model_desc_t *desc, PetscInt64 max_edges,
                                         cdn_graph_t **g)
{
  PetscFunctionBeginUser;
  PetscCall(create_planned(comm, desc, 1, max_edges, g));
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_graph_plan_as(const cdn_model_desc_t *desc, int unrolled, PetscInt64 max_edges, cdn_graph_t *g)
{
  PetscFunctionBeginUser;
  PetscCall(PetscMemzero(g, sizeof *g));
  if (unrolled) PetscCall(cdn_unrolled_plan(desc, max_edges, g));
  else {
    PetscCall(cdn_graph_plan(desc, g));
    PetscCheck(g->nedges <= max_edges, PETSC_COMM_SELF, CDN_ERR_INPUT,
               "%s: the graph would have %lld edges, more than the limit of %lld ([graph] max_edges)", desc->arch,
               (long long)g->nedges, (long long)max_edges);
  }
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_graph_create_as(MPI_Comm comm, const cdn_model_desc_t *desc, int unrolled, PetscInt64 max_edges,
                                   cdn_graph_t **g)
{
  PetscFunctionBeginUser;
  PetscCall(create_planned(comm, desc, unrolled, max_edges, g));
  PetscFunctionReturn(0);
}

MPI_Comm cdn_graph_comm_for(MPI_Comm team, PetscInt64 nedges, PetscInt64 threshold)
{
  return threshold > 0 && nedges >= threshold ? team : PETSC_COMM_SELF;
}

/* Weights are read as float and reduced in double: an exploded net with entries near 1e18 still
   gives finite squares, and NaN or Inf weights pass through to the statistics, which define them. */
PetscErrorCode cdn_graph_set_weights(cdn_graph_t *g, const cdn_model_desc_t *desc)
{
  cdn_graph_t    shape;
  walker_t       w = {.g = g, .mode = WALK_VALUES};
  PetscErrorCode ierr;
  PetscBool      direct;

  PetscFunctionBeginUser;
  PetscCall(PetscMemzero(&shape, sizeof shape));
  if (g->unrolled) PetscCall(cdn_unrolled_plan(desc, PETSC_MAX_INT, &shape));
  else PetscCall(cdn_graph_plan(desc, &shape));
  int same = shape.ngroups == g->ngroups && shape.nblocks == g->nblocks && shape.nnodes == g->nnodes &&
             shape.nedges == g->nedges;
  for (int k = 0; same && k < g->ngroups; k++) same = shape.group_size[k] == g->group_size[k];
  PetscCheck(same, PETSC_COMM_SELF, CDN_ERR_INPUT, "%s: architecture differs from the one the graph was created for",
             desc->arch);
  /* Values straight into the matrix during the walk where it can (no second pass over them). */
  PetscCall(cdn_csr_values_begin(g->A, &w.dst));
  direct = w.dst != NULL;
  ierr   = walk(&w, desc);
  if (direct) PetscCall(cdn_csr_values_end(g->A, &w.dst));
  PetscCall(ierr); /* after the array is returned */
  if (!direct) PetscCall(cdn_csr_set_values(g->A, g->ncoo, g->coo_pos, g->coo_v));
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_graph_destroy(cdn_graph_t **g)
{
  PetscFunctionBeginUser;
  if (!g || !*g) PetscFunctionReturn(0);
  PetscCall(MatDestroy(&(*g)->A));
  cdn_big_free((*g)->coo_v), cdn_big_free((*g)->coo_pos);
  PetscCall(PetscFree(*g));
  PetscFunctionReturn(0);
}

/* Written from the COO values in the builder's edge order, independent of PETSc's storage. */
PetscErrorCode cdn_graph_export_mtx(const cdn_graph_t *g, const char *path)
{
  cdn_afile_t af = {0};
  walker_t    w  = {.g = (cdn_graph_t *)g, .mode = WALK_PATTERN};
  int         bad;

  PetscFunctionBeginUser;
  PetscCheck(g->rstart == 0 && g->rend == g->nnodes, PETSC_COMM_SELF, PETSC_ERR_SUP,
             "%s: export needs the graph on one rank", path);
  PetscCall(PetscMalloc2(g->ncoo, &w.ci, g->ncoo, &w.cj));
  PetscCall(walk(&w, NULL)); /* the pattern walk reads no weights */
  PetscCall(cdn_afile_open(&af, path));
  bad = fprintf(af.fp, "%%%%MatrixMarket matrix coordinate real symmetric\n%d %d %d\n", (int)g->nnodes,
                (int)g->nnodes, (int)g->nedges) < 0;
  for (PetscInt c = 0; c < g->ncoo && !bad; c++)
    if (w.ci[c] > w.cj[c]) bad = fprintf(af.fp, "%d %d %.17g\n", (int)w.ci[c] + 1, (int)w.cj[c] + 1, (double)g->coo_v[c]) < 0;
  PetscCall(PetscFree2(w.ci, w.cj));
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
