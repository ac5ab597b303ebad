/* report.md: what the population was (so a reader can judge the numbers), then every metric as a
   table of methods by budgets, for each subset. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "cnndyn/report.h"
#include "cnndyn/util.h"

static void population(FILE *fp, const cdn_jobspec_t *spec, const cdn_results_t *res, const cdn_evaluation_t *ev)
{
  int     n = res->nmodels, diverged = 0, chance = 0, bins[10] = {0};
  double *v = malloc(sizeof(double) * (size_t)(n > 0 ? n : 1));

  for (int m = 0; m < n; m++) {
    diverged += res->status[m] == CDN_STATUS_DIVERGED;
    chance += res->status[m] == CDN_STATUS_OK && ev->label[m] <= spec->trainable_above;
  }
  fprintf(fp, "# cnndyn prediction report\n\n## Population\n\n");
  fprintf(fp, "- %d models (%d configurations x replicates), %d epochs each\n", n,
          n ? res->config[n - 1].config_id + 1 : 0, res->epochs);
  fprintf(fp, "- %d diverged (label: chance, %.3g), %d trained but at or below %g final test accuracy\n", diverged,
          res->num_classes ? 1.0 / res->num_classes : NAN, chance, spec->trainable_above);
  if (res->left_out)
    fprintf(fp, "- %d more models were pruned during the run ([pruning]) and are left out: they have no final accuracy\n",
            res->left_out);
  fprintf(fp, "- trainable subset: %d models\n", ev->subset[CDN_SUBSET_TRAINABLE].n);
  if (!v || !n) {
    free(v);
    return;
  }
  for (int m = 0; m < n; m++) v[m] = ev->label[m];
  cdn_sort_doubles(v, n);
  fprintf(fp, "- label (final test accuracy) quantiles: min %.4f, q25 %.4f, median %.4f, q75 %.4f, max %.4f\n",
          v[0], cdn_quantile_sorted(v, n, 0.25), cdn_quantile_sorted(v, n, 0.5), cdn_quantile_sorted(v, n, 0.75), v[n - 1]);
  fprintf(fp, "- class task: %d classes; cross-validation cuts each fold on its training side's labels; on all models' labels:", ev->nclasses);
  for (int t = 0; t < ev->nclasses - 1; t++) fprintf(fp, " %.4f", ev->thresholds[t]);
  fprintf(fp, "\n\nLabel histogram:\n\n```\n");
  for (int m = 0; m < n; m++) {
    int b = (int)floor(ev->label[m] * 10);
    bins[b < 0 ? 0 : b > 9 ? 9 : b]++;
  }
  for (int b = 0; b < 10; b++) {
    fprintf(fp, "%.1f-%.1f %4d ", b / 10.0, (b + 1) / 10.0, bins[b]);
    for (int i = 0; i < (bins[b] * 60 + n - 1) / n; i++) fputc('#', fp);
    fputc('\n', fp);
  }
  fprintf(fp, "```\n\n");
  free(v);
}

static void table(FILE *fp, const cdn_evaluation_t *ev, int subset, int j)
{
  const cdn_report_metric_t *mt = &cdn_report_metrics[j];
  const cdn_subset_t        *sub = &ev->subset[subset];
  if (sub->test)
    fprintf(fp, "### %s, subset %s (%s; one split: fitted on %d models, tested on %d)\n\n| method | learner |",
            mt->name, sub->name, mt->higher_better ? "higher is better" : "lower is better", sub->n - sub->ntest,
            sub->ntest);
  else
    fprintf(fp, "### %s, subset %s (%s; mean +- std over %d repeats)\n\n| method | learner |", mt->name, sub->name,
            mt->higher_better ? "higher is better" : "lower is better", ev->repeats);
  for (int k = 0; k <= ev->max_budget; k++) fprintf(fp, " k=%d |", k);
  fprintf(fp, "\n| --- | --- |");
  for (int k = 0; k <= ev->max_budget; k++) fprintf(fp, " --- |");
  fputc('\n', fp);
  for (int i = 0; i < ev->nrows; i++) {
    const cdn_eval_row_t *r = &ev->row[i];
    int                   first = 1;
    if (r->subset != subset) continue;
    /* one line per (method, learner): skip rows whose pair was printed */
    for (int q = 0; q < i; q++)
      if (ev->row[q].subset == subset && ev->row[q].method == r->method && ev->row[q].learner == r->learner) first = 0;
    if (!first) continue;
    fprintf(fp, "| %s (%s) | %s |", cdn_method_name(r->method), cdn_family_name(cdn_method_family(r->method)),
            cdn_learner_name(r->learner));
    for (int k = 0; k <= ev->max_budget; k++) {
      int found = -1;
      for (int q = i; q < ev->nrows && found < 0; q++)
        if (ev->row[q].subset == subset && ev->row[q].method == r->method && ev->row[q].learner == r->learner &&
            ev->row[q].budget == k)
          found = q;
      double mv = found >= 0 ? cdn_report_metric(&ev->row[found].mean, j) : NAN;
      double sv = found >= 0 ? cdn_report_metric(&ev->row[found].std, j) : NAN;
      if (isnan(mv)) fprintf(fp, " |");
      else if (sub->test) fprintf(fp, " %.3f |", mv);
      else fprintf(fp, " %.3f +- %.3f |", mv, sv);
    }
    fputc('\n', fp);
  }
  fputc('\n', fp);
}

/* Which transfer splits ran, and why the others did not. */
static void transfer(FILE *fp, const cdn_evaluation_t *ev)
{
  int n = 0;
  for (int s = 0; s < ev->nsubsets; s++) n += ev->subset[s].test && ev->subset[s].run;
  if (!n) {
    fprintf(fp, "Transfer splits (held-out architecture family, narrow to wide): none run; they need two families or two widths in the population, and `[prediction] subsets` to select them.\n\n");
    return;
  }
  fprintf(fp, "Transfer splits, each one fit on the training side and one test (no folds, no std; the class task's cuts come from the training side's labels):\n\n");
  for (int s = 0; s < ev->nsubsets; s++) {
    const cdn_subset_t *sub = &ev->subset[s];
    if (!sub->test || !sub->run) continue;
    fprintf(fp, "- %s: fitted on %d models, tested on %d (%s)\n", sub->name, sub->n - sub->ntest, sub->ntest,
            sub->kind == CDN_SUBSET_KIND_WIDE ? "the widest" : "the held-out family");
  }
  fputc('\n', fp);
}

void cdn_report_markdown(FILE *fp, const cdn_jobspec_t *spec, const cdn_results_t *res, const cdn_evaluation_t *ev)
{
  population(fp, spec, res, ev);
  fprintf(fp, "## Best per budget\n\n```\n");
  cdn_report_print_best(fp, spec, res, ev);
  fprintf(fp, "```\n\n");
  transfer(fp, ev);
  fprintf(fp, "## Metrics\n\nRows: methods with their family (graph: graph-only inputs; baseline: no graph input; hybrid: graph plus other inputs) and their learner; columns: epoch budget k (k=0: no training seen). %d-fold cross-validation grouped by configuration, %d repeats; the test folds give labels only.\n\n",
          spec->folds, ev->repeats);
  for (int s = 0; s < ev->nsubsets; s++)
    if (ev->subset[s].run)
      for (int j = 0; j < CDN_REPORT_NMETRICS; j++) table(fp, ev, s, j);
}
