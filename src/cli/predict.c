/* cnndyn predict OUTDIR: the prediction stage rerun on a finished run's CSVs, without training.
   Settings come from the job spec's [features] budget and [prediction] keys (--job, by default the
   run's own DIR/job.ini), and options override them: each option is handed to the job spec
   parser, so it is checked exactly as in a job file and any mistake is reported the same way. */
#include <math.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"
#include "cnndyn/evaluate.h"
#include "cnndyn/jobspec.h"
#include "cnndyn/predict.h"
#include "cnndyn/report.h"
#include "cnndyn/util.h"

static const struct {
  const char *option, *section, *key;
} overrides[] = {
  {"--budget", "features", "budget"},       {"--methods", "prediction", "methods"},
  {"--learners", "prediction", "learners"}, {"--repeats", "prediction", "repeats"},
  {"--folds", "prediction", "folds"},       {"--classes", "prediction", "classes"},
  {"--subsets", "prediction", "subsets"},
};
#define NOVERRIDES ((int)(sizeof overrides / sizeof overrides[0]))

/* --save: fit one learner on every model of the run; --model: score the run's models into
   DIR/scores.csv. Without --learners, --save fits boosted trees, or the method's only learner
   (score for val_acc, val_loss, tse; majority for majority). */
static PetscErrorCode saved(const char *dir, const cdn_jobspec_t *spec, cdn_results_t *res, const char *save,
                            const char *model, PetscBool learners_given)
{
  PetscFunctionBeginUser;
  if (save) {
    int      meth = -1, learner = -1, k;
    unsigned ok;
    for (int m = 0; m < CDN_METHOD_COUNT; m++)
      if (spec->method_mask == 1u << m) meth = m;
    PetscCheck(meth >= 0, PETSC_COMM_SELF, CDN_ERR_INPUT, "--save: name exactly one method with --methods");
    ok = cdn_method_learners((cdn_method_t)meth);
    for (int l = 0; l < CDN_LEARNER_COUNT; l++)
      if (learners_given ? spec->learner_mask == 1u << l : (ok & (1u << l)) && (learner < 0 || l == CDN_LEARNER_XGB))
        learner = l;
    PetscCheck(learner >= 0, PETSC_COMM_SELF, CDN_ERR_INPUT, "--save: name exactly one learner with --learners");
    k = meth == CDN_METHOD_HPARAMS || meth == CDN_METHOD_MAJORITY ? 0 : spec->budget;
    PetscCall(cdn_results_finished(res)); /* a pruned model has no label to fit on */
    PetscCall(cdn_predictor_save(save, spec, (cdn_method_t)meth, (cdn_learner_t)learner, k, res));
    printf("%s: %s on %s at %d epochs, fitted on %d models\n", save, cdn_learner_name((cdn_learner_t)learner),
           cdn_method_name((cdn_method_t)meth), k, res->nmodels);
    if (res->left_out)
      printf("%s: %d models pruned during the run are left out: the fit saw only the models its policy kept, not a "
             "sample of the population\n", save, res->left_out);
  } else {
    double              *pred, *label;
    int                 *pc, *lc;
    char                 path[PETSC_MAX_PATH_LEN];
    cdn_predictor_info_t info;
    cdn_afile_t          af = {0};
    PetscCall(PetscMalloc4(res->nmodels, &pred, res->nmodels, &label, res->nmodels, &pc, res->nmodels, &lc));
    PetscCall(cdn_predictor_score(model, res, pred, pc, lc, &info));
    snprintf(path, sizeof path, "%s/scores.csv", dir);
    PetscCall(cdn_afile_open(&af, path));
    fputs("model,method,epochs_used,predicted,actual,predicted_class,actual_class\n", af.fp);
    int nlab = 0;
    for (int m = 0; m < res->nmodels; m++) {
      label[m] = cdn_results_label(res, m);
      fprintf(af.fp, "%d,%s,%d,", m, cdn_method_name(info.method), info.budget);
      cdn_csv_number(af.fp, pred[m]), fputc(',', af.fp);
      cdn_csv_number(af.fp, label[m]), fprintf(af.fp, ",%d,", pc[m]);
      if (isfinite(label[m])) fprintf(af.fp, "%d", lc[m]), pc[nlab] = pc[m], lc[nlab] = lc[m], nlab++; /* pruned: none */
      fputc('\n', af.fp);
    }
    PetscCall(cdn_afile_commit(&af));
    printf("%s: %d models scored by %s (%s on %s, %d epochs); Kendall tau against their labels %.3f, class accuracy "
           "%.3f",
           path, res->nmodels, model, cdn_learner_name(info.learner), cdn_method_name(info.method), info.budget,
           cdn_kendall_tau(pred, label, res->nmodels), cdn_accuracy(lc, pc, nlab));
    if (nlab < res->nmodels) printf(" (over the %d with a final accuracy; the pruned ones have none)", nlab);
    printf("\n");
    PetscCall(PetscFree4(pred, label, pc, lc));
  }
  PetscFunctionReturn(0);
}

