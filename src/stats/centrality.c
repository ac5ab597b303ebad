/* Node statistics on a symmetric weighted adjacency matrix: weighted degree and eigenvector
   centrality. */
#include <slepceps.h>
#include "cnndyn/stats.h"
#include "cnndyn/util.h"
#include "stats_impl.h"

PetscErrorCode cdn_vec_to_array(Vec v, PetscReal *out)
{
  VecScatter         sc;
  Vec                all;
  const PetscScalar *a;
  PetscInt           n;

  PetscFunctionBeginUser;
  PetscCall(VecScatterCreateToAll(v, &sc, &all));
  PetscCall(VecScatterBegin(sc, v, all, INSERT_VALUES, SCATTER_FORWARD));
  PetscCall(VecScatterEnd(sc, v, all, INSERT_VALUES, SCATTER_FORWARD));
  PetscCall(VecGetSize(all, &n));
  PetscCall(VecGetArrayRead(all, &a));
  for (PetscInt i = 0; i < n; i++) out[i] = PetscRealPart(a[i]);
  PetscCall(VecRestoreArrayRead(all, &a));
  PetscCall(VecScatterDestroy(&sc));
  PetscCall(VecDestroy(&all));
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_stat_degree(Mat A, PetscReal *deg)
{
  Vec d;

  PetscFunctionBeginUser;
  PetscCall(MatCreateVecs(A, NULL, &d));
  PetscCall(MatGetRowSum(A, d));
  PetscCall(cdn_vec_to_array(d, deg));
  PetscCall(VecDestroy(&d));
  PetscFunctionReturn(0);
}

/* Largest |a_ij| and any NaN/Inf among n stored values. !(a <= PETSC_MAX_REAL) is true exactly for
   NaN and Inf; inline, unlike PetscIsInfOrNanReal, whose two calls per entry cost as much as the
   whole solve on a 16.8M-edge graph. */
static void scan_values(const PetscScalar *v, PetscInt n, PetscReal m[2])
{
  for (PetscInt k = 0; k < n; k++) {
    PetscReal a = PetscAbsScalar(v[k]);
    if (!(a <= PETSC_MAX_REAL)) m[1] = 1;
    else if (a > m[0]) m[0] = a;
  }
}

/* The stored values of a sequential AIJ block in one array: no call per row. */
static PetscErrorCode scan_seqaij(Mat S, PetscReal m[2])
{
  MatInfo            info;
  const PetscScalar *v;

  PetscFunctionBeginUser;
  PetscCall(MatGetInfo(S, MAT_LOCAL, &info));
  PetscCall(MatSeqAIJGetArrayRead(S, &v));
  scan_values(v, (PetscInt)info.nz_used, m);
  PetscCall(MatSeqAIJRestoreArrayRead(S, &v));
  PetscFunctionReturn(0);
}

/* Largest |a_ij| over the stored entries, and whether any entry is NaN or Inf (then *maxabs is
   meaningless). Decides the degenerate cases before any solver runs. Graphs are AIJ (sequential or
   parallel: diagonal and off-diagonal blocks); any other type is read row by row. */
PetscErrorCode cdn_scan_entries(Mat A, PetscReal *maxabs, PetscBool *nonfinite)
{
  PetscReal m[2] = {0, 0}, g[2];
  PetscBool seq, mpi;

  PetscFunctionBeginUser;
  PetscCall(PetscObjectTypeCompare((PetscObject)A, MATSEQAIJ, &seq));
  PetscCall(PetscObjectTypeCompare((PetscObject)A, MATMPIAIJ, &mpi));
  if (seq) PetscCall(scan_seqaij(A, m));
  else if (mpi) {
    Mat Ad, Ao;
    PetscCall(MatMPIAIJGetSeqAIJ(A, &Ad, &Ao, NULL));
    PetscCall(scan_seqaij(Ad, m));
    PetscCall(scan_seqaij(Ao, m));
  } else {
    PetscInt           r0, r1, ncols;
    const PetscScalar *v;
    PetscCall(MatGetOwnershipRange(A, &r0, &r1));
    for (PetscInt r = r0; r < r1; r++) {
      PetscCall(MatGetRow(A, r, &ncols, NULL, &v));
      scan_values(v, ncols, m);
      PetscCall(MatRestoreRow(A, r, &ncols, NULL, &v));
    }
  }
  PetscCall(MPIU_Allreduce(m, g, 2, MPIU_REAL, MPIU_MAX, PetscObjectComm((PetscObject)A)));
  *maxabs    = g[0];
  *nonfinite = g[1] > 0 ? PETSC_TRUE : PETSC_FALSE;
  PetscFunctionReturn(0);
}

/* Solves B x = lambda x for the largest real lambda. B is A / max|a_ij|, so entries are at most 1
   whatever the weights' scale (exploded nets reach 1e18): the solver's tolerances and the Krylov
   vectors stay well inside double range (cdn_stat_eigenvector scales only when it must). */
static PetscErrorCode solve_largest(Mat B, Vec x, PetscReal *lambda, PetscInt ncv)
{
  EPS         eps;
  Vec         v0;
  PetscInt    nconv, its, maxit;
  PetscReal   tol;
  PetscScalar kr;

  PetscFunctionBeginUser;
  PetscCall(EPSCreate(PetscObjectComm((PetscObject)B), &eps));
  PetscCall(EPSSetOperators(eps, B, NULL));
  /* Layered graphs hold both +lambda and -lambda: largest magnitude would pick either. */
  PetscCall(EPSSetProblemType(eps, EPS_HEP));
  PetscCall(EPSSetWhichEigenpairs(eps, EPS_LARGEST_REAL));
  /* A subspace of 8 instead of SLEPc's 16: measured on the bench graphs (bench/graph), the top
     eigenvalue of a weight graph is well separated, and 8 vectors cut the orthogonalisation cost:
     0.77 -> 0.69 s on the 16.8M-edge FC graph, 4.3 -> 3.1 s on the random 1M-node graph. */
  PetscInt n;
  PetscCall(MatGetSize(B, &n, NULL));
  PetscCall(EPSSetDimensions(eps, 1, n >= 64 ? ncv : PETSC_DEFAULT, PETSC_DEFAULT));
  /* A cap, so a pathological matrix ends with an error instead of a hang. */
  PetscCall(EPSSetTolerances(eps, 1e-10, 10000));
  /* The constant vector is deterministic and never orthogonal to a non-negative Perron vector. */
  PetscCall(MatCreateVecs(B, &v0, NULL));
  PetscCall(VecSet(v0, 1.0));
  PetscCall(EPSSetInitialSpace(eps, 1, &v0));
  PetscCall(EPSSetOptionsPrefix(eps, "eigenvector_"));
  PetscCall(EPSSetFromOptions(eps));
  PetscCall(EPSSolve(eps));
  PetscCall(EPSGetConverged(eps, &nconv));
  if (nconv < 1) {
    PetscCall(EPSGetIterationNumber(eps, &its));
    PetscCall(EPSGetTolerances(eps, &tol, &maxit));
    PetscCall(VecDestroy(&v0));
    PetscCall(EPSDestroy(&eps));
    SETERRQ(PetscObjectComm((PetscObject)B), PETSC_ERR_CONV_FAILED,
            "eigenvector centrality: SLEPc did not converge in %d iterations (tol %g); "
            "raise -eigenvector_eps_max_it or -eigenvector_eps_tol",
            (int)its, (double)tol);
  }
  PetscCall(EPSGetEigenpair(eps, 0, &kr, NULL, x, NULL));
  *lambda = PetscRealPart(kr);
  PetscCall(VecDestroy(&v0));
  PetscCall(EPSDestroy(&eps));
  PetscFunctionReturn(0);
}

/* A graph that is one complete bipartite block (a single linear layer's graph, or any K(n0, n1)):
   on one rank, AIJ rows 0..n0-1 hold exactly columns n0..N-1 and the others exactly 0..n0-1.
   Then rows n0..N-1 are a dense n1 x n0 matrix W (row-major, straight in A's value array) and
   A = [[0 W^T], [W 0]]: its top eigenpair is W's top singular triplet (lambda = sigma, x = [v; u]),
   v the top eigenvector of W^T W. One application of W^T W reads W once (u_o = W_o . v, then
   w += u_o W_o while row o is in cache): a sixth of the memory traffic of a sparse mat-vec with A
   (8 bytes per entry, once, instead of 12 per entry, twice). Small blocks, or blocks on several
   ranks, stay on the general path; both solve to the same tolerance (tests/test_graph_fc.c). */
typedef struct {
  const PetscScalar *w;      /* W: the value array from row n0 on */
  PetscInt           n0, n1, off; /* off: where row n0 starts in the value array */
} dense_block_t;

#define DENSE_MIN 16 /* both sides at least this: below, the dense operator saves nothing */

static PetscErrorCode dense_block(Mat A, dense_block_t *d, PetscBool *found)
{
  PetscBool       seq, done;
  PetscInt        N, n0 = 0;
  const PetscInt *ia, *ja;

  PetscFunctionBeginUser;
  *found = PETSC_FALSE;
  PetscCall(PetscObjectTypeCompare((PetscObject)A, MATSEQAIJ, &seq));
  if (!seq) PetscFunctionReturn(0);
  PetscCall(MatGetRowIJ(A, 0, PETSC_FALSE, PETSC_FALSE, &N, &ia, &ja, &done));
  if (done && N >= 2 * DENSE_MIN && ia[1] > ia[0]) n0 = ja[ia[0]];
  /* AIJ columns are sorted and distinct: count, first and last fix each row's columns. */
  PetscBool ok = done && n0 >= DENSE_MIN && N - n0 >= DENSE_MIN;
  for (PetscInt r = 0; r < N && ok; r++) {
    PetscInt b = ia[r], e = ia[r + 1], lo = r < n0 ? n0 : 0, hi = r < n0 ? N : n0;
    ok = e - b == hi - lo && ja[b] == lo && ja[e - 1] == hi - 1;
  }
  if (ok) d->n0 = n0, d->n1 = N - n0, d->off = ia[n0], *found = PETSC_TRUE;
  PetscCall(MatRestoreRowIJ(A, 0, PETSC_FALSE, PETSC_FALSE, &N, &ia, &ja, &done));
  PetscFunctionReturn(0);
}

/* row . x with four partial sums (vectorisable, and always summed in this order). */
static inline PetscScalar row_dot(const PetscScalar *row, const PetscScalar *x, PetscInt n)
{
  PetscScalar s[4] = {0, 0, 0, 0};
  PetscInt    i    = 0;

  for (; i + 4 <= n; i += 4)
    s[0] += row[i] * x[i], s[1] += row[i + 1] * x[i + 1], s[2] += row[i + 2] * x[i + 2], s[3] += row[i + 3] * x[i + 3];
  for (; i < n; i++) s[0] += row[i] * x[i];
  return (s[0] + s[1]) + (s[2] + s[3]);
}

/* y = W^T W x in one pass over W. */
PetscErrorCode cdn_dense_block_side(Mat A, PetscInt *n0)
{
  dense_block_t d;
  PetscBool     found;

  PetscFunctionBeginUser;
  PetscCall(dense_block(A, &d, &found));
  *n0 = found ? d.n0 : 0;
  PetscFunctionReturn(0);
}

static PetscErrorCode wtw_mult(Mat M, Vec x, Vec y)
{
  dense_block_t     *d;
  const PetscScalar *xv;
  PetscScalar       *yv;

  PetscFunctionBeginUser;
  PetscCall(MatShellGetContext(M, &d));
  PetscCall(VecGetArrayRead(x, &xv));
  PetscCall(VecGetArrayWrite(y, &yv));
  for (PetscInt i = 0; i < d->n0; i++) yv[i] = 0;
  for (PetscInt o = 0; o < d->n1; o++) {
    const PetscScalar *row = d->w + (size_t)o * d->n0;
    PetscScalar        u   = row_dot(row, xv, d->n0);
    for (PetscInt i = 0; i < d->n0; i++) yv[i] += u * row[i];
  }
  PetscCall(VecRestoreArrayRead(x, &xv));
  PetscCall(VecRestoreArrayWrite(y, &yv));
  PetscCall(PetscLogFlops(4.0 * d->n0 * d->n1));
  PetscFunctionReturn(0);
}

/* The top eigenpair of B = [[0 W^T], [W 0]] from W^T W v = sigma^2 v, u = W v / sigma; x = [v; u]
   (both halves unit: the caller rescales). */
static PetscErrorCode solve_dense_block(Mat B, dense_block_t *d, Vec x, PetscReal *lambda)
{
  Mat                M;
  Vec                v;
  const PetscScalar *a, *vv;
  PetscScalar       *xv;
  PetscReal          mu, sigma;
  PetscErrorCode     ierr;

  PetscFunctionBeginUser;
  PetscCall(MatSeqAIJGetArrayRead(B, &a));
  d->w = a + d->off;
  PetscCall(MatCreateShell(PETSC_COMM_SELF, d->n0, d->n0, d->n0, d->n0, d, &M));
  PetscCall(MatShellSetOperation(M, MATOP_MULT, (void (*)(void))wtw_mult));
  PetscCall(MatCreateVecs(M, &v, NULL));
  /* A subspace of 4: each operator application is a pass over W, and the top singular value of
     a weight layer (of |W|, non-negative) stands far from the next, so SLEPc's first check after
     4 applications already passes (8 on the 4096 x 4096 bench layer gave the same lambda to
     12 digits); a closer pair only costs restarts. */
  ierr = solve_largest(M, v, &mu, 4);
  if (!ierr) {
    sigma = PetscSqrtReal(PetscMax(mu, 0));
    PetscCall(VecGetArrayRead(v, &vv));
    PetscCall(VecGetArrayWrite(x, &xv));
    for (PetscInt i = 0; i < d->n0; i++) xv[i] = vv[i];
    for (PetscInt o = 0; o < d->n1; o++) /* u = W v / sigma */
      xv[d->n0 + o] = sigma > 0 ? row_dot(d->w + (size_t)o * d->n0, vv, d->n0) / sigma : 0;
    PetscCall(VecRestoreArrayRead(v, &vv));
    PetscCall(VecRestoreArrayWrite(x, &xv));
    *lambda = sigma;
  }
  PetscCall(VecDestroy(&v));
  PetscCall(MatDestroy(&M));
  PetscCall(MatSeqAIJRestoreArrayRead(B, &a));
  PetscCall(ierr);
  PetscFunctionReturn(0);
}

/* Conventions (see stats.h): the eigenvector of the largest real eigenvalue, signed so its entries
   sum to >= 0, negatives (round-off around zero) clamped to 0, scaled to a maximum of 1.
   Weights are assumed non-negative (true for norms), so a Perron vector exists.
   Degenerate cases, decided before the solver:
     - any NaN or Inf weight: every entry NaN and lambda NaN (the solver is never called);
     - no stored entries or all weights zero: every entry 1, lambda 0.
   Disconnected graphs: the component with the largest eigenvalue carries the vector and the other
   components get ~0 (then exactly 0 after clamping). Ties (several components sharing the top
   eigenvalue, e.g. two identical sub-graphs) make the eigenvector non-unique. The Krylov space of
   the constant start vector sees only the tied components' common direction; SLEPc then restarts
   from its own fixed-seed random vectors, so the answer is SOME non-negative mix of the tied
   components' Perron vectors: a valid eigenvector, the same on every run with the same build and
   rank count, but not a canonical one (measured: two identical stars gave centres 1 and 0.73).
   Cost: a few sparse mat-vecs per Krylov step; the whole LeNet graph takes well under a second.
   A graph that is one complete bipartite block (a single layer's) on one rank goes through the
   dense block instead (solve_dense_block, above): the same eigenpair to the same tolerance. */
PetscErrorCode cdn_stat_eigenvector(Mat A, PetscReal *cent, PetscReal *lambda)
{
  PetscReal      maxabs, sum = 0, top = 0, lam = 0;
  PetscBool      nonfinite, isdense;
  dense_block_t  dense;
  PetscErrorCode ierr;
  PetscInt  n;
  Mat       B;
  Vec       x;

  PetscFunctionBeginUser;
  PetscCall(MatGetSize(A, &n, NULL));
  PetscCall(dense_block(A, &dense, &isdense));
  if (isdense) { /* symmetric: W holds every value once, so the scan reads half the matrix */
    const PetscScalar *a;
    PetscReal          m[2] = {0, 0};
    PetscCall(MatSeqAIJGetArrayRead(A, &a));
    scan_values(a + dense.off, dense.n0 * dense.n1, m);
    PetscCall(MatSeqAIJRestoreArrayRead(A, &a));
    maxabs = m[0], nonfinite = m[1] > 0;
  } else PetscCall(cdn_scan_entries(A, &maxabs, &nonfinite));
  if (nonfinite || maxabs == 0) {
    for (PetscInt i = 0; i < n; i++) cent[i] = nonfinite ? NAN : 1.0;
    *lambda = nonfinite ? NAN : 0.0;
    PetscFunctionReturn(0);
  }
  /* Scaling needs a copy of the matrix (A belongs to the caller): on a 16.8M-edge graph that copy
     cost a fifth of the solve, so only weights outside [1e-100, 1e100] (exploded nets) pay it. */
  if (maxabs < 1e-100 || maxabs > 1e100) {
    PetscCall(MatDuplicate(A, MAT_COPY_VALUES, &B));
    PetscCall(MatScale(B, 1.0 / maxabs));
  } else {
    PetscCall(PetscObjectReference((PetscObject)A));
    B = A, maxabs = 1;
  }
  PetscCall(MatCreateVecs(B, &x, NULL)); /* B: A or its scaled copy, the same pattern */
  ierr = isdense ? solve_dense_block(B, &dense, x, &lam) : solve_largest(B, x, &lam, 8);
  if (!ierr) ierr = cdn_vec_to_array(x, cent);
  PetscCall(VecDestroy(&x));
  PetscCall(MatDestroy(&B));
  PetscCall(ierr); /* after the clean-up, so a solver failure leaks nothing */
  for (PetscInt i = 0; i < n; i++) sum += cent[i];
  for (PetscInt i = 0; i < n; i++) {
    if (sum < 0) cent[i] = -cent[i];
    if (cent[i] < 0) cent[i] = 0;
    if (cent[i] > top) top = cent[i];
  }
  PetscCheck(top > 0, PETSC_COMM_SELF, PETSC_ERR_PLIB, "eigenvector centrality: solver returned a zero vector");
  for (PetscInt i = 0; i < n; i++) cent[i] /= top;
  *lambda = lam * maxabs;
  PetscFunctionReturn(0);
}
