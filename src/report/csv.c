/* CSV reports. Every number goes through cdn_csv_number so that the same results always print the
   same bytes, whatever the rank count. */
#include <math.h>
#include <string.h>
#include "cnndyn/report.h"
#include "cnndyn/util.h"

void cdn_csv_number(FILE *fp, double v)
{
  if (isnan(v)) return;
  if (isinf(v)) fputs(v > 0 ? "inf" : "-inf", fp);
  else fprintf(fp, "%.9g", v);
}

static void quoted(FILE *fp, const char *s)
{
  fputc('"', fp);
  for (; *s; s++) {
    if (*s == '"') fputc('"', fp); /* RFC 4180: a quote inside a quoted field is doubled */
    fputc(*s, fp);
  }
  fputc('"', fp);
}

void cdn_csv_text(FILE *fp, const char *s)
{
  if (strpbrk(s, ",\"\r\n")) quoted(fp, s);
  else fputs(s, fp);
}

static void sep(FILE *fp) { fputc(',', fp); }

const char *const cdn_report_files[CDN_REPORT_NFILES] = {"predictions.csv", "report.csv", "report.md", "early_stop.csv",
                                                         "models.csv",      "curves.csv", "timing.csv", "features.csv"};

static void write_models(FILE *fp, const cdn_results_t *r)
{
  fputs("model,config,replicate,seed,architecture", fp);
  for (int h = 0; h < CDN_HP_COUNT; h++) fprintf(fp, ",%s", cdn_hparam_name((cdn_hparam_t)h));
  fputs(",status,diverged_epoch,epochs_trained,final_val_loss,final_val_accuracy,final_test_accuracy,label,pruned_epoch,"
        "pruned_test_accuracy\n", fp);
  for (int m = 0; m < r->nmodels; m++) {
    const cdn_model_config_t *c    = &r->config[m];
    const double             *last = cdn_results_curve(r, m, r->epochs_done[m]);
    fprintf(fp, "%d,%d,%d,%llu,", c->id, c->config_id, c->replicate, (unsigned long long)c->seed);
    cdn_csv_text(fp, c->arch);
    for (int h = 0; h < CDN_HP_COUNT; h++) sep(fp), cdn_csv_number(fp, c->hp[h]);
    fprintf(fp, ",%s,", cdn_status_name(r->status[m]));
    if (r->status[m] == CDN_STATUS_DIVERGED) fprintf(fp, "%d", r->diverged_epoch[m]);
    fprintf(fp, ",%d,", r->epochs_done[m]);
    cdn_csv_number(fp, last[CDN_CURVE_VAL_LOSS]), sep(fp);
    cdn_csv_number(fp, last[CDN_CURVE_VAL_ACC]), sep(fp);
    cdn_csv_number(fp, r->test_acc[m]), sep(fp);
    cdn_csv_number(fp, cdn_results_label(r, m)), sep(fp);
    if (r->pruned_epoch[m] > 0) fprintf(fp, "%d", r->pruned_epoch[m]);
    sep(fp), cdn_csv_number(fp, r->pruned_test_acc[m]);
    fputc('\n', fp);
  }
}

static void write_curves(FILE *fp, const cdn_results_t *r)
{
  fputs("model,epoch,train_loss,val_loss,val_accuracy\n", fp);
  for (int m = 0; m < r->nmodels; m++)
    for (int e = 0; e <= r->epochs_done[m]; e++) {
      const double *c = cdn_results_curve(r, m, e);
      fprintf(fp, "%d,%d,", r->config[m].id, e);
      cdn_csv_number(fp, c[CDN_CURVE_TRAIN_LOSS]), sep(fp);
      cdn_csv_number(fp, c[CDN_CURVE_VAL_LOSS]), sep(fp);
      cdn_csv_number(fp, c[CDN_CURVE_VAL_ACC]);
      fputc('\n', fp);
    }
}

static void write_timing(FILE *fp, const cdn_results_t *r)
{
  fputs("model,epoch,rank,train_seconds,graph_seconds\n", fp);
  for (int m = 0; m < r->nmodels; m++)
    for (int e = 0; e <= r->epochs_done[m]; e++) {
      const double *t = cdn_results_time(r, m, e);
      fprintf(fp, "%d,%d,%d,%.4f,%.4f\n", r->config[m].id, e, r->rank[m], t[CDN_TIME_TRAIN], t[CDN_TIME_GRAPH]);
    }
}

