/* CDN_LEARNER_LINEAR on one fold: ridge regression for the label, L2-regularised logistic regression
   (liblinear) for the class, both on features prepared by scale.c from the training rows. */
#include <cblas.h>
#include <linear.h>
#include <math.h>
#include <string.h>
#include "predict_impl.h"

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
   features on 30 models costs a 30 x 30 solve. w has p entries. */
static PetscErrorCode ridge_fit(const double *Ztr, const double *ytr, int ntr, int p, double lambda, double *b0,
                                double *w)
{
  double *A, *yc, ybar = 0, pen = lambda * ntr;
  int     m = p <= ntr ? p : ntr;

  PetscFunctionBeginUser;
  for (int i = 0; i < ntr; i++) ybar += ytr[i] / ntr;
  PetscCall(PetscMalloc2((size_t)m * m > 0 ? (size_t)m * m : 1, &A, ntr + 1, &yc));
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
  *b0 = ybar;
  PetscCall(PetscFree2(A, yc));
  PetscFunctionReturn(0);
}

static void ridge_apply(const double *Z, int n, int p, double b0, const double *w, double *pred)
{
  for (int i = 0; i < n; i++) pred[i] = b0;
  if (p > 0 && n > 0) cblas_dgemv(CblasRowMajor, CblasNoTrans, n, p, 1.0, Z, p, w, 1, 1.0, pred, 1);
}

static PetscErrorCode ridge(const double *Ztr, const double *ytr, int ntr, int p, const double *Zte, int nte,
                            double lambda, double *pred)
{
  double *w, b0;

  PetscFunctionBeginUser;
  PetscCall(PetscMalloc1(p + 1, &w));
  PetscCall(ridge_fit(Ztr, ytr, ntr, p, lambda, &b0, w));
  ridge_apply(Zte, nte, p, b0, w, pred);
  PetscCall(PetscFree(w));
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
   one-vs-rest by liblinear. A fold with one class has nothing to separate: it predicts that class.
   liblinear's model is copied into m (nlabel, label, lw) and freed, so that a fitted learner owns
   plain arrays that a saved predictor can write and read back. */
static PetscErrorCode logistic_fit(const double *Ztr, const int *ctr, int ntr, int p, double c, cdn_fitted_t *m)
{
  struct feature_node *nodes, **rows;
  double              *yd;
  struct model        *model;
  int                  single = 1, nw;
  const char          *msg;

  PetscFunctionBeginUser;
  for (int i = 1; i < ntr; i++) single &= ctr[i] == ctr[0];
  if (single) {
    m->nlabel = 1;
    PetscCall(PetscMalloc1(1, &m->label));
    m->label[0] = ntr > 0 ? ctr[0] : 0;
    PetscFunctionReturn(0);
  }
  PetscCall(PetscMalloc3((size_t)ntr * (p + 2), &nodes, ntr, &rows, ntr, &yd));
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
  PetscCheck(get_nr_feature(model) == p, PETSC_COMM_SELF, PETSC_ERR_LIB, "liblinear: %d features, expected %d",
             get_nr_feature(model), p);
  m->nlabel = get_nr_class(model);
  nw        = m->nlabel == 2 ? 1 : m->nlabel;
  PetscCall(PetscMalloc1(m->nlabel, &m->label));
  PetscCall(PetscMalloc1((size_t)(p + 1) * nw, &m->lw));
  get_labels(model, m->label);
  PetscCall(PetscArraycpy(m->lw, model->w, (size_t)(p + 1) * nw));
  free_and_destroy_model(&model);
  PetscCall(PetscFree3(nodes, rows, yd));
  PetscFunctionReturn(0);
}

/* The class of each row of Z (n x p) by liblinear's own decision rule, on a model rebuilt from m. */
static PetscErrorCode logistic_apply(const cdn_fitted_t *m, const double *Z, int n, int p, int *out)
{
  struct feature_node *x;
  struct model         model = {.param = {.solver_type = L2R_LR}, .nr_class = m->nlabel, .nr_feature = p,
                                .w = m->lw, .label = m->label, .bias = 1.0};

  PetscFunctionBeginUser;
  if (m->nlabel == 1) {
    for (int i = 0; i < n; i++) out[i] = m->label[0];
    PetscFunctionReturn(0);
  }
  PetscCall(PetscMalloc1(p + 2, &x));
  for (int i = 0; i < n; i++) {
    to_nodes(Z + (size_t)i * p, p, x);
    out[i] = (int)lround(predict(&model, x));
  }
  PetscCall(PetscFree(x));
  PetscFunctionReturn(0);
}

static PetscErrorCode logistic(const double *Ztr, const int *ctr, int ntr, int p, const double *Zte, int nte,
                               double c, int *out)
{
  cdn_fitted_t m = {0};

  PetscFunctionBeginUser;
  PetscCall(logistic_fit(Ztr, ctr, ntr, p, c, &m));
  PetscCall(logistic_apply(&m, Zte, nte, p, out));
  PetscCall(PetscFree(m.label));
  PetscCall(PetscFree(m.lw));
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
    if (f->train_cuts) { /* the inner training side's own cuts, as the outer fold has its own */
      double th[8];
      PetscCall(cdn_quantile_cuts(yi, NULL, ni, f->nclasses, th));
      for (int i = 0; i < ni; i++) ci[i] = cdn_class_of(yi[i], th, f->nclasses);
      for (int i = 0; i < no; i++) cte[i] = cdn_class_of(po[i], th, f->nclasses);
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

PetscErrorCode cdn_linear_fit(const cdn_fold_t *f, cdn_fitted_t *m)
{
  double *Ztr, *ytr;
  int    *ctr, p;

  PetscFunctionBeginUser;
  PetscCall(cdn_scaler_fit(&m->sc, f->X, f->d, f->train, f->ntr));
  p = m->sc.width;
  PetscCall(PetscMalloc3((size_t)f->ntr * p + 1, &Ztr, f->ntr + 1, &ytr, f->ntr + 1, &ctr));
  cdn_scaler_apply(&m->sc, f->X, f->train, f->ntr, Ztr);
  for (int i = 0; i < f->ntr; i++) ytr[i] = f->y[f->train[i]], ctr[i] = f->cls[f->train[i]];
  PetscCall(choose(f, Ztr, ytr, ctr, p, &m->hp[0], &m->hp[1]));
  m->nw = p;
  PetscCall(PetscMalloc1(p + 1, &m->w));
  PetscCall(ridge_fit(Ztr, ytr, f->ntr, p, m->hp[0], &m->b0, m->w));
  PetscCall(logistic_fit(Ztr, ctr, f->ntr, p, m->hp[1], m));
  PetscCall(PetscFree3(Ztr, ytr, ctr));
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_linear_predict(const cdn_fitted_t *m, const double *X, const int *rows, int nr, double *pred, int *cls)
{
  double *Z;
  int     p = m->sc.width;

  PetscFunctionBeginUser;
  PetscCall(PetscMalloc1((size_t)nr * p + 1, &Z));
  cdn_scaler_apply(&m->sc, X, rows, nr, Z);
  ridge_apply(Z, nr, p, m->b0, m->w, pred);
  PetscCall(logistic_apply(m, Z, nr, p, cls));
  PetscCall(PetscFree(Z));
  PetscFunctionReturn(0);
}
