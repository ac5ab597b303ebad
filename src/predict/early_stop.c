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
  int    i;  /* model id */
  int    at; /* its index among the population's distinct models */
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

/* A population as its n distinct models, how many times each is in it (a bootstrap resample repeats
   models), and the orders the rules walk. Sorted by a value (by_value_desc), a population is its
   distinct models in order, each repeated by its count: one order of the distinct models, sorted
   once, serves every resample. Sorting the repeated list for every rule, fraction and resample took
   minutes at 20,000 models. */
typedef struct {
  int        n;                      /* distinct models */
  const int *model;                  /* their ids */
  const int *count;                  /* how many times each is in the population (0: not at all) */
  int        m;                      /* the counts' sum */
  double     best;                   /* the population's best label */
  int        k, rungs;               /* the budget; successive halving's rungs k, 2k, 4k, ... < epochs */
  int       *by_rung;                /* per rung, 0..n) by validation accuracy at the rung, best first */
  int       *by_label;               /* 0..n) by label */
  int       *by_score[CDN_POLICIES]; /* 0..n) by a prune policy's score (NULL: none) */
  int       *alive;                  /* n counts: successive halving's work */
  int       *cum;                    /* prune's work: counts summed along a policy's order */
  double    *top;                    /* and the best label up to each place in it */
} pop_t;

/* fmax for labels, which are never -0: NaN (a second argument) never wins */
static inline double max_label(double a, double b) { return b > a ? b : a; }

/* ord = 0..n) ordered by value (per distinct model) as by_value_desc orders the repeated list */
static void sort_order(const pop_t *pop, item_t *it, int *ord)
{
  qsort(it, (size_t)pop->n, sizeof *it, by_value_desc);
  for (int j = 0; j < pop->n; j++) ord[j] = it[j].at;
}

/* The orders of n distinct models for budget k; score[p] (by model id) for the prune policies,
   NULL for none. */
static PetscErrorCode pop_create(const cdn_results_t *res, const int *model, int n, const double *label,
                                 const double *const *score, int k, pop_t *pop)
{
  item_t *it;

  PetscFunctionBeginUser;
  memset(pop, 0, sizeof *pop);
  pop->n = n, pop->model = model, pop->k = k;
  for (int r = k; r >= 1 && r < res->epochs; r *= 2) pop->rungs++; /* k >= 1 here: r grows */
  PetscCall(PetscMalloc1(n + 1, &it));
  PetscCall(PetscMalloc3((size_t)pop->rungs * n + 1, &pop->by_rung, n + 1, &pop->by_label, n + 1, &pop->alive));
  PetscCall(PetscMalloc2(n + 1, &pop->cum, n + 1, &pop->top));
  for (int q = 0, r = k; q < pop->rungs; q++, r *= 2) {
    for (int j = 0; j < n; j++) {
      int id = model[j], at = r <= res->epochs_done[id] ? r : res->epochs_done[id];
      it[j] = (item_t){cdn_results_curve(res, id, at)[CDN_CURVE_VAL_ACC], id, j};
    }
    sort_order(pop, it, pop->by_rung + (size_t)q * n);
  }
  for (int j = 0; j < n; j++) it[j] = (item_t){label[model[j]], model[j], j};
  sort_order(pop, it, pop->by_label);
  for (int p = 0; p < CDN_POLICIES; p++) {
    if (!score || !score[p]) continue;
    PetscCall(PetscMalloc1(n + 1, &pop->by_score[p]));
    for (int j = 0; j < n; j++) it[j] = (item_t){score[p][model[j]], model[j], j};
    sort_order(pop, it, pop->by_score[p]);
  }
  PetscCall(PetscFree(it));
  PetscFunctionReturn(0);
}

static PetscErrorCode pop_destroy(pop_t *pop)
{
  PetscFunctionBeginUser;
  PetscCall(PetscFree3(pop->by_rung, pop->by_label, pop->alive));
  PetscCall(PetscFree2(pop->cum, pop->top));
  for (int p = 0; p < CDN_POLICIES; p++) PetscCall(PetscFree(pop->by_score[p]));
  PetscFunctionReturn(0);
}

/* The population with these counts: its size and best label. */
static void pop_weigh(pop_t *pop, const int *count, const double *label)
{
  pop->count = count, pop->m = 0, pop->best = -INFINITY;
  for (int j = 0; j < pop->n; j++)
    if (count[j]) pop->m += count[j], pop->best = max_label(pop->best, label[pop->model[j]]);
}

/* Prune: every model trains k epochs; the first keep of the population in ord go on. Their best
   label for any keep, from the running sums and bests along ord (once per population and policy). */