static void write_features(FILE *fp, const cdn_results_t *r)
{
  fputs("model,epoch", fp);
  for (int f = 0; f < r->nfeat; f++) sep(fp), cdn_csv_text(fp, r->columns[f].name);
  fputc('\n', fp);
  for (int m = 0; m < r->nmodels; m++)
    for (int e = 0; e <= r->epochs_done[m]; e++) {
      const double *x = cdn_results_features(r, m, e);
      fprintf(fp, "%d,%d", r->config[m].id, e);
      for (int f = 0; f < r->nfeat; f++) sep(fp), cdn_csv_number(fp, x[f]);
      fputc('\n', fp);
    }
}

/* Every repeat's out-of-fold outputs, with the outer fold that tested each model and what the tau
   metrics rank (docs/prediction.md): enough to recompute report.csv. */
static void write_predictions(FILE *fp, const cdn_results_t *res, const cdn_evaluation_t *ev)
{
  fputs("subset,method,learner,epochs_used,model,actual,predicted,actual_class,predicted_class,repeat,fold,"
        "rank_score\n", fp);
  for (int i = 0; i < ev->nrows; i++) {
    const cdn_eval_row_t *r   = &ev->row[i];
    const cdn_subset_t   *sub = &ev->subset[r->subset];
    for (int q = 0; q < r->repeats; q++)
      for (int j = 0; j < sub->n; j++) {
        size_t at = (size_t)q * sub->n + j;
        int    m  = sub->model[j];
        if (sub->test && !sub->test[j]) continue; /* a transfer split predicts its test side only */
        cdn_csv_text(fp, sub->name);
        /* the model's id: after pruned models are left out, index and id differ */
        fprintf(fp, ",%s,%s,%d,%d,", cdn_method_name(r->method), cdn_learner_name(r->learner), r->budget,
                res->config[m].id);
        cdn_csv_number(fp, ev->label[m]), sep(fp);
        cdn_csv_number(fp, r->pred[at]);
        fprintf(fp, ",%d,%d,%d,", r->true_class[at], r->pred_class[at], q);
        if (sub->fold) fprintf(fp, "%d", sub->fold[at]);
        sep(fp), cdn_csv_number(fp, r->rank[at]), fputc('\n', fp);
      }
  }
}

/* The nested choices behind the best_* rows of report.csv: per outer fold, the row whose inner
   folds scored best (its predictions for that fold are the headline's there). */
static void write_selection(FILE *fp, const cdn_evaluation_t *ev)
{
  fputs("subset,headline,epochs,repeat,fold,method,learner,epochs_used,inner_tau\n", fp);
  for (int i = 0; i < ev->nheadlines; i++) {
    const cdn_headline_t *h   = &ev->headline[i];
    const cdn_subset_t   *sub = &ev->subset[h->subset];
    if (!h->choice || h->row < 0) continue;
    for (int q = 0; q < ev->row[h->row].repeats; q++)
      for (int g = 0; g < sub->nfolds; g++) {
        int                   c = h->choice[q * sub->nfolds + g];
        const cdn_eval_row_t *r = c >= 0 ? &ev->row[c] : NULL;
        if (!r) continue;
        cdn_csv_text(fp, sub->name);
        fprintf(fp, ",%s,%d,%d,%d,%s,%s,%d,", cdn_report_headline_name(h->kind), h->budget, q, g,
                cdn_method_name(r->method), cdn_learner_name(r->learner), r->budget);
        cdn_csv_number(fp, r->select[(size_t)q * ev->folds + g]), fputc('\n', fp);
      }
  }
}

/* The 95% interval columns: set for within-fold tau and accuracy of a headline (or the
   pre-registered row), empty elsewhere. */
static void ci_columns(FILE *fp, const cdn_headline_t *h, int j)
{
  const double *ci = !h ? NULL : j == CDN_REPORT_TAU_FOLD ? h->tau_ci : j == CDN_REPORT_ACCURACY ? h->acc_ci : NULL;
  sep(fp);
  if (ci) cdn_csv_number(fp, ci[0]);
  sep(fp);
  if (ci) cdn_csv_number(fp, ci[1]);
  fputc('\n', fp);
}

