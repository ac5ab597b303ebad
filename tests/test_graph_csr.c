/* The graph matrices are assembled straight into AIJ arrays (src/graph/csr.c). They must be the
   matrices PETSc's COO assembly gives, bit for bit: the same rows, columns, values, diagonal and
   off-diagonal blocks, and so the same mat-vec to the last bit (the features' byte identity rests
   on it). Run alone and under mpirun -n 2 (graphs.cmake). The reference is built with
   MatSetPreallocationCOO from the graph's own Matrix Market export, which is written from the
   per-entry values in edge order, independent of the matrix. */
#include <unistd.h>
#include "check.h"
#include "families.h"
#include "cnndyn/graph.h"
#include "cnndyn/util.h"
#include "../src/graph/graph_impl.h"

static void fill(cdn_model_desc_t *d, uint64_t seed)
{
  cdn_rng_t rng;
  cdn_rng_seed(&rng, seed, 0);
  for (int k = 0; k < d->nlayers; k++) {
    cdn_layer_desc_t *l = &d->layer[k];
    int               n = l->op == CDN_OP_BATCHNORM ? l->out_c : cdn_layer_weight_count(l);
    for (int i = 0; l->weight && i < n; i++) l->weight[i] = (float)cdn_rng_normal(&rng);
    for (int i = 0; l->running_var && i < n; i++) l->running_var[i] = (float)(0.5 + cdn_rng_uniform(&rng));
  }
}

/* Bitwise: every local row's columns and values, the block sizes, and A x for a fixed x. */
static int same_matrix(Mat A, Mat R)
{
  PetscInt  r0, r1, q0, q1, bad = 0;
  PetscBool mpi;
  Vec       x, ya, yr;

  MatGetOwnershipRange(A, &r0, &r1);
  MatGetOwnershipRange(R, &q0, &q1);
  if (r0 != q0 || r1 != q1) return 0;
  for (PetscInt r = r0; r < r1; r++) {
    PetscInt           na, nr;
    const PetscInt    *ca, *cr;
    const PetscScalar *va, *vr;
    MatGetRow(A, r, &na, &ca, &va);
    MatGetRow(R, r, &nr, &cr, &vr);
    bad += na != nr || (na && (memcmp(ca, cr, na * sizeof *ca) || memcmp(va, vr, na * sizeof *va))); /* empty rows: NULL */
    MatRestoreRow(A, r, &na, &ca, &va);
    MatRestoreRow(R, r, &nr, &cr, &vr);
  }
  PetscObjectTypeCompare((PetscObject)A, MATMPIAIJ, &mpi);
  if (mpi) {
    Mat     ad, ao, rd, ro;
    MatInfo i1, i2, i3, i4;
    MatMPIAIJGetSeqAIJ(A, &ad, &ao, NULL), MatMPIAIJGetSeqAIJ(R, &rd, &ro, NULL);
    MatGetInfo(ad, MAT_LOCAL, &i1), MatGetInfo(rd, MAT_LOCAL, &i2);
    MatGetInfo(ao, MAT_LOCAL, &i3), MatGetInfo(ro, MAT_LOCAL, &i4);
    bad += i1.nz_used != i2.nz_used || i3.nz_used != i4.nz_used;
  }
  MatCreateVecs(A, &x, &ya);
  VecDuplicate(ya, &yr);
  for (PetscInt r = r0; r < r1; r++) VecSetValue(x, r, 1.0 / (r + 3.0), INSERT_VALUES);
  VecAssemblyBegin(x), VecAssemblyEnd(x);
  MatMult(A, x, ya), MatMult(R, x, yr);
  const PetscScalar *a, *b;
  VecGetArrayRead(ya, &a), VecGetArrayRead(yr, &b);
  bad += memcmp(a, b, (r1 - r0) * sizeof *a) != 0;
  VecRestoreArrayRead(ya, &a), VecRestoreArrayRead(yr, &b);
  VecDestroy(&x), VecDestroy(&ya), VecDestroy(&yr);
  MPI_Allreduce(MPI_IN_PLACE, &bad, 1, MPIU_INT, MPI_SUM, PetscObjectComm((PetscObject)A));
  return bad == 0;
}

