/* The decision a user actually makes with a predictor: which runs to stop early. Simulated on a
   finished population, where every model's full curve is known, so every policy is judged on the
   same models with the same final labels. Policies spend different compute at the same fraction
   stopped, so each sweeps the fraction and is compared with the others at the same epochs saved
   (evaluate.h, cdn_early_curve_t). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "cnndyn/evaluate.h"
#include "predict_impl.h"

typedef struct {
  double v;
  int    i;
} item_t;

/* descending value, non-finite last, ties by model id */
static int by_value_desc(const void *p, const void *q)
{
  const item_t *a = p, *b = q;
  double        x = isfinite(a->v) ? a->v : -INFINITY, y = isfinite(b->v) ? b->v : -INFINITY;
  if (x != y) return x > y ? -1 : 1;
  return a->i - b->i;
}

/* models that go on when the share f of m is stopped: at least one */
static int keep_count(double f, int m)
{
  int keep = (int)ceil((1 - f) * m - 1e-9);
  return keep < 1 ? 1 : keep;
}

PetscErrorCode cdn_early_stop_rule(const cdn_results_t *res, const int *model, int m, const double *label,
                                   const double *score, cdn_stop_rule_t rule, int k, double fraction, double *saved,
                                   double *regret)
{
  int     E = res->epochs, keep;
  double  best = -INFINITY, kept = -INFINITY, spent;
  item_t *it;

  PetscFunctionBeginUser;
  *saved = *regret = NAN;
  if (m <= 0 || k < 1 || k >= E) PetscFunctionReturn(0);
  PetscCall(PetscMalloc1(m, &it));
  for (int i = 0; i < m; i++) best = fmax(best, label[model[i]]);
  if (rule == CDN_STOP_HALVING) { /* it[0..alive) are the models still training */
    int alive = m, prev = 0;
    for (int i = 0; i < m; i++) it[i].i = model[i];
    spent = 0;
    for (int r = k; r < E && alive > 1; r *= 2) {
      spent += (double)alive * (r - prev);
      prev = r;
      for (int j = 0; j < alive; j++) {
        int id = it[j].i, at = r <= res->epochs_done[id] ? r : res->epochs_done[id];
        it[j].v = cdn_results_curve(res, id, at)[CDN_CURVE_VAL_ACC];
      }
      qsort(it, (size_t)alive, sizeof *it, by_value_desc);
      alive = keep_count(fraction, alive);
    }
    spent += (double)alive * (E - prev);
    for (int j = 0; j < alive; j++) kept = fmax(kept, label[it[j].i]);
  } else {
    keep  = keep_count(fraction, m);
    spent = (double)m * k + (double)keep * (E - k);
    for (int i = 0; i < m; i++) it[i] = (item_t){rule == CDN_STOP_PRUNE ? score[model[i]] : label[model[i]], model[i]};
    qsort(it, (size_t)m, sizeof *it, by_value_desc);
    if (rule == CDN_STOP_PRUNE)
      for (int j = 0; j < keep; j++) kept = fmax(kept, label[it[j].i]);
    else { /* the j-th best label is the best kept with probability C(m-1-j, keep-1) / C(m, keep) */
      double p = (double)keep / m;
      kept     = 0;
      for (int j = 0; j <= m - keep; j++) {
        kept += p * label[it[j].i];
        if (j < m - keep) p *= (double)(m - j - keep) / (m - 1 - j);
      }
    }
  }
  *saved  = 1 - spent / ((double)m * E);
  *regret = best - kept;
  PetscCall(PetscFree(it));
  PetscFunctionReturn(0);
}

double cdn_early_interpolate(const double *x, const double *y, int n, double at)
{
  const double tol = 1e-12; /* a level computed as 0.05 * 6 still meets a point at 0.3 */
  double       xl = -INFINITY, xh = INFINITY, sl = 0, sh = 0;
  int          nl = 0, nh = 0;
  for (int i = 0; i < n; i++) {
    if (!isfinite(x[i]) || !isfinite(y[i])) continue;
    if (x[i] <= at + tol) {
      if (x[i] > xl) xl = x[i], sl = y[i], nl = 1;
      else if (x[i] == xl) sl += y[i], nl++;
    }
    if (x[i] >= at - tol) {
      if (x[i] < xh) xh = x[i], sh = y[i], nh = 1;
      else if (x[i] == xh) sh += y[i], nh++;
    }
  }
  if (!nl || !nh) return NAN;
  if (xh == xl) return sl / nl;
  return sl / nl + (sh / nh - sl / nl) * (at - xl) / (xh - xl);
}

void cdn_early_policy_names(int p, const char **policy, const char **predictor, const char **family)
{
  static const char *const pol[CDN_POLICIES] = {"prune", "prune", "prune", "successive_halving", "random"};
  static const char *const pre[CDN_POLICIES] = {"best_graph", "best_baseline", "best_hybrid", "val_acc", "none"};
  static const char *const fam[CDN_POLICIES] = {"graph", "baseline", "hybrid", "baseline", "none"};
  int                      ok = p >= 0 && p < CDN_POLICIES;
  *policy = ok ? pol[p] : "?", *predictor = ok ? pre[p] : "?", *family = ok ? fam[p] : "?";
}

