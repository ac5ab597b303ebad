/* PageRank by power iteration with PETSc mat-vecs: works on a graph held by one rank or by a
   team, and the degenerate cases (dangling nodes, zero weights, NaN) are defined, not left to
   the iteration. */
#include "cnndyn/stats.h"
#include "cnndyn/util.h"
#include "stats_impl.h"

PetscErrorCode cdn_stat_pagerank(Mat A, PetscReal *pr)
{
  PetscReal   damping = 0.85, tol = 1e-10, maxabs, diff = 1, inv_n;
  PetscScalar dangle;
  PetscInt   maxit = 1000, n, it = 0;
  PetscBool  nonfinite;
  Vec        x, y, t, deg, inv;
  MPI_Comm   comm = PetscObjectComm((PetscObject)A);

  PetscFunctionBeginUser;
  PetscCall(PetscOptionsGetReal(NULL, "pagerank_", "-damping", &damping, NULL));
  PetscCall(PetscOptionsGetReal(NULL, "pagerank_", "-tol", &tol, NULL));
  PetscCall(PetscOptionsGetInt(NULL, "pagerank_", "-max_it", &maxit, NULL));
  PetscCheck(damping >= 0 && damping < 1 && tol > 0 && maxit > 0, comm, CDN_ERR_INPUT,
             "-pagerank_damping must be in [0, 1), -pagerank_tol and -pagerank_max_it positive");
  PetscCall(MatGetSize(A, &n, NULL));
  if (n == 0) PetscFunctionReturn(0);
  PetscCall(cdn_scan_entries(A, &maxabs, &nonfinite));
  if (nonfinite) {
    for (PetscInt i = 0; i < n; i++) pr[i] = NAN;
    PetscFunctionReturn(0);
  }
  inv_n = 1.0 / n;
  PetscCall(MatCreateVecs(A, &x, &y));
  PetscCall(VecDuplicate(x, &deg));
  PetscCall(VecDuplicate(x, &inv));
  PetscCall(MatGetRowSum(A, deg));
  /* inv = 1/strength, 0 for a dangling node; dangle-mask kept in deg as 1 (dangling) or 0. */
  {
    PetscScalar *d, *iv;
    PetscInt     nl;
    PetscCall(VecGetLocalSize(deg, &nl));
    PetscCall(VecGetArray(deg, &d));
    PetscCall(VecGetArray(inv, &iv));
    for (PetscInt i = 0; i < nl; i++) {
      iv[i] = PetscRealPart(d[i]) > 0 ? 1.0 / PetscRealPart(d[i]) : 0.0;
      d[i]  = PetscRealPart(d[i]) > 0 ? 0.0 : 1.0;
    }
    PetscCall(VecRestoreArray(deg, &d));
    PetscCall(VecRestoreArray(inv, &iv));
  }
  PetscCall(VecSet(x, inv_n));
  PetscCall(VecDuplicate(x, &t));
  while (diff >= tol && it < maxit) {
    PetscCall(VecDot(x, deg, &dangle)); /* mass sitting on dangling nodes, spread uniformly */
    PetscCall(VecPointwiseMult(y, x, inv));
    PetscCall(MatMult(A, y, t));
    PetscCall(VecScale(t, damping));
    PetscCall(VecShift(t, (damping * PetscRealPart(dangle) + 1 - damping) * inv_n));
    PetscCall(VecWAXPY(y, -1.0, t, x));
    PetscCall(VecNorm(y, NORM_1, &diff));
    PetscCall(VecCopy(t, x));
    it++;
  }
  if (diff < tol) PetscCall(cdn_vec_to_array(x, pr));
  PetscCall(VecDestroy(&x));
  PetscCall(VecDestroy(&y));
  PetscCall(VecDestroy(&deg));
  PetscCall(VecDestroy(&inv));
  PetscCall(VecDestroy(&t));
  PetscCheck(diff < tol, comm, PETSC_ERR_CONV_FAILED,
             "pagerank: no convergence in %d steps (L1 change %g > tol %g); raise -pagerank_max_it or -pagerank_tol",
             (int)it, (double)diff, (double)tol);
  PetscFunctionReturn(0);
}

/* Rows are owned by ranks; each rank sums its rows' entries left and right of the diagonal. */
PetscErrorCode cdn_stat_strength(Mat A, PetscReal *in, PetscReal *out)
{
  PetscInt           r0, r1, ncols;
  const PetscInt    *cols;
  const PetscScalar *v;
  Vec                vi, vo;
  PetscScalar       *a, *b;

  PetscFunctionBeginUser;
  PetscCall(MatCreateVecs(A, &vi, &vo));
  PetscCall(MatGetOwnershipRange(A, &r0, &r1));
  PetscCall(VecGetArray(vi, &a));
  PetscCall(VecGetArray(vo, &b));
  for (PetscInt r = r0; r < r1; r++) {
    PetscScalar si = 0, so = 0;
    PetscCall(MatGetRow(A, r, &ncols, &cols, &v));
    for (PetscInt k = 0; k < ncols; k++) {
      if (cols[k] < r) si += v[k];
      else if (cols[k] > r) so += v[k];
    }
    PetscCall(MatRestoreRow(A, r, &ncols, &cols, &v));
    a[r - r0] = si, b[r - r0] = so;
  }
  PetscCall(VecRestoreArray(vi, &a));
  PetscCall(VecRestoreArray(vo, &b));
  PetscCall(cdn_vec_to_array(vi, in));
  PetscCall(cdn_vec_to_array(vo, out));
  PetscCall(VecDestroy(&vi));
  PetscCall(VecDestroy(&vo));
  PetscFunctionReturn(0);
}