/* The COO reference of a graph's rows [r0, r1) on comm, from the export of the same graph on one rank. */
static Mat coo_reference(MPI_Comm comm, const cdn_graph_t *g1, PetscInt r0, PetscInt r1)
{
  char        path[64];
  PetscMPIInt rank;
  int         n, m, nz, i, j;
  double      v;
  PetscInt   *ci, *cj, k = 0;
  PetscScalar *cv;
  Mat          R;
  FILE        *fp;

  MPI_Comm_rank(PETSC_COMM_WORLD, &rank);
  snprintf(path, sizeof path, "graph_csr_%d_%d.mtx", (int)getpid(), (int)rank);
  CHECK(!cdn_graph_export_mtx(g1, path));
  fp = fopen(path, "r");
  CHECK(fp && fscanf(fp, "%%%%MatrixMarket matrix coordinate real symmetric\n%d %d %d", &n, &m, &nz) == 3);
  ci = malloc(2 * nz * sizeof *ci), cj = malloc(2 * nz * sizeof *cj), cv = malloc(2 * nz * sizeof *cv);
  while (fp && fscanf(fp, "%d %d %lf", &i, &j, &v) == 3) {
    if (i - 1 >= r0 && i - 1 < r1) ci[k] = i - 1, cj[k] = j - 1, cv[k++] = v;
    if (j - 1 >= r0 && j - 1 < r1) ci[k] = j - 1, cj[k] = i - 1, cv[k++] = v;
  }
  if (fp) fclose(fp);
  unlink(path);
  MatCreate(comm, &R);
  MatSetSizes(R, r1 - r0, r1 - r0, n, n);
  MatSetType(R, MATAIJ);
  MatSetPreallocationCOO(R, k, ci, cj);
  MatSetValuesCOO(R, cv, INSERT_VALUES);
  free(ci), free(cj), free(cv);
  return R;
}

static void check_graph(cdn_model_desc_t *d, int unrolled)
{
  cdn_graph_t *g1 = NULL, *gw = NULL;
  PetscInt    r0, r1;
  Mat         R;

  CHECK(!cdn_graph_create_as(PETSC_COMM_SELF, d, unrolled, 1000000, &g1));
  CHECK(!cdn_graph_create_as(PETSC_COMM_WORLD, d, unrolled, 1000000, &gw));
  CHECK(!cdn_graph_set_weights(gw, d)); /* a first epoch, then the one compared */
  fill(d, 77);
  CHECK(!cdn_graph_set_weights(g1, d) && !cdn_graph_set_weights(gw, d));
  R = coo_reference(PETSC_COMM_SELF, g1, 0, g1->nnodes);
  CHECK(same_matrix(g1->A, R));
  MatDestroy(&R);
  MatGetOwnershipRange(gw->A, &r0, &r1);
  R = coo_reference(PETSC_COMM_WORLD, g1, r0, r1);
  CHECK(same_matrix(gw->A, R));
  MatDestroy(&R);
  CHECK(!cdn_graph_destroy(&g1) && !cdn_graph_destroy(&gw));
}

/* A residual block whose main path is one conv: its edges and the identity shortcut's join the
   same two groups, so the diagonal pairs are repeated entries, summed. */
static void fam_short_residual(cdn_model_desc_t *d)
{
  fam_begin(d, "short", 3, 6, 10);
  int c1 = FAM(CDN_OP_CONV2D, "conv1", 4, 3, 1, 1);
  FAM(CDN_OP_CONV2D, "conv2", 4, 3, 1, 1);
  int a = FAM(CDN_OP_ADD, "add", 0, 0, 0, 0);
  d->layer[a].src2 = c1;
  FAM(CDN_OP_GLOBALAVGPOOL, "gap", 0, 0, 0, 0), FAM(CDN_OP_FLATTEN, "flatten", 0, 0, 0, 0);
  FAM(CDN_OP_LINEAR, "fc", 10, 0, 0, 0);
}

