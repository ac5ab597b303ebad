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

const char *cdn_report_headline_name(int kind)
{
  static const char *const names[CDN_HEADLINE_KINDS] = {"best_graph", "best_baseline", "best_hybrid",
                                                        "graph_minus_baseline", "preregistered"};
  return kind >= 0 && kind < CDN_HEADLINE_KINDS ? names[kind] : "?";
}

void cdn_report_headline_text(const cdn_evaluation_t *ev, const cdn_headline_t *h, char *buf, size_t len)
{
  const cdn_eval_row_t *r = &ev->row[h->row];
  if (h->kind == CDN_HEADLINE_DIFF)
    snprintf(buf, len, "best graph-only minus best baseline on the same folds and bootstrap resamples");
  else
    snprintf(buf, len, "nested selection among %d rows; most chosen %s/%s in %d of %d outer folds", h->candidates,
             cdn_method_name(r->method), cdn_learner_name(r->learner), h->chosen, h->choices);
}

/* "0.532 [0.410, 0.630]": a headline number and its bootstrap interval. */
static void with_ci(FILE *fp, double v, const double ci[2])
{
  fprintf(fp, " %6.3f [%6.3f, %6.3f]", v, ci[0], ci[1]);
}

static void describe(FILE *fp, const cdn_evaluation_t *ev, const cdn_headline_t *h, const char *label)
{
  char name[64];
  int at = snprintf(name, sizeof name, "%s/%s", cdn_method_name(ev->row[h->row].method),
                   cdn_learner_name(ev->row[h->row].learner));
  if (h->kind != CDN_HEADLINE_PREREG && at > 0 && at < (int)sizeof name) /* a fixed row has no choices */
    snprintf(name + at, sizeof name - at, " (%d/%d)", h->chosen, h->choices);
  fprintf(fp, "       %-10s %-34s", label, name);
  with_ci(fp, h->mean.tau_fold, h->tau_ci);
  with_ci(fp, h->mean.accuracy, h->acc_ci);
  fputc('\n', fp);
}

/* The class task's majority rate on a subset: the same for every row of the subset. */
static double majority_rate(const cdn_evaluation_t *ev, int subset)
{
  for (int i = 0; i < ev->nrows; i++)
    if (ev->row[i].subset == subset && isfinite(ev->row[i].mean.majority)) return ev->row[i].mean.majority;
  return NAN;
}

/* Which side an interval of "graph-only minus baseline" favours: +1, -1, or 0 when it holds zero. */
static int side(const double ci[2]) { return ci[0] > 0 ? 1 : ci[1] < 0 ? -1 : 0; }

/* The plain reading of one budget's paired differences, tau and class accuracy both: an interval
   that excludes zero on either metric is said, and a conflict is called one. */
static void verdict(FILE *fp, const cdn_headline_t *d)
{
  static const char *const word[3] = {"excludes zero: baseline better", "includes zero", "excludes zero: graph-only better"};
  int t = side(d->tau_ci), a = side(d->acc_ci);
  fprintf(fp, "\n       the tau difference's interval %s; the accuracy difference's %s\n", word[t + 1], word[a + 1]);
  if (t * a < 0) fprintf(fp, "       verdict: conflicting (the two metrics disagree)\n");
  else if (t + a > 0) fprintf(fp, "       verdict: graph-only better\n");
  else if (t + a < 0) fprintf(fp, "       verdict: baseline better\n");
  else
    fprintf(fp, "       verdict: no difference shown (the point estimate favours %s; small populations give wide intervals)\n",
            d->mean.tau_fold > 0 ? "graph-only" : d->mean.tau_fold < 0 ? "the baseline" : "neither");
}

/* Early stopping at the budget where the best graph-only row ranks best: each policy against pruning
   by graph-only predictions at the same epochs saved (early_stop.csv has every budget and level). */
