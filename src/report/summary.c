/* The metrics as reported and the table a user reads at the end of a run: at each budget, is the
   best graph method worth it against the best signal a practitioner already has? */
#include <math.h>
#include "cnndyn/report.h"

const cdn_report_metric_t cdn_report_metrics[CDN_REPORT_NMETRICS] = {
  {"kendall_tau", 0, 1}, {"kendall_tau_within_fold", 0, 1}, {"spearman", 0, 1}, {"r2", 0, 1},
  {"mae", 0, 0},         {"regret_top1", 0, 0},              {"regret_top5pct", 0, 0}, {"accuracy", 1, 1},
  {"f1", 1, 1},          {"auc", 1, 1},                      {"majority_rate", 1, 1}};

double cdn_report_metric(const cdn_metrics_t *m, int j)
{
  const double v[CDN_REPORT_NMETRICS] = {m->tau,     m->tau_fold, m->spearman, m->r2, m->mae,     m->regret1,
                                         m->regret5, m->accuracy, m->f1,       m->auc, m->majority};
  return j >= 0 && j < CDN_REPORT_NMETRICS ? v[j] : NAN;
}

void cdn_report_best(const cdn_evaluation_t *ev, int subset, int k, int best[CDN_FAMILY_COUNT])
{
  for (int f = 0; f < CDN_FAMILY_COUNT; f++) best[f] = -1;
  for (int i = 0; i < ev->nrows; i++) {
    const cdn_eval_row_t *r = &ev->row[i];
    int                   f = cdn_method_family(r->method);
    if (r->subset != subset || (r->budget != k && r->budget != 0) || !isfinite(r->mean.tau_fold)) continue;
    if (best[f] < 0 || r->mean.tau_fold > ev->row[best[f]].mean.tau_fold) best[f] = i;
  }
}

static void describe(FILE *fp, const cdn_evaluation_t *ev, int i)
{
  char name[64];
  if (i < 0) {
    fprintf(fp, " %-26s %13s %6s", "-", "", "");
    return;
  }
  const cdn_eval_row_t *r = &ev->row[i];
  snprintf(name, sizeof name, "%s/%s", cdn_method_name(r->method), cdn_learner_name(r->learner));
  if (isnan(r->std.tau_fold)) fprintf(fp, " %-26s %6.3f%7s %6.3f", name, r->mean.tau_fold, "", r->mean.accuracy); /* one split */
  else fprintf(fp, " %-26s %6.3f+-%5.3f %6.3f", name, r->mean.tau_fold, r->std.tau_fold, r->mean.accuracy);
}

/* The class task's majority rate on a subset: the same for every row of the subset. */
static double majority_rate(const cdn_evaluation_t *ev, int subset)
{
  for (int i = 0; i < ev->nrows; i++)
    if (ev->row[i].subset == subset && isfinite(ev->row[i].mean.majority)) return ev->row[i].mean.majority;
  return NAN;
}

static void summary(FILE *fp, const cdn_jobspec_t *spec, const cdn_results_t *res, const cdn_evaluation_t *ev, int timing)
{
  int diverged = 0;
  for (int m = 0; m < res->nmodels; m++) diverged += res->status[m] == CDN_STATUS_DIVERGED;
  fprintf(fp, "\n%d models, %d epochs each, %d diverged, %d trainable (final test accuracy > %g).\n", res->nmodels,
          res->epochs, diverged, ev->subset[CDN_SUBSET_TRAINABLE].n, spec->trainable_above);
  int splits = 0;
  for (int i = 0; i < ev->nrows; i++) splits += ev->subset[ev->row[i].subset].test != NULL;
  fprintf(fp, "Prediction: %d rows x %d repeats of %d-fold grouped cross-validation", ev->nrows - splits, ev->repeats,
          spec->folds);
  if (splits) fprintf(fp, ", %d rows on transfer splits (once each)", splits);
  if (timing) fprintf(fp, ", %.1f s", ev->seconds);
  fprintf(fp, ". Kendall tau within test folds (mean+-std over repeats), class accuracy.\n");
  for (int s = 0; s < ev->nsubsets; s++) {
    const cdn_subset_t *sub = &ev->subset[s];
    if (!sub->run) continue;
    if (sub->test)
      fprintf(fp, "\nsubset %s (fitted on %d models, tested on the other %d, once: no std; ", sub->name,
              sub->n - sub->ntest, sub->ntest);
    else fprintf(fp, "\nsubset %s (%d models; ", sub->name, sub->n);
    /* class accuracy means little without the rate of always guessing the commonest class, which a
       transfer split's cut (from the training side) can push near 1 */
    fprintf(fp, "majority rate %.3f)\n", majority_rate(ev, s));
    fprintf(fp, "%-6s %-26s %13s %6s   %-26s %13s %6s   %-26s %13s %6s\n", "epochs", "best graph-only", "tau", "acc",
            "best baseline", "tau", "acc", "best hybrid (graph + other)", "tau", "acc");
    for (int k = 1; k <= ev->max_budget; k++) {
      int best[CDN_FAMILY_COUNT];
      cdn_report_best(ev, s, k, best);
      fprintf(fp, "%-6d", k);
      for (int f = 0; f < CDN_FAMILY_COUNT; f++) fputs(f ? "  " : "", fp), describe(fp, ev, best[f]);
      fputc('\n', fp);
    }
  }
  fputc('\n', fp);
}

void cdn_report_print_summary(FILE *fp, const cdn_jobspec_t *spec, const cdn_results_t *res, const cdn_evaluation_t *ev)
{
  summary(fp, spec, res, ev, 1);
}

/* report.md must not depend on the wall clock: same summary, no time. */
void cdn_report_print_best(FILE *fp, const cdn_jobspec_t *spec, const cdn_results_t *res, const cdn_evaluation_t *ev)
{
  summary(fp, spec, res, ev, 0);
}