static void prune_prefix(pop_t *pop, const int *ord, const double *label)
{
  int    sum  = 0;
  double best = -INFINITY;
  for (int j = 0; j < pop->n; j++) {
    int c = pop->count[ord[j]];
    if (c) sum += c, best = max_label(best, label[pop->model[ord[j]]]);
    pop->cum[j] = sum, pop->top[j] = best;
  }
}

static double prune_kept(const pop_t *pop, int keep)
{
  int lo = 0, hi = pop->n - 1; /* the first place where the running sum reaches keep (<= m) */
  while (lo < hi) {
    int mid = lo + (hi - lo) / 2;
    if (pop->cum[mid] >= keep) hi = mid;
    else lo = mid + 1;
  }
  return pop->top[lo];
}

/* Random stopping: the j-th best label is the best kept with probability C(m-1-j, keep-1) / C(m, keep) */
static double random_kept(const pop_t *pop, const double *label, int keep)
{
  const int m = pop->m;
  double    p = (double)keep / m, kept = 0;
  for (int j = 0, pos = 0; j < pop->n && pos <= m - keep; j++) {
    double l = label[pop->model[pop->by_label[j]]];
    for (int t = 0; t < pop->count[pop->by_label[j]] && pos <= m - keep; t++, pos++) {
      kept += p * l;
      if (pos < m - keep) p *= (double)(m - pos - keep) / (m - 1 - pos);
    }
  }
  return kept;
}

/* Successive halving: at each rung the share f of the models still training stops, by validation
   accuracy at the rung; *spent is the epochs trained. */
static double halving_kept(const pop_t *pop, const double *label, int E, double f, double *spent)
{
  int    alive = pop->m, prev = 0;
  double kept  = -INFINITY;
  memcpy(pop->alive, pop->count, sizeof(int) * pop->n);
  *spent = 0;
  for (int q = 0, r = pop->k; q < pop->rungs && alive > 1; q++, r *= 2) {
    const int *ord = pop->by_rung + (size_t)q * pop->n;
    *spent += (double)alive * (r - prev);
    prev  = r;
    alive = keep_count(f, alive);
    for (int j = 0, left = alive; j < pop->n; j++) { /* the first alive of this rung's order go on */
      int *a = &pop->alive[ord[j]];
      *a = *a < left ? *a : left, left -= *a;
    }
  }
  *spent += (double)alive * (E - prev);
  for (int j = 0; j < pop->n; j++)
    if (pop->alive[j]) kept = max_label(kept, label[pop->model[j]]);
  return kept;
}

/* One rule at fraction f on a weighed population (prune: after prune_prefix on the policy's order). */
static void rule(const pop_t *pop, const cdn_results_t *res, const double *label, cdn_stop_rule_t rule, double f,
                 double *saved, double *regret)
{
  const int E = res->epochs, k = pop->k, keep = keep_count(f, pop->m);
  double    spent, kept;
  *saved = *regret = NAN;
  if (pop->m <= 0 || k < 1 || k >= E) return;
  if (rule == CDN_STOP_HALVING) kept = halving_kept(pop, label, E, f, &spent);
  else {
    spent = (double)pop->m * k + (double)keep * (E - k);
    kept  = rule == CDN_STOP_PRUNE ? prune_kept(pop, keep) : random_kept(pop, label, keep);
  }
  *saved  = 1 - spent / ((double)pop->m * E);
  *regret = pop->best - kept;
}