/* Before the prediction stage: something to compare, at a budget the run has. Each message says
   where the setting came from (an option, the job file, or the built-in default). */
static PetscErrorCode comparable(const char *dir, const char *job, const char **value, PetscBool save,
                                 const cdn_jobspec_t *spec, const cdn_results_t *res)
{
  char from[PETSC_MAX_PATH_LEN + 64];
  int  other = 0;

  PetscFunctionBeginUser;
  if (value[0]) snprintf(from, sizeof from, "--budget");
  else if (job) snprintf(from, sizeof from, "%s: budget", job);
  else snprintf(from, sizeof from, "budget (the built-in default, as %s/job.ini is missing; give --budget or --job)", dir);
  /* the job spec's rule (budget at most epochs), on the epochs the run's CSVs hold */
  PetscCheck(spec->budget <= res->epochs, PETSC_COMM_SELF, CDN_ERR_INPUT, "%s: %d is more than the run's %d epochs",
             from, spec->budget, res->epochs);
  if (save) PetscFunctionReturn(0); /* one learner fitted, nothing compared */
  for (int m = 1; m < res->nmodels; m++) other |= res->config[m].config_id != res->config[0].config_id;
  PetscCheck(other, PETSC_COMM_SELF, CDN_ERR_INPUT,
             "%s/models.csv: all %d models share one configuration: nothing to compare", dir, res->nmodels);
  PetscCheck(cdn_method_pairs(spec->method_mask, spec->learner_mask), PETSC_COMM_SELF, CDN_ERR_INPUT,
               "%s: no method of methods takes any of the learners: nothing to compare (docs/formats.md lists each method's learners)",
               value[1] || value[2] ? "--methods/--learners" : job ? job : "methods and learners");
  /* methods whose statistic this run did not compute have no rows: with nothing else left, the
     stage would write empty reports over the run's own */
  unsigned usable = 0;
  for (int m = 0; m < CDN_METHOD_COUNT; m++)
    if ((spec->method_mask >> m & 1u) && cdn_method_has_inputs((cdn_method_t)m, res)) usable |= 1u << m;
  PetscCheck(cdn_method_pairs(usable, spec->learner_mask), PETSC_COMM_SELF, CDN_ERR_INPUT,
             "%s: the methods asked for need statistics %s/features.csv does not hold (the run's [graph] statistics): nothing to compare",
             value[1] ? "--methods" : job ? job : "methods", dir);
  PetscFunctionReturn(0);
}