static void write_report(FILE *fp, const cdn_evaluation_t *ev, const char *task)
{
  fputs("subset,method,features,learner,epochs,task,metric,mean,std,family,ci_lo,ci_hi\n", fp);
  for (int i = 0; i < ev->nrows; i++) {
    const cdn_eval_row_t *r  = &ev->row[i];
    const cdn_headline_t *pr = cdn_evaluation_headline(ev, r->subset, r->budget, CDN_HEADLINE_PREREG);
    for (int j = 0; j < CDN_REPORT_NMETRICS; j++) {
      const cdn_report_metric_t *mt = &cdn_report_metrics[j];
      cdn_csv_text(fp, ev->subset[r->subset].name);
      fprintf(fp, ",%s,", cdn_method_name(r->method));
      quoted(fp, r->features); /* always quoted: the descriptions hold commas */
      fprintf(fp, ",%s,%d,%s,%s,", cdn_learner_name(r->learner), r->budget, mt->classification ? task : "regression", mt->name);
      cdn_csv_number(fp, cdn_report_metric(&r->mean, j)), sep(fp);
      cdn_csv_number(fp, cdn_report_metric(&r->std, j));
      fprintf(fp, ",%s", cdn_family_name(cdn_method_family(r->method)));
      ci_columns(fp, pr && pr->row == i ? pr : NULL, j);
    }
  }
  /* the headlines: nested best of each family and the difference, after every row */
  for (int i = 0; i < ev->nheadlines; i++) {
    const cdn_headline_t *h = &ev->headline[i];
    char                  what[160];
    if (h->row < 0 || h->kind == CDN_HEADLINE_PREREG) continue;
    cdn_report_headline_text(ev, h, what, sizeof what);
    for (int j = 0; j < CDN_REPORT_NMETRICS; j++) {
      const cdn_report_metric_t *mt = &cdn_report_metrics[j];
      if (h->kind == CDN_HEADLINE_DIFF && j != CDN_REPORT_TAU_FOLD && j != CDN_REPORT_ACCURACY) continue;
      cdn_csv_text(fp, ev->subset[h->subset].name), fprintf(fp, ",%s,", cdn_report_headline_name(h->kind));
      quoted(fp, what), fprintf(fp, ",nested,%d,%s,%s,", h->budget, mt->classification ? task : "regression", mt->name);
      cdn_csv_number(fp, cdn_report_metric(&h->mean, j)), sep(fp);
      cdn_csv_number(fp, cdn_report_metric(&h->std, j));
      fprintf(fp, ",%s", h->kind == CDN_HEADLINE_DIFF ? "graph-baseline" : cdn_family_name((cdn_family_t)h->kind));
      ci_columns(fp, h, j);
    }
  }
}

/* One early_stop.csv row: kind, budget, the policy's three names, then the numbers (NaN: empty). */
static void early_row(FILE *fp, const char *kind, int k, int p, double fraction, double saved, double regret,
                      const double ci[2], const double span[2])
{
  const char *policy, *predictor, *family;
  cdn_early_policy_names(p, &policy, &predictor, &family);
  fprintf(fp, "%s,%d,%s,%s,%s,", kind, k, policy, predictor, family);
  cdn_csv_number(fp, fraction), sep(fp);
  cdn_csv_number(fp, saved), sep(fp);
  cdn_csv_number(fp, regret), sep(fp);
  cdn_csv_number(fp, ci[0]), sep(fp);
  cdn_csv_number(fp, ci[1]), sep(fp);
  cdn_csv_number(fp, span ? span[0] : NAN), sep(fp);
  cdn_csv_number(fp, span ? span[1] : NAN), fputc('\n', fp);
}

static void write_early_stop(FILE *fp, const cdn_evaluation_t *ev)
{
  fputs("kind,epochs,policy,predictor,family,fraction_stopped,epochs_saved,regret,ci_lo,ci_hi,saved_from,saved_to\n", fp);
  for (int e = 0; e < ev->nearly; e++) {
    const cdn_early_curve_t *c = &ev->early[e];
    for (int p = 0; p < CDN_POLICIES; p++) {
      if (!c->run[p]) continue;
      for (int f = 0; f < c->nf; f++)
        early_row(fp, "sweep", c->budget, p, c->fraction[f], c->saved[p][f], c->regret[p][f], c->regret_ci[p][f], NULL);
      for (int l = 0; l < CDN_EARLY_LEVELS; l++)
        if (isfinite(c->at[p][l]))
          early_row(fp, "equal_compute", c->budget, p, NAN, cdn_early_level(l), c->at[p][l], c->at_ci[p][l], NULL);
      if (isnan(c->span[p][0])) continue;
      early_row(fp, "mean", c->budget, p, NAN, NAN, c->mean[p], c->mean_ci[p], c->span[p]);
      if (p != CDN_POLICY_PRUNE_GRAPH)
        early_row(fp, "graph_minus", c->budget, p, NAN, NAN, c->diff[p], c->diff_ci[p], c->span[p]);
    }
  }
}

