/* The methods every report compares. Graph summaries go to the linear learner; the validation
   accuracy at the same epoch budget is the baseline any early-stopping user already has. */
#include <math.h>
#include <string.h>
#include "cnndyn/evaluate.h"
#include "cnndyn/features.h"
#include "cnndyn/stats.h"

/* X (n x width) from the summaries of the feature columns whose name starts with prefix ("" = all). */
static PetscErrorCode graph_inputs(const cdn_jobspec_t *spec, const cdn_results_t *res, const char *prefix,
                                   double **Xout, int *dout)
{
  int     k = spec->budget, nsel = 0, width;
  int    *col;
  double *rows, *X;

  PetscFunctionBeginUser;
  PetscCall(PetscMalloc1(res->nfeat, &col));
  for (int f = 0; f < res->nfeat; f++)
    if (!strncmp(res->feat_names[f], prefix, strlen(prefix)) && strncmp(res->feat_names[f], "weights.", 8)) col[nsel++] = f;
  width = cdn_summary_width(nsel, k, spec->differences);
  PetscCall(PetscMalloc1((size_t)(k + 1) * nsel, &rows));
  PetscCall(PetscMalloc1((size_t)res->nmodels * width, &X));
  for (int m = 0; m < res->nmodels; m++) {
    for (int e = 0; e <= k; e++) {
      const double *fr = cdn_results_features(res, m, e);
      for (int j = 0; j < nsel; j++) rows[e * nsel + j] = fr[col[j]];
    }
    cdn_summary_build(rows, nsel, k, spec->differences, X + (size_t)m * width);
  }
  PetscCall(PetscFree(rows));
  PetscCall(PetscFree(col));
  *Xout = X;
  *dout = width;
  PetscFunctionReturn(0);
}

static PetscErrorCode run_method(const cdn_predict_problem_t *pb, cdn_evaluation_t *ev, const char *name,
                                 const char *input, int budget, cdn_learner_t learner, int d, const double *X)
{
  cdn_method_result_t *mr;

  PetscFunctionBeginUser;
  PetscCheck(ev->nmethods < CDN_MAX_METHODS, PETSC_COMM_SELF, PETSC_ERR_PLIB, "too many methods");
  mr = &ev->method[ev->nmethods++];
  snprintf(mr->name, sizeof mr->name, "%s", name);
  snprintf(mr->input, sizeof mr->input, "%s", input);
  mr->budget = budget;
  PetscCall(PetscMalloc1(pb->n, &mr->pred));
  PetscCall(PetscMalloc1(pb->n, &mr->pred_class));
  PetscCall(cdn_predict_cv(pb, learner, d, X, mr->pred, mr->pred_class, &mr->metrics));
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_evaluate(const cdn_jobspec_t *spec, const cdn_results_t *res, cdn_evaluation_t *ev)
{
  int                   n = res->nmodels, k = spec->budget, d, *group;
  double               *X;
  char                  input[96];
  cdn_predict_problem_t pb;

  PetscFunctionBeginUser;
  memset(ev, 0, sizeof *ev);
  ev->n = n;
  PetscCall(PetscMalloc1(n, &ev->label));
  PetscCall(PetscMalloc1(n, &ev->label_class));
  PetscCall(PetscMalloc1(n, &group));
  for (int m = 0; m < n; m++) {
    ev->label[m] = cdn_results_label(res, m);
    group[m]     = res->config[m].config_id;
  }
  cdn_median_classes(ev->label, n, ev->label_class);
  pb = (cdn_predict_problem_t){.n            = n,
                               .y            = ev->label,
                               .group        = group,
                               .folds        = spec->folds,
                               .seed         = spec->seed,
                               .ridge_lambda = spec->ridge_lambda,
                               .logistic_c   = spec->logistic_c};

  /* All selected statistics together, then each alone when there is more than one. */
  snprintf(input, sizeof input, "graph summary, epochs 0..%d%s", k, spec->differences ? " + differences" : "");
  PetscCall(graph_inputs(spec, res, "", &X, &d));
  PetscCall(run_method(&pb, ev, "graph", input, k, CDN_LEARNER_LINEAR, d, X));
  PetscCall(PetscFree(X));
  if (__builtin_popcount(spec->stat_mask) > 1) {
    for (int s = 0; s < CDN_STAT_COUNT; s++) {
      char prefix[64];
      if (!(spec->stat_mask & (1u << s))) continue;
      snprintf(prefix, sizeof prefix, "%s.", cdn_stat_name((cdn_stat_t)s));
      snprintf(input, sizeof input, "%s summary, epochs 0..%d%s", cdn_stat_name((cdn_stat_t)s), k,
               spec->differences ? " + differences" : "");
      PetscCall(graph_inputs(spec, res, prefix, &X, &d));
      PetscCall(run_method(&pb, ev, cdn_stat_name((cdn_stat_t)s), input, k, CDN_LEARNER_LINEAR, d, X));
      PetscCall(PetscFree(X));
    }
  }

  /* Baseline: validation accuracy at epoch k, taken as the score itself. */
  PetscCall(PetscMalloc1(n, &X));
  for (int m = 0; m < n; m++) X[m] = cdn_results_curve(res, m, k)[CDN_CURVE_VAL_ACC];
  snprintf(input, sizeof input, "validation accuracy at epoch %d", k);
  PetscCall(run_method(&pb, ev, "val_acc", input, k, CDN_LEARNER_SCORE, 1, X));
  PetscCall(PetscFree(X));
  PetscCall(PetscFree(group));
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_evaluation_free(cdn_evaluation_t *ev)
{
  PetscFunctionBeginUser;
  for (int i = 0; i < ev->nmethods; i++) {
    PetscCall(PetscFree(ev->method[i].pred));
    PetscCall(PetscFree(ev->method[i].pred_class));
  }
  PetscCall(PetscFree(ev->label));
  PetscCall(PetscFree(ev->label_class));
  ev->nmethods = 0;
  PetscFunctionReturn(0);
}
