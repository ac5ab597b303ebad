/* CDN_LEARNER_SVR on one fold: epsilon-SVR with an RBF kernel (libsvm), the learning-curve
   regressor of Baker et al. (2017). Features are prepared exactly as for the linear learner; C and
   gamma come from the inner cross-validation. */
#include <cblas.h>
#include <libsvm/svm.h>
#include <math.h>
#include "predict_impl.h"

/* Six points: each SVR fit is cheap, but the grid is paid for in every fold of every task. */
static const double c_grid[]     = {1, 10, 100};
static const double gamma_grid[] = {0.3, 3}; /* times 1 / features */
#define NC ((int)(sizeof c_grid / sizeof c_grid[0]))
#define NG ((int)(sizeof gamma_grid / sizeof gamma_grid[0]))

static void quiet(const char *s) { (void)s; }

/* The kernel is precomputed (libsvm's PRECOMPUTED kernel) from the squared distances D between
   the training rows of the fold, computed once: every point of the (C, gamma) grid and every inner fold then
   reads exp(-gamma D) instead of recomputing distances over hundreds of features (measured: the
   SVR learner went from 32 s to a few seconds on a 200-model study). Row i of the kernel as libsvm
   nodes: its serial number (1-based) at index 0, then K(i, tr[j]) at index j + 1. */
static void kernel_row(const double *D, int n, int i, const int *tr, int ntr, double gamma, int serial,
                       struct svm_node *x)
{
  x[0] = (struct svm_node){0, serial};
  for (int j = 0; j < ntr; j++) x[j + 1] = (struct svm_node){j + 1, exp(-gamma * D[(size_t)i * n + tr[j]])};
  x[ntr + 1] = (struct svm_node){-1, 0};
}

/* Fits on rows tr of the fold (ntr) and predicts rows te (nte); keep, if not NULL, receives the
   dual coefficients (w), -rho (b0) and each support vector's position in tr (label, for
   cdn_svr_fit to replace by the rows). The tube half-width epsilon is 5% of the training labels'
   spread, so it means the same for any accuracy range. The solver stops at a KKT violation of tol
   (-cnndyn_svr_tol, 1e-2 by default, rather than libsvm's 1e-3): SMO iterations were a fifth of the
   prediction stage's CPU time (perf, 200 models) and the looser stop moves predictions far less
   than the 5% tube already tolerates (docs/studies.md, Prediction-stage speed, gives the effect). */
static PetscErrorCode fit_predict(const double *D, int n, const double *y, const int *tr, int ntr, const int *te,
                                  int nte, double C, double gamma, double tol, double *out, cdn_fitted_t *keep)
{
  struct svm_node  *nodes, **rows;
  double           *yt, mean = 0, var = 0;
  struct svm_model *model = NULL;
  const char       *msg;
  PetscErrorCode    ierr = 0;

  PetscFunctionBeginUser;
  PetscCall(PetscMalloc3((size_t)(ntr + 1) * (ntr + 2), &nodes, ntr, &rows, ntr, &yt));
  for (int i = 0; i < ntr; i++) {
    rows[i] = nodes + (size_t)i * (ntr + 2);
    yt[i]   = y[tr[i]];
    mean += yt[i] / ntr;
    kernel_row(D, n, tr[i], tr, ntr, gamma, i + 1, rows[i]);
  }
  for (int i = 0; i < ntr; i++) var += (yt[i] - mean) * (yt[i] - mean) / ntr;
  {
    struct svm_problem   prob = {.l = ntr, .y = yt, .x = rows};
    struct svm_parameter par  = {.svm_type = EPSILON_SVR, .kernel_type = PRECOMPUTED, .gamma = gamma,
                                 .cache_size = 16, .eps = tol, .C = C, .p = 0.05 * sqrt(var) + 1e-9, .shrinking = 1};
    msg = svm_check_parameter(&prob, &par);
    svm_set_print_string_function(quiet);
    if (!msg) model = svm_train(&prob, &par);
  }
  if (model) { /* the support vectors point into nodes: everything is read before nodes is freed */
    for (int i = 0; i < nte; i++) {
      struct svm_node *x = nodes + (size_t)ntr * (ntr + 2);
      kernel_row(D, n, te[i], tr, ntr, gamma, 0, x);
      out[i] = svm_predict(model, x);
    }
    if (keep) { /* a support vector's node 0 holds its training row's serial number (1-based) */
      keep->nw = model->l, keep->b0 = -model->rho[0];
      ierr     = PetscMalloc2(model->l + 1, &keep->w, model->l + 1, &keep->label);
      for (int i = 0; !ierr && i < model->l; i++)
        keep->w[i] = model->sv_coef[0][i], keep->label[i] = (int)model->SV[i][0].value - 1;
    }
    svm_free_and_destroy_model(&model);
  } else if (!msg) msg = "training failed";
  PetscCall(PetscFree3(nodes, rows, yt));
  PetscCheck(!msg, PETSC_COMM_SELF, PETSC_ERR_LIB, "libsvm: %s", msg);
  PetscCall(ierr);
  PetscFunctionReturn(0);
}

/* D[i][j] = |z_i - z_j|^2 over the n rows of Z (n x p), as |z_i|^2 + |z_j|^2 - 2 z_i.z_j with one
   BLAS rank-k update; round-off below zero is clamped. */
