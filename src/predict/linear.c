/* CDN_LEARNER_LINEAR on one fold: ridge regression for the label, L2-regularised logistic regression
   (liblinear) for the class, both on features prepared by scale.c from the training rows. */
#include <cblas.h>
#include <linear.h>
#include <math.h>
#include <string.h>
#include "predict_impl.h"
#include "scale.h"

/* Solves A x = b in place (x in b) for symmetric positive definite A, row-major m x m, reading the
   lower triangle only. The ridge term makes A positive definite; a failed pivot means NaN crept in. */
static PetscErrorCode cholesky_solve(double *A, int m, double *b)
{
  PetscFunctionBeginUser;
  for (int j = 0; j < m; j++) {
    double s = A[(size_t)j * m + j];
    for (int k = 0; k < j; k++) s -= A[(size_t)j * m + k] * A[(size_t)j * m + k];
    PetscCheck(s > 0, PETSC_COMM_SELF, PETSC_ERR_FP, "ridge: system not positive definite at pivot %d (%g)", j, s);
    A[(size_t)j * m + j] = sqrt(s);
    for (int i = j + 1; i < m; i++) {
      double t = A[(size_t)i * m + j];
      for (int k = 0; k < j; k++) t -= A[(size_t)i * m + k] * A[(size_t)j * m + k];
      A[(size_t)i * m + j] = t / A[(size_t)j * m + j];
    }
  }
  for (int i = 0; i < m; i++) { /* L z = b */
    for (int k = 0; k < i; k++) b[i] -= A[(size_t)i * m + k] * b[k];
    b[i] /= A[(size_t)i * m + i];
  }
  for (int i = m - 1; i >= 0; i--) { /* L^T x = z */
    for (int k = i + 1; k < m; k++) b[i] -= A[(size_t)k * m + i] * b[k];
    b[i] /= A[(size_t)i * m + i];
  }
  PetscFunctionReturn(0);
}

/* Minimises |y - b0 - Z w|^2 + lambda * ntr * |w|^2 with the intercept b0 unpenalised; the features
   are centred on the training rows, so b0 is the training mean of y. Scaling the penalty by ntr
   keeps one lambda meaning the same for any population size. The normal equations are p x p when
   p <= ntr; otherwise the dual w = Z^T (Z Z^T + lambda ntr I)^-1 (y - b0) is ntr x ntr, so 2000
   features on 30 models costs a 30 x 30 solve. */
static PetscErrorCode ridge(const double *Ztr, const double *ytr, int ntr, int p, const double *Zte, int nte,
                            double lambda, double *pred)
{
  double *A, *yc, *w, ybar = 0, pen = lambda * ntr;
  int     m = p <= ntr ? p : ntr;

  PetscFunctionBeginUser;
  for (int i = 0; i < ntr; i++) ybar += ytr[i] / ntr;
  PetscCall(PetscMalloc3((size_t)m * m > 0 ? (size_t)m * m : 1, &A, ntr, &yc, p > 0 ? p : 1, &w));
  for (int i = 0; i < ntr; i++) yc[i] = ytr[i] - ybar;
  for (int j = 0; j < p; j++) w[j] = 0;
  if (p > 0 && p <= ntr) {
    cblas_dsyrk(CblasRowMajor, CblasLower, CblasTrans, p, ntr, 1.0, Ztr, p, 0.0, A, p);
    for (int j = 0; j < p; j++) A[(size_t)j * p + j] += pen;
    cblas_dgemv(CblasRowMajor, CblasTrans, ntr, p, 1.0, Ztr, p, yc, 1, 0.0, w, 1);
    PetscCall(cholesky_solve(A, p, w));
  } else if (p > 0) {
    cblas_dsyrk(CblasRowMajor, CblasLower, CblasNoTrans, ntr, p, 1.0, Ztr, p, 0.0, A, ntr);
    for (int i = 0; i < ntr; i++) A[(size_t)i * ntr + i] += pen;
    PetscCall(cholesky_solve(A, ntr, yc));
    cblas_dgemv(CblasRowMajor, CblasTrans, ntr, p, 1.0, Ztr, p, yc, 1, 0.0, w, 1);
  }
  for (int i = 0; i < nte; i++) pred[i] = ybar;
  if (p > 0 && nte > 0) cblas_dgemv(CblasRowMajor, CblasNoTrans, nte, p, 1.0, Zte, p, w, 1, 1.0, pred, 1);
  PetscCall(PetscFree3(A, yc, w));
  PetscFunctionReturn(0);
}

