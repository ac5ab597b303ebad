/* A scorer: one learner fitted on every model of a results table for one method and epoch budget,
   kept in memory to score other models. `cnndyn predict --save` writes one to a file, `--model`
   reads one back, and [pruning] policy = predictor fits or loads one during a run: all three go
   through the fit of one cross-validation fold (cdn_fitted_fit) and its prediction. */
#include <math.h>
#include <string.h>
#include "cnndyn/evaluate.h"
#include "cnndyn/model.h"
#include "predict_impl.h"

struct cdn_scorer {
  cdn_predictor_info_t info;
  int                  width;        /* input columns */
  char                 families[128]; /* the family indicator columns of its inputs ("-": none) */
  char                 name[PETSC_MAX_PATH_LEN]; /* for messages: the file, or what it was fitted on */
  cdn_fitted_t        *m;
};

const cdn_predictor_info_t *cdn_scorer_info(const cdn_scorer_t *s) { return &s->info; }

PetscErrorCode cdn_scorer_fit(const cdn_jobspec_t *spec, cdn_method_t method, cdn_learner_t learner, int k,
                              const cdn_results_t *res, const char *name, cdn_scorer_t **out)
{
  const int      n = res->nmodels;
  double        *X = NULL, *y = NULL, th[8];
  int            d = 0, nclasses = 2, *all = NULL, *cls = NULL, *grp = NULL;
  char           desc[96];
  cdn_scorer_t  *s;
  cdn_fold_t     f;
  PetscErrorCode ierr;

  PetscFunctionBeginUser;
  *out = NULL;
  PetscCheck(method >= 0 && method < CDN_METHOD_COUNT, PETSC_COMM_SELF, CDN_ERR_INPUT, "%s: unknown method %d", name,
             (int)method);
  PetscCheck(learner >= 0 && learner < CDN_LEARNER_COUNT && (cdn_method_learners(method) & (1u << learner)),
             PETSC_COMM_SELF, CDN_ERR_INPUT, "%s: method %s does not take learner %s", name, cdn_method_name(method),
             cdn_learner_name(learner));
  PetscCheck(n >= 2, PETSC_COMM_SELF, CDN_ERR_INPUT, "%s: %d model(s): nothing to fit on", name, n);
  for (int i = 0; i < n; i++)
    PetscCheck(isfinite(cdn_results_label(res, i)), PETSC_COMM_SELF, CDN_ERR_INPUT, "%s: model %d has no final accuracy",
               name, res->config[i].id);
  PetscCall(cdn_method_inputs(method, res, k ? k : 1, &X, &d, desc, sizeof desc));
  if (d == 0 || (learner == CDN_LEARNER_SCORE && d > 1)) { /* a file holds one score column, not a choice */
    PetscCall(PetscFree(X));
    PetscCheck(d > 0, PETSC_COMM_SELF, CDN_ERR_INPUT, "%s: method %s has no inputs in this run", name,
               cdn_method_name(method));
    SETERRQ(PETSC_COMM_SELF, CDN_ERR_INPUT, "%s: %s with the score learner reads one of %d columns chosen per fit; "
            "it cannot be saved", name, cdn_method_name(method), d);
  }
  PetscCall(PetscNew(&s));
  s->info  = (cdn_predictor_info_t){.method = method, .learner = learner, .budget = k};
  s->width = d;
  snprintf(s->name, sizeof s->name, "%s", name);
  cdn_method_families(method, res, s->families, sizeof s->families);
  cdn_arch_list_write(cdn_results_arch_mask(res), s->info.fitted_on, sizeof s->info.fitted_on);
  ierr = PetscMalloc4(n, &y, n, &all, n, &cls, n, &grp);
  for (int i = 0; i < n && !ierr; i++) y[i] = cdn_results_label(res, i), all[i] = i, grp[i] = res->config[i].config_id;
  if (!ierr) ierr = cdn_class_cuts(spec, y, n, &nclasses, th);
  if (!ierr) {
    for (int i = 0; i < n; i++) {
      cls[i] = 0;
      for (int t = 0; t < nclasses - 1; t++) cls[i] += y[i] > th[t];
    }
    f = (cdn_fold_t){.d = d, .X = X, .y = y, .cls = cls, .train = all, .ntr = n, .group = grp, .nclasses = nclasses,
                     .train_cuts = spec->class_task != CDN_CLASSES_THRESHOLDS, .thresholds = th,
                     .inner_folds = spec->inner_folds, .seed = cdn_hash64(spec->seed, 0x7361766564ull),
                     .lambda = spec->ridge_lambda, .c = spec->logistic_c};
    ierr = cdn_fitted_fit(&f, learner, &s->m);
  }
  if (!ierr) {
    s->info.ncuts = s->m->ncuts;
    memcpy(s->info.cuts, s->m->cuts, sizeof(double) * s->m->ncuts);
  }
  if (y) PetscCall(PetscFree4(y, all, cls, grp));
  PetscCall(PetscFree(X));
  if (ierr) PetscCall(PetscFree(s));
  PetscCall(ierr);
  *out = s;
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_scorer_write(const cdn_scorer_t *s, const char *path)
{
  PetscFunctionBeginUser;
  PetscCall(cdn_predictor_write(path, s->info.method, s->info.learner, s->info.budget, s->width, s->families,
                                s->info.fitted_on, s->m));
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_scorer_load(const char *path, cdn_scorer_t **out)
{
  cdn_scorer_t  *s;
  char          *buf = NULL;
  size_t         len = 0;
  PetscErrorCode ierr;

  PetscFunctionBeginUser;
  *out = NULL;
  PetscCall(PetscNew(&s));
  snprintf(s->name, sizeof s->name, "%s", path);
  ierr = cdn_predictor_read(path, &s->info, &s->width, s->families, sizeof s->families, &buf, &len);
  if (!ierr) {
    ierr = cdn_fitted_parse(path, buf, len, s->info.learner, s->width, &s->m);
    PetscCall(PetscFree(buf));
  }
  if (!ierr) {
    s->info.ncuts = s->m->ncuts;
    memcpy(s->info.cuts, s->m->cuts, sizeof(double) * s->m->ncuts);
  }
  if (ierr) PetscCall(PetscFree(s));
  PetscCall(ierr);
  *out = s;
  PetscFunctionReturn(0);
}

/* res's inputs for the scorer (X, n x width) or CDN_ERR_INPUT naming what does not fit. */
static PetscErrorCode inputs(const cdn_scorer_t *s, const cdn_results_t *res, double **X)
{
  char desc[96];
  int  d, k = s->info.budget;

  PetscFunctionBeginUser;
  PetscCheck(k <= res->epochs, PETSC_COMM_SELF, CDN_ERR_INPUT, "%s: fitted at %d epochs, this run has only %d", s->name, k,
             res->epochs);
  PetscCall(cdn_method_inputs_as(s->info.method, res, k ? k : 1, s->families, X, &d, desc, sizeof desc));
  if (d != s->width) {
    PetscCall(PetscFree(*X));
    PetscCheck(d > 0, PETSC_COMM_SELF, CDN_ERR_INPUT, "%s: method %s has no inputs in this run (statistic not computed?)",
               s->name, cdn_method_name(s->info.method));
    SETERRQ(PETSC_COMM_SELF, CDN_ERR_INPUT,
            "%s: fitted on %d input columns, this run's %s inputs have %d (different statistics or aggregators?)", s->name,
            s->width, cdn_method_name(s->info.method), d);
  }
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_scorer_check(const cdn_scorer_t *s, const cdn_results_t *res)
{
  double *X;

  PetscFunctionBeginUser;
  PetscCheck(s->info.fitted_on[0], PETSC_COMM_SELF, CDN_ERR_INPUT,
             "%s: does not say which architectures it was fitted on (written by an older cnndyn, or fitted on a run without "
             "an architecture column): fit it again with --save on a run of this cnndyn",
             s->name);
  {
    unsigned fit = (unsigned)cdn_arch_list_read(s->info.fitted_on), other = cdn_results_arch_mask(res) & ~fit;
    for (int a = 0; a < CDN_ARCH_COUNT; a++)
      PetscCheck(!(other >> a & 1u), PETSC_COMM_SELF, CDN_ERR_INPUT, "%s: fitted on %s models only; this run has %s models",
                 s->name, s->info.fitted_on, cdn_arch_names[a]);
  }
  PetscCall(inputs(s, res, &X));
  PetscCall(PetscFree(X));
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_scorer_predict(const cdn_scorer_t *s, const cdn_results_t *res, double *pred, int *pred_class)
{
  const int      n = res->nmodels;
  double        *X;
  int           *rows, bad = -1;
  PetscErrorCode ierr;

  PetscFunctionBeginUser;
  PetscCall(inputs(s, res, &X));
  ierr = PetscMalloc1(n + 1, &rows);
  for (int i = 0; i < n && !ierr; i++) rows[i] = i;
  if (!ierr) ierr = cdn_fitted_predict(s->m, X, rows, n, pred, pred_class);
  /* every number of a file can be finite and in range while their product is not (an outside
     review set each to 1e308: predictions of 1e308, tau NaN, exit 0); an accuracy predictor's
     output is a score near [0, 1] (score learners: the raw value, a loss at most a few hundred) */
  for (int i = 0; i < n && !ierr && bad < 0; i++)
    if (pred[i] > 1e6 || pred[i] < -1e6 || isinf(pred[i])) bad = i;
  PetscCall(PetscFree(rows));
  PetscCall(PetscFree(X));
  PetscCall(ierr);
  PetscCheck(bad < 0, PETSC_COMM_SELF, CDN_ERR_CORRUPT,
             "%s: predicts %g for model %d: not an accuracy predictor (damaged numbers?)", s->name, pred[bad], bad);
  PetscFunctionReturn(0);
}

int cdn_scorer_bin(const cdn_scorer_t *s, double v) { return cdn_fitted_bin(s->m, v); }

PetscErrorCode cdn_scorer_destroy(cdn_scorer_t **s)
{
  PetscFunctionBeginUser;
  if (!*s) PetscFunctionReturn(0);
  PetscCall(cdn_fitted_destroy(&(*s)->m));
  PetscCall(PetscFree(*s));
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_predictor_save(const char *path, const cdn_jobspec_t *spec, cdn_method_t method,
                                  cdn_learner_t learner, int k, const cdn_results_t *res)
{
  cdn_scorer_t  *s;
  PetscErrorCode ierr;

  PetscFunctionBeginUser;
  PetscCall(cdn_scorer_fit(spec, method, learner, k, res, "--save", &s));
  ierr = cdn_scorer_write(s, path);
  PetscCall(cdn_scorer_destroy(&s));
  PetscCall(ierr);
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_predictor_score(const char *path, const cdn_results_t *res, double *pred, int *pred_class,
                                   int *label_class, cdn_predictor_info_t *info)
{
  cdn_scorer_t  *s;
  PetscErrorCode ierr;

  PetscFunctionBeginUser;
  PetscCall(cdn_scorer_load(path, &s));
  *info = s->info;
  /* the same check as a run's pruning predictor (an outside review scored an AlexNet run with a
     ResNet predictor of the same width); files from before fitted_on existed are still read */
  ierr = s->info.fitted_on[0] ? cdn_scorer_check(s, res) : 0;
  if (!ierr) ierr = cdn_scorer_predict(s, res, pred, pred_class);
  for (int i = 0; i < res->nmodels && !ierr; i++) label_class[i] = cdn_scorer_bin(s, cdn_results_label(res, i));
  PetscCall(cdn_scorer_destroy(&s));
  PetscCall(ierr);
  PetscFunctionReturn(0);
}