/* Every run policy's sweep over c->fraction on the population list[0..m) and its regret at the
   common levels; score[p] by model id for the prune policies. */
static PetscErrorCode sweep(const cdn_results_t *res, const double *label, double *const *score,
                            const cdn_early_curve_t *c, const int *list, int m, double saved[][CDN_EARLY_MAX_FRACTIONS],
                            double regret[][CDN_EARLY_MAX_FRACTIONS], double at[][CDN_EARLY_LEVELS])
{
  PetscFunctionBeginUser;
  for (int p = 0; p < CDN_POLICIES; p++) {
    cdn_stop_rule_t rule = p == CDN_POLICY_HALVING ? CDN_STOP_HALVING : p == CDN_POLICY_RANDOM ? CDN_STOP_RANDOM : CDN_STOP_PRUNE;
    for (int f = 0; f < c->nf; f++) {
      saved[p][f] = regret[p][f] = NAN;
      if (c->run[p])
        PetscCall(cdn_early_stop_rule(res, list, m, label, score[p], rule, c->budget, c->fraction[f], &saved[p][f],
                                      &regret[p][f]));
    }
    for (int l = 0; l < CDN_EARLY_LEVELS; l++) at[p][l] = cdn_early_interpolate(saved[p], regret[p], c->nf, cdn_early_level(l));
  }
  PetscFunctionReturn(0);
}

/* Policy p's mean regret and prune-by-graph-only minus p, averaged over the levels of c->span[p]. */
static void averages(const cdn_early_curve_t *c, int p, double at[][CDN_EARLY_LEVELS], double *mean, double *diff)
{
  double sm = 0, sd = 0;
  int    nm = 0, nd = 0;
  for (int l = 0; l < CDN_EARLY_LEVELS; l++) {
    double v = cdn_early_level(l);
    if (!(v >= c->span[p][0] - 1e-12 && v <= c->span[p][1] + 1e-12)) continue;
    if (isfinite(at[p][l])) sm += at[p][l], nm++;
    if (isfinite(at[p][l]) && isfinite(at[CDN_POLICY_PRUNE_GRAPH][l])) sd += at[CDN_POLICY_PRUNE_GRAPH][l] - at[p][l], nd++;
  }
  *mean = nm ? sm / nm : NAN;
  *diff = nd && p != CDN_POLICY_PRUNE_GRAPH ? sd / nd : NAN;
}

