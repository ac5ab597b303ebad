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

static void sep(FILE *fp) { fputc(',', fp); }

static void write_models(FILE *fp, const cdn_results_t *r)
{
  fputs("model,config,replicate,seed", fp);
  for (int h = 0; h < CDN_HP_COUNT; h++) fprintf(fp, ",%s", cdn_hparam_name((cdn_hparam_t)h));
  fputs(",status,diverged_epoch,epochs_trained,final_val_loss,final_val_accuracy,final_test_accuracy\n", fp);
  for (int m = 0; m < r->nmodels; m++) {
    const cdn_model_config_t *c    = &r->config[m];
    const double             *last = cdn_results_curve(r, m, r->epochs_done[m]);
    fprintf(fp, "%d,%d,%d,%llu", c->id, c->config_id, c->replicate, (unsigned long long)c->seed);
    for (int h = 0; h < CDN_HP_COUNT; h++) sep(fp), cdn_csv_number(fp, c->hp[h]);
    fprintf(fp, ",%s,", r->status[m] == CDN_STATUS_DIVERGED ? "diverged" : "ok");
    if (r->status[m] == CDN_STATUS_DIVERGED) fprintf(fp, "%d", r->diverged_epoch[m]);
    fprintf(fp, ",%d,", r->epochs_done[m]);
    cdn_csv_number(fp, last[CDN_CURVE_VAL_LOSS]), sep(fp);
    cdn_csv_number(fp, last[CDN_CURVE_VAL_ACC]), sep(fp);
    cdn_csv_number(fp, r->test_acc[m]);
    fputc('\n', fp);
  }
}

static void write_curves(FILE *fp, const cdn_results_t *r)
{
  fputs("model,epoch,train_loss,val_loss,val_accuracy\n", fp);
  for (int m = 0; m < r->nmodels; m++)
    for (int e = 0; e <= r->epochs_done[m]; e++) {
      const double *c = cdn_results_curve(r, m, e);
      fprintf(fp, "%d,%d,", m, e);
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
      fprintf(fp, "%d,%d,%d,%.4f,%.4f\n", m, e, r->rank[m], t[CDN_TIME_TRAIN], t[CDN_TIME_GRAPH]);
    }
}

static void write_features(FILE *fp, const cdn_results_t *r)
{
  fputs("model,epoch", fp);
  for (int f = 0; f < r->nfeat; f++) fprintf(fp, ",%s", r->feat_names[f]);
  fputc('\n', fp);
  for (int m = 0; m < r->nmodels; m++)
    for (int e = 0; e <= r->epochs_done[m]; e++) {
      const double *x = cdn_results_features(r, m, e);
      fprintf(fp, "%d,%d", m, e);
      for (int f = 0; f < r->nfeat; f++) sep(fp), cdn_csv_number(fp, x[f]);
      fputc('\n', fp);
    }
}

static void write_predictions(FILE *fp, const cdn_evaluation_t *ev)
{
  fputs("model,method,epochs_used,actual,predicted,actual_class,predicted_class\n", fp);
  for (int i = 0; i < ev->nmethods; i++) {
    const cdn_method_result_t *mr = &ev->method[i];
    for (int m = 0; m < ev->n; m++) {
      fprintf(fp, "%d,%s,%d,", m, mr->name, mr->budget);
      cdn_csv_number(fp, ev->label[m]), sep(fp);
      cdn_csv_number(fp, mr->pred[m]);
      fprintf(fp, ",%d,%d\n", ev->label_class[m], mr->pred_class[m]);
    }
  }
}

static void write_report(FILE *fp, const cdn_evaluation_t *ev)
{
  fputs("method,epochs_used,metric,value,input\n", fp);
  for (int i = 0; i < ev->nmethods; i++) {
    const cdn_method_result_t *mr = &ev->method[i];
    const struct {
      const char *name;
      double      v;
    } rows[] = {
      {"kendall_tau", mr->metrics.tau},
      {"r2", mr->metrics.r2},
      {"mae", mr->metrics.mae},
      {"accuracy", mr->metrics.accuracy},
      {"f1", mr->metrics.f1},
      {"majority_rate", mr->metrics.majority},
    };
    for (size_t j = 0; j < sizeof rows / sizeof rows[0]; j++) {
      fprintf(fp, "%s,%d,%s,", mr->name, mr->budget, rows[j].name);
      cdn_csv_number(fp, rows[j].v);
      fprintf(fp, ",\"%s\"\n", mr->input);
    }
  }
}

PetscErrorCode cdn_report_write(const char *outdir, const cdn_results_t *res, const cdn_evaluation_t *ev)
{
  enum { MODELS, CURVES, TIMING, FEATURES, PREDICTIONS, REPORT, NFILES };
  static const char *names[NFILES] = {"models.csv",   "curves.csv",      "timing.csv",
                                      "features.csv", "predictions.csv", "report.csv"};
  cdn_afile_t        af[NFILES];
  PetscErrorCode     ierr = 0;
  int                opened;

  PetscFunctionBeginUser;
  memset(af, 0, sizeof af);
  for (opened = 0; opened < NFILES && !ierr; opened++) {
    char path[PETSC_MAX_PATH_LEN];
    snprintf(path, sizeof path, "%s/%s", outdir, names[opened]);
    ierr = cdn_afile_open(&af[opened], path);
  }
  if (!ierr) {
    write_models(af[MODELS].fp, res);
    write_curves(af[CURVES].fp, res);
    write_timing(af[TIMING].fp, res);
    write_features(af[FEATURES].fp, res);
    write_predictions(af[PREDICTIONS].fp, ev);
    write_report(af[REPORT].fp, ev);
    for (int i = 0; i < NFILES && !ierr; i++)
      if (ferror(af[i].fp)) ierr = PetscError(PETSC_COMM_SELF, __LINE__, PETSC_FUNCTION_NAME, __FILE__, CDN_ERR_WRITE,
                                              PETSC_ERROR_INITIAL, "%s: write failed", af[i].path);
  }
  /* Rename only when every file is whole: a failed run leaves the previous outputs, not a mix. */
  for (int i = 0; i < NFILES && !ierr; i++) ierr = cdn_afile_commit(&af[i]);
  if (ierr)
    for (int i = 0; i < NFILES; i++) cdn_afile_abort(&af[i]);
  PetscCall(ierr);
  PetscFunctionReturn(0);
}