/* Files [lo, hi) of this list: the prediction outputs, then the rows (ev NULL: the rows alone). */
static PetscErrorCode write_files(const char *outdir, const cdn_jobspec_t *spec, const cdn_results_t *res,
                                  const cdn_evaluation_t *ev, int lo, int hi)
{
  enum { PREDICTIONS, REPORT, MARKDOWN, EARLY, MODELS, CURVES, TIMING, FEATURES, NFILES };
  const char *const *names          = cdn_report_files;
  cdn_afile_t        af[NFILES], sel; /* selection.csv: with the prediction outputs, not required of a run */
  PetscErrorCode     ierr = 0;
  int                opened;

  PetscFunctionBeginUser;
  memset(af, 0, sizeof af), memset(&sel, 0, sizeof sel);
  for (opened = lo; opened < hi && !ierr; opened++) {
    char path[PETSC_MAX_PATH_LEN];
    snprintf(path, sizeof path, "%s/%s", outdir, names[opened]);
    ierr = cdn_afile_open(&af[opened], path);
  }
  if (!ierr && lo < MODELS) {
    char path[PETSC_MAX_PATH_LEN];
    snprintf(path, sizeof path, "%s/selection.csv", outdir);
    ierr = cdn_afile_open(&sel, path);
  }
  if (!ierr) {
    if (hi > MODELS) {
      write_models(af[MODELS].fp, res);
      write_curves(af[CURVES].fp, res);
      write_timing(af[TIMING].fp, res);
      write_features(af[FEATURES].fp, res);
    }
    if (lo < MODELS) {
      const char *task = spec->class_task == CDN_CLASSES_MEDIAN     ? "median"
                         : spec->class_task == CDN_CLASSES_TERCILES ? "terciles"
                                                                    : "thresholds";
      write_predictions(af[PREDICTIONS].fp, res, ev);
      write_selection(sel.fp, ev);
      write_report(af[REPORT].fp, ev, task);
      cdn_report_markdown(af[MARKDOWN].fp, spec, res, ev);
      write_early_stop(af[EARLY].fp, ev);
    }
    for (int i = lo; i < hi && !ierr; i++)
      if (ferror(af[i].fp)) ierr = PetscError(PETSC_COMM_SELF, __LINE__, PETSC_FUNCTION_NAME, __FILE__, CDN_ERR_WRITE,
                                              PETSC_ERROR_INITIAL, "%s: write failed", af[i].path);
  }
  /* Rename only when every file is whole: a failed run leaves the previous outputs, not a mix. */
  if (!ierr && sel.fp && ferror(sel.fp))
    ierr = PetscError(PETSC_COMM_SELF, __LINE__, PETSC_FUNCTION_NAME, __FILE__, CDN_ERR_WRITE, PETSC_ERROR_INITIAL,
                      "%s: write failed", sel.path);
  for (int i = lo; i < hi && !ierr; i++) ierr = cdn_afile_commit(&af[i]);
  if (!ierr && sel.fp) ierr = cdn_afile_commit(&sel);
  if (ierr) {
    for (int i = lo; i < hi; i++) cdn_afile_abort(&af[i]);
    if (sel.fp) cdn_afile_abort(&sel);
  }
  PetscCall(ierr);
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_report_write(const char *outdir, const cdn_jobspec_t *spec, const cdn_results_t *res,
                                const cdn_evaluation_t *ev, PetscBool prediction_only)
{
  PetscFunctionBeginUser;
  PetscCall(write_files(outdir, spec, res, ev, 0, prediction_only ? 4 : 8));
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_report_write_rows(const char *outdir, const cdn_results_t *res)
{
  PetscFunctionBeginUser;
  PetscCall(write_files(outdir, NULL, res, NULL, 4, 8));
  PetscFunctionReturn(0);
}