/* One budget: the population's curves, the spans, then the same on every bootstrap resample. */
static PetscErrorCode budget_curves(const cdn_results_t *res, const cdn_evaluation_t *ev, cdn_resampler_t *rs, double *w,
                                    double *const *score, int *list, double *boot, cdn_early_curve_t *c)
{
  const cdn_subset_t *sub = &ev->subset[CDN_SUBSET_ALL];
  const int           B = CDN_BOOTSTRAP, NF = CDN_EARLY_MAX_FRACTIONS, L = CDN_EARLY_LEVELS;
  double              sv[CDN_POLICIES][CDN_EARLY_MAX_FRACTIONS], rg[CDN_POLICIES][CDN_EARLY_MAX_FRACTIONS];
  double              at[CDN_POLICIES][CDN_EARLY_LEVELS];
  /* boot: per policy, the regrets at each fraction, at each level, the mean and the difference */
  double *bf = boot, *bl = bf + (size_t)CDN_POLICIES * NF * B, *bm = bl + (size_t)CDN_POLICIES * L * B,
         *bd = bm + (size_t)CDN_POLICIES * B;

  PetscFunctionBeginUser;
  PetscCall(sweep(res, ev->label, score, c, sub->model, sub->n, c->saved, c->regret, c->at));
  for (int p = 0; p < CDN_POLICIES; p++) {
    c->span[p][0] = c->span[p][1] = NAN;
    for (int l = 0; l < L; l++)
      if (isfinite(c->at[p][l]) && isfinite(c->at[CDN_POLICY_PRUNE_GRAPH][l])) {
        if (isnan(c->span[p][0])) c->span[p][0] = cdn_early_level(l);
        c->span[p][1] = cdn_early_level(l);
      }
    averages(c, p, c->at, &c->mean[p], &c->diff[p]);
  }
  cdn_resampler_restart(rs);
  for (int b = 0; b < B; b++) {
    int m = 0;
    cdn_resampler_next(rs, w);
    for (int i = 0; i < sub->n; i++)
      for (int t = 0; t < (int)w[i]; t++) list[m++] = sub->model[i];
    PetscCall(sweep(res, ev->label, score, c, list, m, sv, rg, at));
    for (int p = 0; p < CDN_POLICIES; p++) {
      for (int f = 0; f < NF; f++) bf[((size_t)p * NF + f) * B + b] = f < c->nf ? rg[p][f] : NAN;
      for (int l = 0; l < L; l++) bl[((size_t)p * L + l) * B + b] = at[p][l];
      averages(c, p, at, &bm[(size_t)p * B + b], &bd[(size_t)p * B + b]);
    }
  }
  for (int p = 0; p < CDN_POLICIES; p++) {
    for (int f = 0; f < c->nf; f++) cdn_percentile_interval(bf + ((size_t)p * NF + f) * B, B, c->regret_ci[p][f]);
    for (int l = 0; l < L; l++) cdn_percentile_interval(bl + ((size_t)p * L + l) * B, B, c->at_ci[p][l]);
    cdn_percentile_interval(bm + (size_t)p * B, B, c->mean_ci[p]);
    cdn_percentile_interval(bd + (size_t)p * B, B, c->diff_ci[p]);
  }
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_evaluation_early_stop(const cdn_jobspec_t *spec, const cdn_results_t *res, cdn_evaluation_t *ev)
{
  const cdn_subset_t *sub = &ev->subset[CDN_SUBSET_ALL];
  const int           ns = sub->n, B = CDN_BOOTSTRAP;
  double             *w, *boot, *score[CDN_POLICIES], fr[CDN_EARLY_MAX_FRACTIONS], best = -INFINITY;
  int                *cfg, *list, nf = 0, most = 0;
  cdn_resampler_t    *rs;

  PetscFunctionBeginUser;
  ev->nearly = ev->early_k = 0, ev->early = NULL;
  if (!sub->run || ns < 1 || res->epochs < 2) PetscFunctionReturn(0);
  /* the sweep: 0.1 .. 0.9 and the job's prune_fraction, ascending */
  for (int f = 1; f <= 9; f++) fr[nf++] = f / 10.0;
  if (fabs(spec->prune_fraction * 10 - round(spec->prune_fraction * 10)) > 1e-9) {
    int j = nf++;
    while (j > 0 && fr[j - 1] > spec->prune_fraction) fr[j] = fr[j - 1], j--;
    fr[j] = spec->prune_fraction;
  }
  PetscCall(PetscCalloc1(ev->max_budget, &ev->early));
  PetscCall(PetscMalloc2(ns, &w, ns, &cfg));
  PetscCall(PetscMalloc1((size_t)CDN_POLICIES * (CDN_EARLY_MAX_FRACTIONS + CDN_EARLY_LEVELS + 2) * B, &boot));
  for (int p = 0; p < CDN_POLICIES; p++) PetscCall(PetscMalloc1(res->nmodels + 1, &score[p]));
  for (int i = 0; i < ns; i++) cfg[i] = res->config[sub->model[i]].config_id;
  PetscCall(cdn_resampler_create(spec->seed, CDN_SUBSET_ALL, ns, cfg, &rs));
  for (int b = 0; b < B; b++) { /* the longest resample, for the list of its models */
    int m = 0;
    cdn_resampler_next(rs, w);
    for (int i = 0; i < ns; i++) m += (int)w[i];
    most = m > most ? m : most;
  }
  PetscCall(PetscMalloc1(most + 1, &list));
  for (int k = 1; k <= ev->max_budget && k < res->epochs; k++) {
    cdn_early_curve_t *c = &ev->early[ev->nearly];
    memset(c, 0, sizeof *c);
    c->budget = k, c->nf = nf;
    memcpy(c->fraction, fr, sizeof fr);
    for (int p = 0; p < CDN_POLICIES; p++) {
      const cdn_headline_t *h = p < CDN_FAMILY_COUNT ? cdn_evaluation_headline(ev, CDN_SUBSET_ALL, k, p) : NULL;
      c->run[p] = p >= CDN_FAMILY_COUNT || h;
      for (int i = 0; i < res->nmodels; i++) score[p][i] = NAN;
      if (h)
        for (int i = 0; i < ns; i++) score[p][sub->model[i]] = h->pred[i];
    }
    if (!c->run[CDN_POLICY_PRUNE_GRAPH] && !c->run[CDN_POLICY_PRUNE_BASELINE]) continue; /* no predictions */
    PetscCall(budget_curves(res, ev, rs, w, score, list, boot, c));
    const cdn_headline_t *g = cdn_evaluation_headline(ev, CDN_SUBSET_ALL, k, CDN_FAMILY_GRAPH);
    if (g && isfinite(g->mean.tau_fold) && g->mean.tau_fold > best) best = g->mean.tau_fold, ev->early_k = k;
    ev->nearly++;
  }
  for (int p = 0; p < CDN_POLICIES; p++) PetscCall(PetscFree(score[p]));
  PetscCall(PetscFree(list));
  PetscCall(PetscFree(boot));
  PetscCall(PetscFree2(w, cfg));
  PetscCall(cdn_resampler_destroy(&rs));
  PetscFunctionReturn(0);
}