/* One linear layer with BatchNorm: one block, visited in tiles of 64 x 64 edges (graph.c), its
   sides not a multiple of 64. */
static void fam_fc(cdn_model_desc_t *d)
{
  fam_begin(d, "fc", 100, 1, 150);
  FAM(CDN_OP_FLATTEN, "flatten", 0, 0, 0, 0), FAM(CDN_OP_LINEAR, "fc", 150, 0, 0, 0);
  FAM(CDN_OP_BATCHNORM, "bn", 0, 0, 0, 0);
}

/* A random graph of n nodes from m edges (the last fifth repeat earlier ones, summed in edge
   order), split over the ranks in order: the same matrix as COO with ADD_VALUES. COO sums three or
   more entries of one position in its own order, not the edges', so with many edges (layers > 0)
   the first four fifths are distinct node pairs, in random order: layer L joins each node i to
   i + L + 1, and each repeat is one of them (every other one turned around), so every position
   sums at most two entries. */
static void check_random_edges(PetscInt n, PetscInt m, PetscInt layers, uint64_t seed)
{
  PetscMPIInt  rank, size;
  PetscInt    *ei = malloc(m * sizeof *ei), *ej = malloc(m * sizeof *ej), lo, hi;
  PetscReal   *w  = malloc(m * sizeof *w);
  PetscInt    *ci = malloc(2 * m * sizeof *ci), *cj = malloc(2 * m * sizeof *cj), k = 0;
  PetscScalar *cv = malloc(2 * m * sizeof *cv);
  cdn_rng_t    rng;
  Mat          A, R;

  MPI_Comm_rank(PETSC_COMM_WORLD, &rank), MPI_Comm_size(PETSC_COMM_WORLD, &size);
  cdn_rng_seed(&rng, seed, 0);
  for (PetscInt e = 0; e < m; e++) {
    ei[e] = (PetscInt)(cdn_rng_uniform(&rng) * n) % n;
    ej[e] = (ei[e] + 1 + (PetscInt)(cdn_rng_uniform(&rng) * (n - 1)) % (n - 1)) % n;
    w[e]  = cdn_rng_uniform(&rng);
  }
  if (layers) {
    CHECK(4 * m / 5 == layers * n && layers < n / 2); /* distinct pairs: offsets below n / 2 */
    for (PetscInt e = 0; e < 4 * m / 5; e++) ei[e] = e % n, ej[e] = (e % n + e / n + 1) % n;
    for (PetscInt e = 4 * m / 5 - 1; e > 0; e--) { /* shuffled */
      PetscInt t = (PetscInt)(cdn_rng_uniform(&rng) * (e + 1)) % (e + 1), a = ei[e], b = ej[e];
      ei[e] = ei[t], ej[e] = ej[t], ei[t] = a, ej[t] = b;
    }
  }
  for (PetscInt e = 4 * m / 5, f; e < m; e++)
    f = e - 4 * m / 5, ei[e] = e % 2 ? ej[f] : ei[f], ej[e] = e % 2 ? ei[f] : ej[f];
  lo = m * rank / size, hi = m * (rank + 1) / size;
  CHECK(!cdn_graph_mat_from_edges(PETSC_COMM_WORLD, n, hi - lo, ei + lo, ej + lo, w + lo, &A));
  for (PetscInt e = lo; e < hi; e++) {
    ci[k] = ei[e], cj[k] = ej[e], cv[k++] = w[e];
    ci[k] = ej[e], cj[k] = ei[e], cv[k++] = w[e];
  }
  MatCreate(PETSC_COMM_WORLD, &R);
  MatSetSizes(R, PETSC_DECIDE, PETSC_DECIDE, n, n);
  MatSetType(R, MATAIJ);
  MatSetPreallocationCOO(R, k, ci, cj);
  MatSetValuesCOO(R, cv, ADD_VALUES);
  if (!same_matrix(A, R)) fprintf(stderr, "DIFF n=%d m=%d\n", (int)n, (int)m);
  CHECK(same_matrix(A, R));
  MatDestroy(&A), MatDestroy(&R);
  free(ei), free(ej), free(w), free(ci), free(cj), free(cv);
}

