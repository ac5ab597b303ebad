/* The leading singular value of one block of the adjacency matrix: for a network's graph, the
   block between two node groups is a layer's edge weights, so this is a layer-scope statistic. */
#include <slepcsvd.h>
#include "cnndyn/stats.h"
#include "cnndyn/util.h"
#include "stats_impl.h"

/* Each rank selects the block's rows and columns inside its own ownership range: the result is a
   parallel matrix on A's communicator with PETSc's usual layout. */
static PetscErrorCode extract(Mat A, PetscInt r0, PetscInt nr, PetscInt c0, PetscInt nc, Mat *B)
{
  PetscInt lo, hi, a, b;
  IS       rows, cols;
  MPI_Comm comm = PetscObjectComm((PetscObject)A);

  PetscFunctionBeginUser;
  PetscCall(MatGetOwnershipRange(A, &lo, &hi));
  a = PetscMax(lo, r0), b = PetscMin(hi, r0 + nr);
  PetscCall(ISCreateStride(comm, b > a ? b - a : 0, a, 1, &rows));
  a = PetscMax(lo, c0), b = PetscMin(hi, c0 + nc);
  PetscCall(ISCreateStride(comm, b > a ? b - a : 0, a, 1, &cols));
  PetscCall(MatCreateSubMatrix(A, rows, cols, MAT_INITIAL_MATRIX, B));
  PetscCall(ISDestroy(&rows));
  PetscCall(ISDestroy(&cols));
  PetscFunctionReturn(0);
}

static PetscErrorCode solve(Mat B, PetscReal *sigma)
{
  SVD       svd;
  PetscInt  nconv, m, n;
  PetscReal tol;

  PetscFunctionBeginUser;
  PetscCall(MatGetSize(B, &m, &n));
  PetscCall(SVDCreate(PetscObjectComm((PetscObject)B), &svd));
  PetscCall(SVDSetOperators(svd, B, NULL));
  PetscCall(SVDSetWhichSingularTriplets(svd, SVD_LARGEST));
  PetscCall(SVDSetDimensions(svd, 1, PETSC_DEFAULT, PETSC_DEFAULT));
  PetscCall(SVDSetTolerances(svd, 1e-10, 10000));
  /* Cyclic ([0 B; B^T 0] with an eigensolver): measured on rank-deficient blocks such as a uniform
     K(m, n), the default (cross product) fails on zero eigenvalues that come out slightly negative
     and both Lanczos variants stop without converging; cyclic got every test graph right. Krylov
     solvers need a subspace larger than one vector: thin blocks go to LAPACK. */
  PetscCall(SVDSetType(svd, PetscMin(m, n) < 8 ? SVDLAPACK : SVDCYCLIC));
  PetscCall(SVDSetOptionsPrefix(svd, "singular_"));
  PetscCall(SVDSetFromOptions(svd));
  PetscCall(SVDSolve(svd));
  PetscCall(SVDGetConverged(svd, &nconv));
  if (nconv >= 1) PetscCall(SVDGetSingularTriplet(svd, 0, sigma, NULL, NULL));
  PetscCall(SVDGetTolerances(svd, &tol, NULL));
  PetscCall(SVDDestroy(&svd));
  PetscCheck(nconv >= 1, PetscObjectComm((PetscObject)B), PETSC_ERR_CONV_FAILED,
             "singular value: SLEPc did not converge (tol %g); raise -singular_svd_max_it or -singular_svd_tol", (double)tol);
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_stat_block_singular(Mat A, PetscInt r0, PetscInt nr, PetscInt c0, PetscInt nc, PetscReal *sigma)
{
  Mat            B;
  PetscReal      maxabs;
  PetscBool      nonfinite;
  PetscErrorCode ierr = 0;

  PetscFunctionBeginUser;
  *sigma = 0;
  if (nr <= 0 || nc <= 0) PetscFunctionReturn(0);
  PetscCall(extract(A, r0, nr, c0, nc, &B));
  PetscCall(cdn_scan_entries(B, &maxabs, &nonfinite));
  if (nonfinite) *sigma = NAN;
  else if (maxabs > 0) {
    PetscCall(MatScale(B, 1.0 / maxabs));
    ierr = solve(B, sigma);
    *sigma *= maxabs;
  }
  PetscCall(MatDestroy(&B));
  PetscCall(ierr);
  PetscFunctionReturn(0);
}