PetscErrorCode cdn_early_stop_rule(const cdn_results_t *res, const int *model, int m, const double *label,
                                   const double *score, cdn_stop_rule_t stop, int k, double fraction, double *saved,
                                   double *regret)
{
  const double *scores[CDN_POLICIES] = {stop == CDN_STOP_PRUNE ? score : NULL};
  int          *ids, *count, n = 0;
  pop_t         pop;

  PetscFunctionBeginUser;
  *saved = *regret = NAN;
  if (m <= 0 || k < 1 || k >= res->epochs) PetscFunctionReturn(0);
  PetscCall(PetscMalloc2(m, &ids, m, &count));
  PetscCall(PetscArraycpy(ids, model, m));
  PetscCall(PetscSortInt(m, ids));
  for (int i = 0; i < m; i++) { /* distinct ids and their counts */
    if (n && ids[n - 1] == ids[i]) count[n - 1]++;
    else ids[n] = ids[i], count[n++] = 1;
  }
  PetscCall(pop_create(res, ids, n, label, scores, k, &pop));
  pop_weigh(&pop, count, label);
  if (stop == CDN_STOP_PRUNE) prune_prefix(&pop, pop.by_score[0], label);
  rule(&pop, res, label, stop, fraction, saved, regret);
  PetscCall(pop_destroy(&pop));
  PetscCall(PetscFree2(ids, count));
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

/* Every run policy's sweep over c->fraction on the weighed population and its regret at the common
   levels. */
static void sweep(pop_t *pop, const cdn_results_t *res, const double *label, const cdn_early_curve_t *c,
                  double saved[][CDN_EARLY_MAX_FRACTIONS], double regret[][CDN_EARLY_MAX_FRACTIONS],
                  double at[][CDN_EARLY_LEVELS])
{
  for (int p = 0; p < CDN_POLICIES; p++) {
    cdn_stop_rule_t stop = p == CDN_POLICY_HALVING ? CDN_STOP_HALVING : p == CDN_POLICY_RANDOM ? CDN_STOP_RANDOM : CDN_STOP_PRUNE;
    if (c->run[p] && stop == CDN_STOP_PRUNE) prune_prefix(pop, pop->by_score[p], label);
    for (int f = 0; f < c->nf; f++) {
      saved[p][f] = regret[p][f] = NAN;
      if (c->run[p]) rule(pop, res, label, stop, c->fraction[f], &saved[p][f], &regret[p][f]);
    }
    for (int l = 0; l < CDN_EARLY_LEVELS; l++) at[p][l] = cdn_early_interpolate(saved[p], regret[p], c->nf, cdn_early_level(l));
  }
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
                                    double *const *score, int *count, double *boot, cdn_early_curve_t *c)
{
  const cdn_subset_t *sub = &ev->subset[CDN_SUBSET_ALL];
  const int           B = CDN_BOOTSTRAP, NF = CDN_EARLY_MAX_FRACTIONS, L = CDN_EARLY_LEVELS;
  double              sv[CDN_POLICIES][CDN_EARLY_MAX_FRACTIONS], rg[CDN_POLICIES][CDN_EARLY_MAX_FRACTIONS];
  double              at[CDN_POLICIES][CDN_EARLY_LEVELS];
  /* boot: per policy, the regrets at each fraction, at each level, the mean and the difference */
  double *bf = boot, *bl = bf + (size_t)CDN_POLICIES * NF * B, *bm = bl + (size_t)CDN_POLICIES * L * B,
         *bd = bm + (size_t)CDN_POLICIES * B;

  const double       *scores[CDN_POLICIES];
  pop_t               pop;

  PetscFunctionBeginUser;
  for (int p = 0; p < CDN_POLICIES; p++) scores[p] = p < CDN_POLICY_HALVING && c->run[p] ? score[p] : NULL;
  PetscCall(pop_create(res, sub->model, sub->n, ev->label, scores, c->budget, &pop));
  for (int i = 0; i < sub->n; i++) count[i] = 1;
  pop_weigh(&pop, count, ev->label);
  sweep(&pop, res, ev->label, c, c->saved, c->regret, c->at);
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
    cdn_resampler_next(rs, w);
    for (int i = 0; i < sub->n; i++) count[i] = (int)w[i];
    pop_weigh(&pop, count, ev->label);
    sweep(&pop, res, ev->label, c, sv, rg, at);
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
  PetscCall(pop_destroy(&pop));
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_evaluation_early_stop(const cdn_jobspec_t *spec, const cdn_results_t *res, cdn_evaluation_t *ev)
{
  const cdn_subset_t *sub = &ev->subset[CDN_SUBSET_ALL];
  const int           ns = sub->n, B = CDN_BOOTSTRAP;
  double             *w, *boot, *score[CDN_POLICIES], fr[CDN_EARLY_MAX_FRACTIONS], best = -INFINITY;
  int                *cfg, *count, nf = 0;
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
  PetscCall(PetscMalloc1(ns, &count));
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
    PetscCall(budget_curves(res, ev, rs, w, score, count, boot, c));
    const cdn_headline_t *g = cdn_evaluation_headline(ev, CDN_SUBSET_ALL, k, CDN_FAMILY_GRAPH);
    if (g && isfinite(g->mean.tau_fold) && g->mean.tau_fold > best) best = g->mean.tau_fold, ev->early_k = k;
    ev->nearly++;
  }
  for (int p = 0; p < CDN_POLICIES; p++) PetscCall(PetscFree(score[p]));
  PetscCall(PetscFree(count));
  PetscCall(PetscFree(boot));
  PetscCall(PetscFree2(w, cfg));
  PetscCall(cdn_resampler_destroy(&rs));
  PetscFunctionReturn(0);
}