/* Edge lists: the same matrix as COO with ADD_VALUES, and repeated edges summed in the order the
   edges come, rank by rank (the first rank's first). */
static PetscErrorCode check_edges(void)
{
  PetscMPIInt rank, size;
  PetscInt    r0, r1, lo, hi;
  Mat         A;

  MPI_Comm_rank(PETSC_COMM_WORLD, &rank), MPI_Comm_size(PETSC_COMM_WORLD, &size);
  check_random_edges(400, 300, 0, 5); /* one bucket of rows */
  /* Several buckets (src/graph/csr.c sorts entries bucket by bucket; cdn_bucket_shift sizes them):
     a sparse graph in buckets of the most rows, and a denser one (60 entries a row) in smaller. */
  CHECK(cdn_bucket_shift(16000, 2 * 20000) == CDN_BUCKET_SHIFT_MAX && cdn_bucket_shift(5000, 2 * 150000) == 9);
  check_random_edges(16000, 20000, 1, 6);
  check_random_edges(5000, 150000, 24, 7);

  /* Three copies of one edge whose sum depends on the order: (1e16 + 1) - 1e16 = 0 in this order,
     1 in another. Split over the ranks, the order is still the edges' order. */
  PetscInt  ti[3] = {0, 0, 0}, tj[3] = {1, 1, 1};
  PetscReal tw[3] = {1e16, 1, -1e16};
  lo = 3 * rank / size, hi = 3 * (rank + 1) / size;
  CHECK(!cdn_graph_mat_from_edges(PETSC_COMM_WORLD, 2, hi - lo, ti + lo, tj + lo, tw + lo, &A));
  PetscInt    row = 0, col = 1;
  PetscScalar a01 = -7;
  MatGetOwnershipRange(A, &r0, &r1);
  if (r0 == 0 && r1 > 0) {
    MatGetValues(A, 1, &row, 1, &col, &a01);
    CHECK(a01 == 0.0);
  }
  MatDestroy(&A);

  /* A self-loop on the last rank only: every rank fails, none waits in the exchange. */
  PetscInt       bi[2] = {0, 3}, bj[2] = {1, 3};
  PetscReal      bw[2] = {1, 1};
  PetscErrorCode ierr;
  PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
  ierr = cdn_graph_mat_from_edges(PETSC_COMM_WORLD, 5, rank == size - 1 ? 2 : 1, bi, bj, bw, &A);
  PetscCall(PetscPopErrorHandler());
  CHECK(ierr == PETSC_ERR_ARG_OUTOFRANGE);
  return 0;
}

int main(int argc, char **argv)
{
  cdn_model_desc_t d;
  int              id[4];
  if (cdn_initialize(&argc, &argv, NULL)) return 1;
  fam_resnet(&d, id); /* a projection's block comes after the main path's: rows out of order */
  fill(&d, 1);
  check_graph(&d, 0);
  fam_free(&d);
  fam_vgg(&d);
  fill(&d, 2);
  check_graph(&d, 0);
  fam_free(&d);
  fam_short_residual(&d);
  fill(&d, 4);
  check_graph(&d, 0);
  fam_free(&d);
  fam_fc(&d);
  fill(&d, 5);
  check_graph(&d, 0);
  fam_free(&d);
  fam_lenet(&d);
  fill(&d, 3);
  check_graph(&d, 1);
  fam_free(&d);
  check_edges();
  cdn_finalize();
  return CHECK_STATUS();
}