static void quiet(const char *s) { (void)s; }

/* One liblinear row: nonzero features (1-based), the bias feature p + 1, the terminator. */
static void to_nodes(const double *z, int p, struct feature_node *x)
{
  int k = 0;
  for (int j = 0; j < p; j++)
    if (z[j] != 0) x[k++] = (struct feature_node){j + 1, z[j]};
  x[k++] = (struct feature_node){p + 1, 1.0};
  x[k]   = (struct feature_node){-1, 0.0};
}

/* L2R_LR (trust-region Newton on the primal) is deterministic; more than two classes are fitted
   one-vs-rest by liblinear. A fold with one class has nothing to separate: it predicts that class. */
static PetscErrorCode logistic(const double *Ztr, const int *ctr, int ntr, int p, const double *Zte, int nte,
                               double c, int *out)
{
  struct feature_node *nodes, **rows;
  double              *yd;
  struct model        *model;
  int                  single = 1;
  const char          *msg;

  PetscFunctionBeginUser;
  for (int i = 1; i < ntr; i++) single &= ctr[i] == ctr[0];
  if (single) {
    for (int i = 0; i < nte; i++) out[i] = ntr > 0 ? ctr[0] : 0;
    PetscFunctionReturn(0);
  }
  PetscCall(PetscMalloc3((size_t)(ntr + 1) * (p + 2), &nodes, ntr, &rows, ntr, &yd));
  for (int i = 0; i < ntr; i++) {
    rows[i] = nodes + (size_t)i * (p + 2);
    yd[i]   = ctr[i];
    to_nodes(Ztr + (size_t)i * p, p, rows[i]);
  }
  {
    struct problem   prob = {.l = ntr, .n = p + 1, .y = yd, .x = rows, .bias = 1.0};
    struct parameter par  = {.solver_type = L2R_LR, .eps = 0.01, .C = c, .p = 0.1};
    msg                   = check_parameter(&prob, &par);
    PetscCheck(!msg, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "liblinear: %s", msg);
    set_print_string_function(quiet);
    model = train(&prob, &par);
  }
  PetscCheck(model, PETSC_COMM_SELF, PETSC_ERR_MEM, "liblinear: training failed");
  for (int i = 0; i < nte; i++) { /* the spare row after the training rows holds one test row */
    struct feature_node *x = nodes + (size_t)ntr * (p + 2);
    to_nodes(Zte + (size_t)i * p, p, x);
    out[i] = (int)lround(predict(model, x));
  }
  free_and_destroy_model(&model);
  PetscCall(PetscFree3(nodes, rows, yd));
  PetscFunctionReturn(0);
}

/* Ridge fits are cheap and get six values; each logistic fit costs Newton iterations, more so at
   large C, so its grid is four values. */
static const double lambda_grid[] = {1e-3, 1e-2, 1e-1, 1, 10, 100};
static const double c_grid[]      = {1e-2, 1e-1, 1, 10};
#define NGRID ((int)(sizeof lambda_grid / sizeof lambda_grid[0]))
#define NCGRID ((int)(sizeof c_grid / sizeof c_grid[0]))

/* Inner cross-validation on the prepared training rows: the lambda with the least squared error
   and the C with the most correct classes (ties to the stronger penalty, listed first). */