static PetscErrorCode predict(const char *dir, const char *job, const char **value, PetscBool quiet, const char *save,
                              const char *model)
{
  cdn_jobspec_t spec, opt;
  cdn_results_t *res = NULL;
  PetscMPIInt   rank;
  char          text[4096] = "[training]\nepochs = 1000\n", line[512], own_job[PETSC_MAX_PATH_LEN];
  PetscErrorCode ierr = 0;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_rank(PETSC_COMM_WORLD, &rank));
  if (!job) { /* the run's own job spec, which `run` copies into DIR before any work */
    int found = 0;
    PetscCheck(snprintf(own_job, sizeof own_job, "%s/job.ini", dir) < (int)sizeof own_job, PETSC_COMM_SELF,
               CDN_ERR_INPUT, "%s: path too long", dir);
    if (rank == 0) found = access(own_job, R_OK) == 0;
    PetscCallMPI(MPI_Bcast(&found, 1, MPI_INT, 0, PETSC_COMM_WORLD));
    if (found) job = own_job;
  }
  if (job) PetscCall(cdn_jobspec_load(PETSC_COMM_WORLD, job, &spec));
  else cdn_jobspec_defaults(&spec);
  for (int pass = 0; pass < 2; pass++) { /* a section may appear only once */
    const char *section = pass ? "prediction" : "features";
    snprintf(line, sizeof line, "[%s]\n", section);
    strncat(text, line, sizeof text - strlen(text) - 1);
    for (int i = 0; i < NOVERRIDES; i++)
      if (value[i] && !strcmp(overrides[i].section, section)) {
        snprintf(line, sizeof line, "%s = %s\n", overrides[i].key, value[i]);
        strncat(text, line, sizeof text - strlen(text) - 1);
      }
  }
  PetscCall(cdn_jobspec_parse_string("command line", text, &opt));
  if (value[0]) spec.budget = opt.budget;
  if (value[1]) spec.method_mask = opt.method_mask;
  if (value[2]) spec.learner_mask = opt.learner_mask;
  if (value[3]) spec.repeats = opt.repeats;
  if (value[4]) spec.folds = opt.folds;
  if (value[5]) {
    spec.class_task = opt.class_task, spec.nthresholds = opt.nthresholds;
    memcpy(spec.thresholds, opt.thresholds, sizeof spec.thresholds);
  }
  if (value[6]) spec.subset_mask = opt.subset_mask;
  if (rank == 0) {
    ierr = cdn_results_load_whole(dir, &res);
    if (!ierr && !model) ierr = comparable(dir, job, value, save ? PETSC_TRUE : PETSC_FALSE, &spec, res);
  }
  /* not PetscCall until the end: the table is freed on every path (an outside review saw it left
     held, 130 KB, after every refused --model file) */
  ierr = cdn_error_share(PETSC_COMM_WORLD, ierr);
  if (!ierr && (save || model)) {
    if (rank == 0) ierr = saved(dir, &spec, res, save, model, value[2] ? PETSC_TRUE : PETSC_FALSE);
    ierr = cdn_error_share(PETSC_COMM_WORLD, ierr);
  } else if (!ierr) ierr = cdn_prediction_stage(PETSC_COMM_WORLD, &spec, &res, dir, PETSC_TRUE, quiet);
  PetscCall(cdn_results_destroy(&res));
  PetscCall(ierr);
  PetscFunctionReturn(0);
}

int cdn_cli_predict(int argc, char **argv, PetscErrorCode *ierr)
{
  const char *dir = NULL, *job = NULL, *value[NOVERRIDES] = {0}, *save = NULL, *model = NULL;
  PetscBool   quiet = PETSC_FALSE;

  *ierr = 0;
  for (int i = 0; i < argc; i++) {
    int o;
    for (o = 0; o < NOVERRIDES && strcmp(argv[i], overrides[o].option); o++) {}
    if (o < NOVERRIDES) {
      if (++i == argc) return cdn_cli_usage_error("predict: %s needs a value", overrides[o].option);
      value[o] = argv[i];
    } else if (!strcmp(argv[i], "--job")) {
      if (++i == argc) return cdn_cli_usage_error("%s", "predict: --job needs a file");
      job = argv[i];
    } else if (!strcmp(argv[i], "--quiet")) quiet = PETSC_TRUE;
    else if (!strcmp(argv[i], "--save") || !strcmp(argv[i], "--model")) {
      if (i + 1 == argc) return cdn_cli_usage_error("predict: %s needs a file", argv[i]);
      if (argv[i][2] == 's') save = argv[++i];
      else model = argv[++i];
    }
    else if (argv[i][0] == '-') return cdn_cli_usage_error("predict: unknown option '%s'", argv[i]);
    else if (dir) return cdn_cli_usage_error("predict: unexpected argument '%s' (one run folder only)", argv[i]);
    else dir = argv[i];
  }
  if (!dir) return cdn_cli_usage_error("%s", "predict: no run folder given");
  if (save && model) return cdn_cli_usage_error("%s", "predict: --save and --model exclude each other");
  *ierr = predict(dir, job, value, quiet, save, model);
  return 0;
}