static void early_stop(FILE *fp, const cdn_evaluation_t *ev)
{
  static const char *const label[CDN_POLICIES] = {"prune by best graph-only", "prune by best baseline",
                                                  "prune by best hybrid", "successive halving (val_acc)",
                                                  "random stopping (expected)"};
  const cdn_early_curve_t *c = NULL;
  for (int e = 0; e < ev->nearly; e++)
    if (ev->early[e].budget == ev->early_k) c = &ev->early[e];
  if (!c || isnan(c->span[CDN_POLICY_PRUNE_GRAPH][0])) return;
  fprintf(fp, "\nEarly stopping at equal compute, subset all, k=%d (the budget where best graph-only ranks best):\n"
              "regret of the best model kept, averaged over the epochs-saved levels both curves reach\n"
              "[95%% bootstrap interval]; difference = graph-only pruning minus the policy (negative: graph-only\n"
              "loses less at the same compute).\n",
          c->budget);
  fprintf(fp, "       %-30s %-13s %-27s %-27s\n", "policy", "epochs saved", "  its regret [95%]", "  difference [95%]");
  for (int p = 0; p < CDN_POLICIES; p++) {
    if (!c->run[p] || isnan(c->span[p][0])) continue;
    fprintf(fp, "       %-30s %.2f-%.2f    ", label[p], c->span[p][0], c->span[p][1]);
    fprintf(fp, " %8.5f [%8.5f, %8.5f]", c->mean[p], c->mean_ci[p][0], c->mean_ci[p][1]);
    if (p == CDN_POLICY_PRUNE_GRAPH) {
      fputc('\n', fp);
      continue;
    }
    fprintf(fp, " %8.5f [%8.5f, %8.5f] %s\n", c->diff[p], c->diff_ci[p][0], c->diff_ci[p][1],
            c->diff_ci[p][1] < 0   ? "graph-only lower, interval excludes zero"
            : c->diff_ci[p][0] > 0 ? "graph-only higher, interval excludes zero"
            : c->diff[p] < 0       ? "graph-only lower, interval includes zero"
            : c->diff[p] > 0       ? "graph-only higher, interval includes zero"
                                   : "equal, interval includes zero");
  }
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
  fprintf(fp, ".\nBest graph-only, baseline and hybrid rows chosen by nested selection (on the inner folds of each\n"
              "training side, scored on its test fold); within-fold Kendall tau and class accuracy, mean over repeats\n"
              "[95%% bootstrap interval over %d resamples of configurations].\n", CDN_BOOTSTRAP);
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
    int ncompared = 0;
    fprintf(fp, "%-6s %-10s %-34s %-22s %-22s\n", "epochs", "family", "best by nested selection (folds)",
            "  within-fold tau [95%]", "  accuracy [95%]");
    for (int k = 1; k <= ev->max_budget; k++) {
      const cdn_headline_t *d = cdn_evaluation_headline(ev, s, k, CDN_HEADLINE_DIFF);
      static const char *const label[CDN_FAMILY_COUNT] = {"graph-only", "baseline", "hybrid"};
      fprintf(fp, "%d\n", k);
      for (int f = 0; f < CDN_FAMILY_COUNT; f++) {
        const cdn_headline_t *h = cdn_evaluation_headline(ev, s, k, f);
        if (h) describe(fp, ev, h, label[f]);
      }
      if (!d) continue;
      fprintf(fp, "       %-45s", "best graph-only minus best baseline");
      with_ci(fp, d->mean.tau_fold, d->tau_ci);
      with_ci(fp, d->mean.accuracy, d->acc_ci);
      verdict(fp, d);
      ncompared++;
    }
    if (ncompared > 1)
      fprintf(fp, "(%d budgets compared: with intervals at 95%%, about one comparison in 20 excludes zero by chance)\n",
              ncompared);
    const cdn_headline_t *p = cdn_evaluation_headline(ev, s, 0, CDN_HEADLINE_PREREG);
    if (p) {
      fprintf(fp, "pre-registered, reported whatever wins (the paper's weighted-degree summary), k=%d:\n", p->budget);
      describe(fp, ev, p, "graph-only");
    }
  }
  early_stop(fp, ev);
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