static PetscErrorCode distances(const double *Z, int n, int p, double *D)
{
  PetscFunctionBeginUser;
  if (p == 0) { /* every column was constant on the training folds: all points coincide */
    for (size_t i = 0; i < (size_t)n * n; i++) D[i] = 0;
    PetscFunctionReturn(0);
  }
  cblas_dsyrk(CblasRowMajor, CblasLower, CblasNoTrans, n, p, 1.0, Z, p, 0.0, D, n);
  for (int i = 0; i < n; i++)
    for (int j = 0; j < i; j++) {
      double d = D[(size_t)i * n + i] + D[(size_t)j * n + j] - 2 * D[(size_t)i * n + j];
      D[(size_t)i * n + j] = D[(size_t)j * n + i] = d > 0 ? d : 0;
    }
  for (int i = 0; i < n; i++) D[(size_t)i * n + i] = 0;
  PetscFunctionReturn(0);
}

/* The arrays of one fit, allocated and freed together so that no failure leaks them. */
typedef struct {
  double *Z, *D, *y, *out;
  int    *all, *fold, *itr, *ite;
} svr_work_t;

/* Fits on the training rows: C and gamma by the inner CV over the grid (squared error), then the
   SVR on all training rows, whose support vectors are kept as prepared rows. Predictions need
   only the kernel between a new row and the support vectors: the sum libsvm's svm_predict forms
   for epsilon-SVR, coefficients times kernel values in support-vector order, minus rho. */
static PetscErrorCode svr_fit_in(const cdn_fold_t *f, cdn_fitted_t *m, double tol, svr_work_t *w)
{
  double bestC = 1, bestG = 1, *coef;
  int    k = 0, p = m->sc.width, n = f->ntr, *pos;

  PetscFunctionBeginUser;
  for (int i = 0; i < n; i++) w->y[i] = f->y[f->train[i]], w->all[i] = i;
  PetscCall(distances(w->Z, n, p, w->D));
  PetscCall(cdn_inner_folds(f, w->fold, &k));
  if (k >= 2 && p > 0) {
    double best = INFINITY;
    for (int a = 0; a < NC; a++)
      for (int b = 0; b < NG; b++) {
        double err = 0;
        for (int g = 0; g < k; g++) {
          int ni = 0, no = 0;
          for (int i = 0; i < n; i++) {
            if (w->fold[i] == g) w->ite[no++] = i;
            else w->itr[ni++] = i;
          }
          PetscCall(fit_predict(w->D, n, w->y, w->itr, ni, w->ite, no, c_grid[a], gamma_grid[b] / p, tol, w->out, NULL));
          for (int i = 0; i < no; i++) err += (w->out[i] - w->y[w->ite[i]]) * (w->out[i] - w->y[w->ite[i]]);
        }
        if (err < best) best = err, bestC = c_grid[a], bestG = gamma_grid[b];
      }
  }
  m->hp[0] = bestC, m->hp[1] = p > 0 ? bestG / p : 0;
  if (p > 0) {
    PetscCall(fit_predict(w->D, n, w->y, w->all, n, NULL, 0, bestC, bestG / p, tol, w->out, m));
    PetscErrorCode ierr;
    coef = m->w, pos = m->label, m->w = NULL, m->label = NULL; /* support-vector positions: replaced by their rows */
    ierr = PetscMalloc2(m->nw + 1, &m->w, (size_t)m->nw * p + 1, &m->sv);
    for (int i = 0; !ierr && i < m->nw; i++) {
      m->w[i] = coef[i];
      ierr    = PetscArraycpy(m->sv + (size_t)i * p, w->Z + (size_t)pos[i] * p, p);
    }
    PetscCall(PetscFree2(coef, pos));
    PetscCall(ierr);
  } else { /* nothing informative survived the preparation: the mean */
    m->b0 = 0;
    for (int j = 0; j < n; j++) m->b0 += w->y[j] / n;
  }
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_svr_tol(double *tol)
{
  PetscFunctionBeginUser;
  *tol = 1e-2;
  PetscCall(cdn_option_real("cnndyn_svr_", "-tol", 1e-12, 1, tol));
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_svr_fit(const cdn_fold_t *f, cdn_fitted_t *m)
{
  svr_work_t     w;
  double         tol = 1e-2;
  int            n   = f->ntr;
  PetscErrorCode ierr;

  PetscFunctionBeginUser;
  PetscCall(cdn_svr_tol(&tol));
  PetscCall(cdn_prepared_rows(&m->sc, f, &w.Z));
  PetscCall(PetscMalloc7((size_t)n * n + 1, &w.D, n + 1, &w.y, n + 1, &w.out, n + 1, &w.all, n + 1, &w.fold, n + 1, &w.itr,
                         n + 1, &w.ite));
  ierr = svr_fit_in(f, m, tol, &w);
  PetscCall(PetscFree7(w.D, w.y, w.out, w.all, w.fold, w.itr, w.ite));
  PetscCall(PetscFree(w.Z));
  PetscCall(ierr);
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_svr_predict(const cdn_fitted_t *m, const double *X, const int *rows, int nr, double *pred, int *cls)
{
  double *Z;
  int     p = m->sc.width;

  PetscFunctionBeginUser;
  PetscCall(cdn_scaler_rows(&m->sc, X, rows, nr, &Z));
  for (int r = 0; r < nr; r++) {
    double sum = 0;
    for (int i = 0; i < m->nw; i++) {
      double d2 = 0;
      for (int j = 0; j < p; j++) {
        double t = Z[(size_t)r * p + j] - m->sv[(size_t)i * p + j];
        d2 += t * t;
      }
      sum += m->w[i] * exp(-m->hp[1] * d2);
    }
    pred[r] = sum + m->b0;
    cls[r]  = cdn_fitted_bin(m, pred[r]);
  }
  PetscCall(PetscFree(Z));
  PetscFunctionReturn(0);
}