static PetscErrorCode choose(const cdn_fold_t *f, const double *Ztr, const double *ytr, const int *ctr, int p,
                             double *lambda, double *c)
{
  int    *fold, k, *ci, *cte;
  double *Zi, *Zo, *yi, *po, err[NGRID] = {0}, hits[NGRID] = {0};

  PetscFunctionBeginUser;
  *lambda = f->lambda, *c = f->c;
  PetscCall(PetscMalloc1(f->ntr, &fold));
  PetscCall(cdn_inner_folds(f, fold, &k));
  if (k < 2) {
    PetscCall(PetscFree(fold));
    PetscFunctionReturn(0);
  }
  PetscCall(PetscMalloc6((size_t)f->ntr * p + 1, &Zi, (size_t)f->ntr * p + 1, &Zo, f->ntr, &yi, f->ntr, &po, f->ntr, &ci,
                         f->ntr, &cte));
  for (int g = 0; g < k; g++) {
    int ni = 0, no = 0;
    for (int i = 0; i < f->ntr; i++) {
      if (fold[i] == g) memcpy(Zo + (size_t)no * p, Ztr + (size_t)i * p, sizeof(double) * p), cte[no] = ctr[i], po[no] = ytr[i], no++;
      else memcpy(Zi + (size_t)ni * p, Ztr + (size_t)i * p, sizeof(double) * p), yi[ni] = ytr[i], ci[ni] = ctr[i], ni++;
    }
    for (int a = 0; a < NGRID; a++) {
      double *pr;
      int    *cl;
      PetscCall(PetscMalloc2(no, &pr, no, &cl));
      PetscCall(ridge(Zi, yi, ni, p, Zo, no, lambda_grid[a], pr));
      for (int i = 0; i < no; i++) err[a] += (pr[i] - po[i]) * (pr[i] - po[i]);
      if (a < NCGRID) {
        PetscCall(logistic(Zi, ci, ni, p, Zo, no, c_grid[a], cl));
        for (int i = 0; i < no; i++) hits[a] += cl[i] == cte[i];
      }
      PetscCall(PetscFree2(pr, cl));
    }
  }
  for (int a = 0, bl = 0, bc = 0; a < NGRID; a++) {
    if (a == 0 || err[a] < err[bl]) bl = a, *lambda = lambda_grid[a];
    if (a < NCGRID && (a == 0 || hits[a] > hits[bc])) bc = a, *c = c_grid[a];
  }
  PetscCall(PetscFree6(Zi, Zo, yi, po, ci, cte));
  PetscCall(PetscFree(fold));
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_linear_fold(const cdn_fold_t *f, double *pred, int *pred_class)
{
  cdn_scaler_t sc;
  double      *Ztr, *Zte, *ytr, *ptest, lambda, c;
  int         *ctr, *ctest, p;

  PetscFunctionBeginUser;
  PetscCall(cdn_scaler_fit(&sc, f->X, f->d, f->train, f->ntr));
  p = sc.width;
  PetscCall(PetscMalloc4((size_t)f->ntr * p + 1, &Ztr, (size_t)f->nte * p + 1, &Zte, f->ntr, &ytr, f->ntr, &ctr));
  PetscCall(PetscMalloc2(f->nte, &ptest, f->nte, &ctest));
  cdn_scaler_apply(&sc, f->X, f->train, f->ntr, Ztr);
  cdn_scaler_apply(&sc, f->X, f->test, f->nte, Zte);
  for (int i = 0; i < f->ntr; i++) ytr[i] = f->y[f->train[i]], ctr[i] = f->cls[f->train[i]];
  PetscCall(choose(f, Ztr, ytr, ctr, p, &lambda, &c));
  PetscCall(ridge(Ztr, ytr, f->ntr, p, Zte, f->nte, lambda, ptest));
  PetscCall(logistic(Ztr, ctr, f->ntr, p, Zte, f->nte, c, ctest));
  for (int i = 0; i < f->nte; i++) pred[f->test[i]] = ptest[i], pred_class[f->test[i]] = ctest[i];
  PetscCall(PetscFree2(ptest, ctest));
  PetscCall(PetscFree4(Ztr, Zte, ytr, ctr));
  PetscCall(cdn_scaler_destroy(&sc));
  PetscFunctionReturn(0);
}
