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

  PetscErrorCode ierr = 0;

  PetscFunctionBeginUser;
  for (int i = 0; i < ntr; i++) ybar += ytr[i] / ntr;
  PetscCall(PetscMalloc2((size_t)m * m > 0 ? (size_t)m * m : 1, &A, ntr + 1, &yc));
  for (int i = 0; i < ntr; i++) yc[i] = ytr[i] - ybar;
  for (int j = 0; j < p; j++) w[j] = 0;
  if (p > 0 && p <= ntr) {
    cblas_dsyrk(CblasRowMajor, CblasLower, CblasTrans, p, ntr, 1.0, Ztr, p, 0.0, A, p);
    for (int j = 0; j < p; j++) A[(size_t)j * p + j] += pen;
    cblas_dgemv(CblasRowMajor, CblasTrans, ntr, p, 1.0, Ztr, p, yc, 1, 0.0, w, 1);
    ierr = cholesky_solve(A, p, w);
  } else if (p > 0) {
    cblas_dsyrk(CblasRowMajor, CblasLower, CblasNoTrans, ntr, p, 1.0, Ztr, p, 0.0, A, ntr);
    for (int i = 0; i < ntr; i++) A[(size_t)i * ntr + i] += pen;
    ierr = cholesky_solve(A, ntr, yc);
    if (!ierr) cblas_dgemv(CblasRowMajor, CblasTrans, ntr, p, 1.0, Ztr, p, yc, 1, 0.0, w, 1);
  }
  *b0 = ybar;
  PetscCall(PetscFree2(A, yc));
  PetscCall(ierr);
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
  double        *w, b0;
  PetscErrorCode ierr;

  PetscFunctionBeginUser;
  PetscCall(PetscMalloc1(p + 1, &w));
  ierr = ridge_fit(Ztr, ytr, ntr, p, lambda, &b0, w);
  if (!ierr) ridge_apply(Zte, nte, p, b0, w, pred);
  PetscCall(PetscFree(w));
  PetscCall(ierr);
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
  struct model        *model = NULL;
  int                  single = 1, nw;
  const char          *msg;
  PetscErrorCode       ierr = 0;

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
    set_print_string_function(quiet);
    if (!msg) model = train(&prob, &par);
  }
  /* m's arrays are m's (cdn_fitted_destroy frees them); liblinear's model and the rows are freed here on every path */
  if (!msg && !model) msg = "training failed";
  if (model && get_nr_feature(model) != p)
    ierr = PetscError(PETSC_COMM_SELF, __LINE__, PETSC_FUNCTION_NAME, __FILE__, PETSC_ERR_LIB, PETSC_ERROR_INITIAL,
                      "liblinear: %d features, expected %d", get_nr_feature(model), p);
  if (model && !ierr) {
    m->nlabel = get_nr_class(model);
    nw        = m->nlabel == 2 ? 1 : m->nlabel;
    ierr      = PetscMalloc1(m->nlabel, &m->label);
    if (!ierr) ierr = PetscMalloc1((size_t)(p + 1) * nw, &m->lw);
    if (!ierr) get_labels(model, m->label);
    if (!ierr) ierr = PetscArraycpy(m->lw, model->w, (size_t)(p + 1) * nw);
  }
  if (model) free_and_destroy_model(&model);
  PetscCall(PetscFree3(nodes, rows, yd));
  PetscCheck(!msg, PETSC_COMM_SELF, PETSC_ERR_LIB, "liblinear: %s", msg);
  PetscCall(ierr);
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
  cdn_fitted_t  *m;
  PetscErrorCode ierr;

  PetscFunctionBeginUser;
  PetscCall(PetscNew(&m)); /* only its logistic part is used */
  ierr = logistic_fit(Ztr, ctr, ntr, p, c, m);
  if (!ierr) ierr = logistic_apply(m, Zte, nte, p, out);
  PetscCall(cdn_fitted_destroy(&m));
  PetscCall(ierr);
  PetscFunctionReturn(0);
}

/* Ridge fits are cheap and get six values; each logistic fit costs Newton iterations, more so at
   large C, so its grid is four values. */
static const double lambda_grid[] = {1e-3, 1e-2, 1e-1, 1, 10, 100};
static const double c_grid[]      = {1e-2, 1e-1, 1, 10};
#define NGRID ((int)(sizeof lambda_grid / sizeof lambda_grid[0]))
#define NCGRID ((int)(sizeof c_grid / sizeof c_grid[0]))

/* The arrays of one inner cross-validation, allocated and freed together. */
typedef struct {
  int    *fold, *ci, *cte;
  double *Zi, *Zo, *yi, *po;
} inner_t;

static PetscErrorCode choose_in(const cdn_fold_t *f, const double *Ztr, const double *ytr, const int *ctr, int p, int k,
                                inner_t *w, double *lambda, double *c)
{
  double err[NGRID] = {0}, hits[NGRID] = {0};

  PetscFunctionBeginUser;
  for (int g = 0; g < k; g++) {
    int ni = 0, no = 0;
    for (int i = 0; i < f->ntr; i++) {
      if (w->fold[i] == g) memcpy(w->Zo + (size_t)no * p, Ztr + (size_t)i * p, sizeof(double) * p), w->cte[no] = ctr[i], w->po[no] = ytr[i], no++;
      else memcpy(w->Zi + (size_t)ni * p, Ztr + (size_t)i * p, sizeof(double) * p), w->yi[ni] = ytr[i], w->ci[ni] = ctr[i], ni++;
    }
    if (f->train_cuts) { /* the inner training side's own cuts, as the outer fold has its own */
      double th[8];
      PetscCall(cdn_quantile_cuts(w->yi, NULL, ni, f->nclasses, th));
      for (int i = 0; i < ni; i++) w->ci[i] = cdn_class_of(w->yi[i], th, f->nclasses);
      for (int i = 0; i < no; i++) w->cte[i] = cdn_class_of(w->po[i], th, f->nclasses);
    }
    for (int a = 0; a < NGRID; a++) {
      double        *pr;
      int           *cl;
      PetscErrorCode ierr;
      PetscCall(PetscMalloc2(no, &pr, no, &cl));
      ierr = ridge(w->Zi, w->yi, ni, p, w->Zo, no, lambda_grid[a], pr);
      for (int i = 0; !ierr && i < no; i++) err[a] += (pr[i] - w->po[i]) * (pr[i] - w->po[i]);
      if (!ierr && a < NCGRID) {
        ierr = logistic(w->Zi, w->ci, ni, p, w->Zo, no, c_grid[a], cl);
        for (int i = 0; !ierr && i < no; i++) hits[a] += cl[i] == w->cte[i];
      }
      PetscCall(PetscFree2(pr, cl));
      PetscCall(ierr);
    }
  }
  for (int a = 0, bl = 0, bc = 0; a < NGRID; a++) {
    if (a == 0 || err[a] < err[bl]) bl = a, *lambda = lambda_grid[a];
    if (a < NCGRID && (a == 0 || hits[a] > hits[bc])) bc = a, *c = c_grid[a];
  }
  PetscFunctionReturn(0);
}

/* Inner cross-validation on the prepared training rows: the lambda with the least squared error
   and the C with the most correct classes (ties to the stronger penalty, listed first). */
static PetscErrorCode choose(const cdn_fold_t *f, const double *Ztr, const double *ytr, const int *ctr, int p,
                             double *lambda, double *c)
{
  inner_t        w;
  int            k, n = f->ntr;
  PetscErrorCode ierr;

  PetscFunctionBeginUser;
  *lambda = f->lambda, *c = f->c;
  PetscCall(PetscMalloc7(n, &w.fold, (size_t)n * p + 1, &w.Zi, (size_t)n * p + 1, &w.Zo, n, &w.yi, n, &w.po, n, &w.ci, n, &w.cte));
  ierr = cdn_inner_folds(f, w.fold, &k);
  if (!ierr && k >= 2) ierr = choose_in(f, Ztr, ytr, ctr, p, k, &w, lambda, c);
  PetscCall(PetscFree7(w.fold, w.Zi, w.Zo, w.yi, w.po, w.ci, w.cte));
  PetscCall(ierr);
  PetscFunctionReturn(0);
}

/* The rows of X through the scaler into a new nr x sc->width array (*Z, the caller frees it): the
   features as the linear and SVR learners see them. */
PetscErrorCode cdn_scaler_rows(const cdn_scaler_t *sc, const double *X, const int *rows, int nr, double **Z)
{
  PetscFunctionBeginUser;
  PetscCall(PetscMalloc1((size_t)nr * sc->width + 1, Z));
  cdn_scaler_apply(sc, X, rows, nr, *Z);
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_prepared_rows(cdn_scaler_t *sc, const cdn_fold_t *f, double **Z)
{
  PetscFunctionBeginUser;
  PetscCall(cdn_scaler_fit(sc, f->X, f->d, f->train, f->ntr));
  PetscCall(cdn_scaler_rows(sc, f->X, f->train, f->ntr, Z));
  PetscFunctionReturn(0);
}

static PetscErrorCode linear_fit_in(const cdn_fold_t *f, const double *Ztr, double *ytr, int *ctr, cdn_fitted_t *m)
{
  int p = m->sc.width;

  PetscFunctionBeginUser;
  for (int i = 0; i < f->ntr; i++) ytr[i] = f->y[f->train[i]], ctr[i] = f->cls[f->train[i]];
  PetscCall(choose(f, Ztr, ytr, ctr, p, &m->hp[0], &m->hp[1]));
  m->nw = p;
  PetscCall(PetscMalloc1(p + 1, &m->w));
  PetscCall(ridge_fit(Ztr, ytr, f->ntr, p, m->hp[0], &m->b0, m->w));
  PetscCall(logistic_fit(Ztr, ctr, f->ntr, p, m->hp[1], m));
  PetscFunctionReturn(0);
}

/* What is allocated here is freed on every path; m's own arrays go with cdn_fitted_destroy. */
PetscErrorCode cdn_linear_fit(const cdn_fold_t *f, cdn_fitted_t *m)
{
  double        *Ztr, *ytr;
  int           *ctr;
  PetscErrorCode ierr;

  PetscFunctionBeginUser;
  PetscCall(cdn_prepared_rows(&m->sc, f, &Ztr));
  ierr = PetscMalloc2(f->ntr + 1, &ytr, f->ntr + 1, &ctr);
  if (!ierr) {
    ierr = linear_fit_in(f, Ztr, ytr, ctr, m);
    PetscCall(PetscFree2(ytr, ctr));
  }
  PetscCall(PetscFree(Ztr));
  PetscCall(ierr);
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_linear_predict(const cdn_fitted_t *m, const double *X, const int *rows, int nr, double *pred, int *cls)
{
  double        *Z;
  PetscErrorCode ierr;

  PetscFunctionBeginUser;
  PetscCall(cdn_scaler_rows(&m->sc, X, rows, nr, &Z));
  ridge_apply(Z, nr, m->sc.width, m->b0, m->w, pred);
  ierr = logistic_apply(m, Z, nr, m->sc.width, cls);
  PetscCall(PetscFree(Z));
  PetscCall(ierr);
  PetscFunctionReturn(0);
}
