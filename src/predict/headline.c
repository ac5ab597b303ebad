/* The headline numbers of a comparison: the best of each family chosen by nested selection, the
   pre-registered row, and bootstrap intervals over configurations (evaluate.h, cdn_headline_t).
   Everything here re-reads the gathered out-of-fold outputs at the root: no learner is refitted,
   so a thousand resamples cost milliseconds. */
#include <math.h>
#include <string.h>
#include "cnndyn/evaluate.h"
#include "predict_impl.h"

/* Per subset: the folds of every repeat (-1: not scored, a split's training side), the fold
   count, and the bootstrap over its configurations. */
typedef struct {
  int              ns, nq, k, *fold; /* nq x ns */
  int              ng;               /* configurations */
  const int       *grp;              /* configuration ordinal of each model (rs->ord) */
  cdn_resampler_t *rs;
  double          *w;                /* the current resample's weights (ns) */
} frame_t;

/* One statistic's nested out-of-fold outputs, repeat q's at q * ns. */
typedef struct {
  double *pred, *rank;
  int    *pc, *tc;
} oof_t;

/* Kendall tau-b with weights: a configuration drawn w times counts w times, so a pair of models
   from two configurations counts w_i w_j times, and a pair inside one configuration (replicates)
   rep * w times, once per copy: a pair across two copies of the same configuration would be an
   artefact of the resampling, and counting it (w^2) would double the weight of replicate pairs,
   which are mostly seed noise, and pull every interval towards 0. rep: 1 for the point estimate;
   in a resample of G configurations E[w_i w_j] = 1 - 1/G while E[w] = 1, so rep = 1 - 1/G keeps
   replicate pairs at their share of the fold (1 would pull the resampled tau towards the replicate
   pairs' tau, about 0). cdn_weighted_tau (wtau.c) computes it. */
/* Within-fold tau and accuracy of o under weights w (mean over repeats of the mean over folds).
   ones NULL: w is the sample itself, every fold counts once. Else w is a resample and each fold
   counts by the weight of its pairs against the sample's (ones): a fold whose configurations were
   drawn rarely weighs little and an undrawn fold nothing, where an equal weight let a fold left with
   one configuration (a tau of replicate pairs only) move the mean as much as a whole fold. */
static void score(const frame_t *fr, const oof_t *o, const double *y, const double *w, const double *ones,
                  cdn_tau_work_t *tw, double *tau, double *acc)
{
  double ts = 0, as = 0, rep = ones ? 1 - 1.0 / fr->ng : 1;
  int    tn = 0, an = 0;
  for (int q = 0; q < fr->nq; q++) {
    const int    *fold = fr->fold + (size_t)q * fr->ns;
    const double *rk   = o->rank + (size_t)q * fr->ns;
    double        fs = 0, fw = 0, hit = 0, tot = 0, tb, tb1;
    for (int g = 0; g < fr->k; g++) {
      int m = 0;
      for (int i = 0; i < fr->ns; i++)
        if (fold[i] == g) tw->idx[m++] = i;
      double t = cdn_weighted_tau(tw, m, rk, y, w, fr->grp, rep, &tb), wg = 1;
      if (ones) cdn_weighted_tau(tw, m, rk, y, ones, fr->grp, 1, &tb1), wg = tb1 > 0 ? tb / tb1 : 0;
      if (isfinite(t)) fs += wg * t, fw += wg;
    }
    for (int i = 0; i < fr->ns; i++)
      if (fold[i] >= 0) hit += w[i] * (o->pc[(size_t)q * fr->ns + i] == o->tc[(size_t)q * fr->ns + i]), tot += w[i];
    if (fw > 0) ts += fs / fw, tn++;
    if (tot > 0) as += hit / tot, an++;
  }
  *tau = tn ? ts / tn : NAN;
  *acc = an ? as / an : NAN;
}

void cdn_percentile_interval(double *v, int n, double ci[2])
{
  int m = 0;
  for (int i = 0; i < n; i++)
    if (isfinite(v[i])) v[m++] = v[i];
  cdn_sort_doubles(v, m);
  ci[0] = m ? cdn_quantile_sorted(v, m, 0.025) : NAN;
  ci[1] = m ? cdn_quantile_sorted(v, m, 0.975) : NAN;
}

static PetscErrorCode frame_resampler(uint64_t seed, int s, const int *config, frame_t *fr)
{
  PetscFunctionBeginUser;
  PetscCall(cdn_resampler_create(seed, s, fr->ns, config, &fr->rs));
  fr->grp = fr->rs->ord, fr->ng = fr->rs->ng;
  PetscFunctionReturn(0);
}

static PetscErrorCode frame_destroy(frame_t *fr)
{
  PetscFunctionBeginUser;
  PetscCall(PetscFree2(fr->fold, fr->w));
  PetscCall(cdn_resampler_destroy(&fr->rs));
  PetscFunctionReturn(0);
}

static PetscErrorCode frame_build(const cdn_jobspec_t *spec, const cdn_results_t *res, const cdn_evaluation_t *ev,
                                  int s, frame_t *fr)
{
  const cdn_subset_t *sub = &ev->subset[s];
  int                *grp;

  PetscFunctionBeginUser;
  fr->ns = sub->n, fr->nq = sub->test ? 1 : ev->repeats, fr->k = sub->test ? 1 : 0, fr->ng = 0;
  PetscCall(PetscMalloc2((size_t)fr->nq * fr->ns, &fr->fold, fr->ns + 1, &fr->w));
  PetscCall(PetscMalloc1(fr->ns, &grp));
  for (int i = 0; i < fr->ns; i++) grp[i] = res->config[sub->model[i]].config_id;
  for (int q = 0; q < fr->nq; q++) {
    int *fold = fr->fold + (size_t)q * fr->ns, k;
    if (sub->test)
      for (int i = 0; i < fr->ns; i++) fold[i] = sub->test[i] ? 0 : -1;
    else {
      PetscCall(cdn_folds_grouped_ex(fr->ns, grp, spec->folds, cdn_repeat_seed(spec->seed, q), fold, &k));
      fr->k = k;
    }
  }
  PetscCall(frame_resampler(spec->seed, s, grp, fr));
  PetscCall(PetscFree(grp));
  PetscFunctionReturn(0);
}

/* Does row r compete in kind's family at (s, k)? Budgetless rows compete at every k. */
static int competes(const cdn_evaluation_t *ev, int r, int s, int k, int kind)
{
  const cdn_eval_row_t *row = &ev->row[r];
  return row->subset == s && (row->budget == k || row->budget == 0) && (int)cdn_method_family(row->method) == kind;
}

/* The nested outputs of a family at (s, k): in each outer fold of each repeat, the competing row
   with the highest inner score (NaN lowest; ties and all-NaN: the earliest row). */
static void nest(const cdn_evaluation_t *ev, const frame_t *fr, int s, int k, int kind, oof_t *o, cdn_headline_t *h,
                 int *votes, int *choice)
{
  int F = ev->folds;
  h->candidates = 0, h->chosen = h->choices = 0, h->row = -1;
  for (int r = 0; r < ev->nrows; r++) votes[r] = 0, h->candidates += competes(ev, r, s, k, kind);
  if (!h->candidates) return;
  for (int q = 0; q < fr->nq; q++)
    for (int g = 0; g < fr->k; g++) {
      int best = -1;
      for (int r = 0; r < ev->nrows; r++) {
        if (!competes(ev, r, s, k, kind)) continue;
        double v = ev->row[r].select[(size_t)q * F + g], bv = best < 0 ? NAN : ev->row[best].select[(size_t)q * F + g];
        if (best < 0 || (isfinite(v) && (!isfinite(bv) || v > bv))) best = r;
      }
      votes[best]++, h->choices++, choice[q * fr->k + g] = best;
      const cdn_eval_row_t *row = &ev->row[best];
      for (int i = 0; i < fr->ns; i++) {
        size_t at = (size_t)q * fr->ns + i;
        if (fr->fold[at] != g) continue;
        o->pred[at] = row->pred[at], o->rank[at] = row->rank[at], o->pc[at] = row->pred_class[at], o->tc[at] = row->true_class[at];
      }
    }
  for (int r = 0; r < ev->nrows; r++)
    if (votes[r] > h->chosen) h->chosen = votes[r], h->row = r;
}

/* Metrics of o per repeat, then mean and std over repeats (as collect does for a row). */
static PetscErrorCode summarise(const cdn_evaluation_t *ev, const frame_t *fr, int s, const oof_t *o, cdn_headline_t *h)
{
  const cdn_subset_t *sub = &ev->subset[s];
  const int           NM  = (int)(sizeof(cdn_metrics_t) / sizeof(double));
  int                 ns = fr->ns, *ct, *pc, *fd, m;
  double             *y, *rk, *pr, *mean = (double *)&h->mean, *std = (double *)&h->std;
  cdn_metrics_t      *per;

  PetscFunctionBeginUser;
  PetscCall(PetscMalloc4(ns, &y, ns, &rk, ns, &pr, fr->nq, &per));
  PetscCall(PetscMalloc3(ns, &ct, ns, &pc, ns, &fd));
  for (int q = 0; q < fr->nq; q++) {
    m = 0;
    for (int i = 0; i < ns; i++) {
      size_t at = (size_t)q * ns + i;
      if (fr->fold[at] < 0) continue;
      y[m] = ev->label[sub->model[i]], rk[m] = o->rank[at], pr[m] = o->pred[at], ct[m] = o->tc[at], pc[m] = o->pc[at];
      fd[m++] = fr->fold[at];
    }
    PetscCall(cdn_metrics_fill(CDN_LEARNER_LINEAR, m, y, rk, pr, ct, pc, ev->nclasses, fd, fr->k, fr->k >= 2 || sub->test,
                               ev->row[h->row].mean.majority, &per[q]));
  }
  for (int j = 0; j < NM; j++) {
    double sum = 0, ss = 0;
    int    c   = 0;
    for (int q = 0; q < fr->nq; q++) {
      double v = ((double *)&per[q])[j];
      if (isfinite(v)) sum += v, c++;
    }
    mean[j] = c ? sum / c : NAN;
    for (int q = 0; q < fr->nq; q++) {
      double v = ((double *)&per[q])[j];
      if (isfinite(v)) ss += (v - mean[j]) * (v - mean[j]);
    }
    std[j] = c && !sub->test ? sqrt(ss / c) : NAN;
  }
  h->std.majority = ev->row[h->row].std.majority;
  PetscCall(PetscFree4(y, rk, pr, per));
  PetscCall(PetscFree3(ct, pc, fd));
  PetscFunctionReturn(0);
}

static PetscErrorCode oof_alloc(size_t len, oof_t *o)
{
  PetscFunctionBeginUser;
  PetscCall(PetscMalloc4(len, &o->pred, len, &o->rank, len, &o->pc, len, &o->tc));
  for (size_t i = 0; i < len; i++) o->pred[i] = o->rank[i] = NAN, o->pc[i] = o->tc[i] = 0;
  PetscFunctionReturn(0);
}

/* The pre-registered row of subset s at budget k: the paper's weighted-degree summary (with its
   differences) through the strongest learner the job selected. */
static int prereg_row(const cdn_evaluation_t *ev, int s, int k)
{
  const cdn_learner_t order[3] = {CDN_LEARNER_XGB, CDN_LEARNER_SVR, CDN_LEARNER_LINEAR};
  for (int l = 0; l < 3; l++)
    for (int r = 0; r < ev->nrows; r++)
      if (ev->row[r].subset == s && ev->row[r].budget == k && ev->row[r].method == CDN_METHOD_DEGREE_DIFF &&
          ev->row[r].learner == order[l])
        return r;
  return -1;
}

static void all_nan(cdn_metrics_t *m)
{
  for (size_t j = 0; j < sizeof *m / sizeof(double); j++) ((double *)m)[j] = NAN;
}

PetscErrorCode cdn_bootstrap_tau_within(uint64_t seed, int ns, const int *config, int nq, const int *fold, int k,
                                        const double *r, const double *y, double *tau, double ci[2])
{
  frame_t fr = {.ns = ns, .nq = nq, .k = k};
  oof_t   o;
  double        *bt, *ones, a;
  cdn_tau_work_t *tw = NULL;

  PetscFunctionBeginUser;
  PetscCall(PetscMalloc2((size_t)nq * ns, &fr.fold, ns + 1, &fr.w));
  PetscCall(PetscMalloc2(CDN_BOOTSTRAP, &bt, ns, &ones));
  PetscCall(cdn_tau_work_create(ns, &tw));
  PetscCall(oof_alloc((size_t)nq * ns, &o));
  PetscCall(PetscArraycpy(fr.fold, fold, (size_t)nq * ns));
  PetscCall(PetscArraycpy(o.rank, r, (size_t)nq * ns));
  for (int i = 0; i < ns; i++) ones[i] = 1;
  PetscCall(frame_resampler(seed, 0, config, &fr));
  score(&fr, &o, y, ones, NULL, tw, tau, &a);
  for (int b = 0; b < CDN_BOOTSTRAP; b++) cdn_resampler_next(fr.rs, fr.w), score(&fr, &o, y, fr.w, ones, tw, &bt[b], &a);
  cdn_percentile_interval(bt, CDN_BOOTSTRAP, ci);
  PetscCall(PetscFree4(o.pred, o.rank, o.pc, o.tc));
  PetscCall(PetscFree2(bt, ones));
  PetscCall(cdn_tau_work_destroy(&tw));
  PetscCall(frame_destroy(&fr));
  PetscFunctionReturn(0);
}

/* Graph-only minus baseline: the difference of the means, and its spread over repeats. */
static PetscErrorCode difference(const frame_t *fr, const oof_t *o, const double *y, const double *ones, cdn_tau_work_t *tw,
                                 const cdn_headline_t *g, const cdn_headline_t *b, int split, cdn_headline_t *h)
{
  double dt[100], da[100], mt = 0, ma = 0, st = 0, sa = 0;
  int    nq = fr->nq < 100 ? fr->nq : 100, ct = 0, ca = 0;

  PetscFunctionBeginUser;
  all_nan(&h->mean), all_nan(&h->std);
  for (int q = 0; q < nq; q++) {
    frame_t one = *fr;
    size_t  at  = (size_t)q * fr->ns;
    oof_t   og = {o[CDN_FAMILY_GRAPH].pred + at, o[CDN_FAMILY_GRAPH].rank + at, o[CDN_FAMILY_GRAPH].pc + at,
                  o[CDN_FAMILY_GRAPH].tc + at};
    oof_t   ob = {o[CDN_FAMILY_BASELINE].pred + at, o[CDN_FAMILY_BASELINE].rank + at, o[CDN_FAMILY_BASELINE].pc + at,
                  o[CDN_FAMILY_BASELINE].tc + at};
    double  tg, ag, tb, ab;
    one.nq = 1, one.fold = fr->fold + at;
    score(&one, &og, y, ones, NULL, tw, &tg, &ag);
    score(&one, &ob, y, ones, NULL, tw, &tb, &ab);
    dt[q] = tg - tb, da[q] = ag - ab;
    if (isfinite(dt[q])) mt += dt[q], ct++;
    if (isfinite(da[q])) ma += da[q], ca++;
  }
  mt = ct ? mt / ct : NAN, ma = ca ? ma / ca : NAN;
  for (int q = 0; q < nq; q++) {
    if (isfinite(dt[q])) st += (dt[q] - mt) * (dt[q] - mt);
    if (isfinite(da[q])) sa += (da[q] - ma) * (da[q] - ma);
  }
  h->mean.tau_fold = g->mean.tau_fold - b->mean.tau_fold;
  h->mean.accuracy = g->mean.accuracy - b->mean.accuracy;
  h->std.tau_fold  = ct && !split ? sqrt(st / ct) : NAN;
  h->std.accuracy  = ca && !split ? sqrt(sa / ca) : NAN;
  PetscFunctionReturn(0);
}

/* Adds the headlines of subset s. */
static PetscErrorCode subset_headlines(const cdn_jobspec_t *spec, const cdn_results_t *res, cdn_evaluation_t *ev, int s)
{
  frame_t fr;
  int    *votes, K = ev->max_budget;
  cdn_tau_work_t *tw = NULL;
  double *bt[CDN_HEADLINE_KINDS], *ba[CDN_HEADLINE_KINDS], *y, *ones;
  oof_t   o[CDN_HEADLINE_KINDS];

  PetscFunctionBeginUser;
  PetscCall(frame_build(spec, res, ev, s, &fr));
  PetscCall(PetscFree(ev->subset[s].fold)); /* predictions.csv names each prediction's fold */
  PetscCall(PetscMalloc1((size_t)fr.nq * fr.ns, &ev->subset[s].fold));
  PetscCall(PetscArraycpy(ev->subset[s].fold, fr.fold, (size_t)fr.nq * fr.ns));
  ev->subset[s].nfolds = fr.k;
  PetscCall(PetscMalloc3(ev->nrows + 1, &votes, fr.ns, &y, fr.ns, &ones));
  PetscCall(cdn_tau_work_create(fr.ns, &tw));
  for (int i = 0; i < fr.ns; i++) y[i] = ev->label[ev->subset[s].model[i]], ones[i] = 1;
  for (int c = 0; c < CDN_HEADLINE_KINDS; c++) {
    PetscCall(PetscMalloc2(CDN_BOOTSTRAP, &bt[c], CDN_BOOTSTRAP, &ba[c]));
    PetscCall(oof_alloc((size_t)fr.nq * fr.ns, &o[c]));
  }
  for (int k = 1; k <= K; k++) {
    int pk = K < 5 ? K : 5, first = ev->nheadlines;
    for (int c = 0; c < CDN_HEADLINE_KINDS; c++) {
      cdn_headline_t *h = &ev->headline[ev->nheadlines];
      *h = (cdn_headline_t){.subset = s, .budget = k, .kind = c, .row = -1};
      for (int j = 0; j < 2; j++) h->tau_ci[j] = h->acc_ci[j] = NAN;
      if (c < CDN_FAMILY_COUNT) {
        PetscCall(PetscMalloc1((size_t)fr.nq * fr.k + 1, &h->choice));
        for (int j = 0; j < fr.nq * fr.k; j++) h->choice[j] = -1;
        nest(ev, &fr, s, k, c, &o[c], h, votes, h->choice);
      }
      else if (c == CDN_HEADLINE_PREREG && k == pk && (h->row = prereg_row(ev, s, k)) >= 0) {
        const cdn_eval_row_t *row = &ev->row[h->row];
        size_t                len = (size_t)fr.nq * fr.ns;
        h->candidates = h->chosen = h->choices = 1;
        PetscCall(PetscArraycpy(o[c].pred, row->pred, len));
        PetscCall(PetscArraycpy(o[c].rank, row->rank, len));
        PetscCall(PetscArraycpy(o[c].pc, row->pred_class, len));
        PetscCall(PetscArraycpy(o[c].tc, row->true_class, len));
      } else if (c == CDN_HEADLINE_DIFF) { /* both sides must exist */
        const cdn_headline_t *g = &ev->headline[first + CDN_FAMILY_GRAPH], *b = &ev->headline[first + CDN_FAMILY_BASELINE];
        if (g->row >= 0 && b->row >= 0) {
          h->row = g->row, h->candidates = g->candidates + b->candidates;
          PetscCall(difference(&fr, o, y, ones, tw, g, b, ev->subset[s].test != NULL, h));
        }
      }
      if (h->row >= 0 && c != CDN_HEADLINE_DIFF) {
        PetscCall(summarise(ev, &fr, s, &o[c], h));
        PetscCall(PetscMalloc1(fr.ns, &h->pred));
        PetscCall(PetscArraycpy(h->pred, o[c].pred, fr.ns));
      }
      ev->nheadlines++;
    }
    /* the bootstrap: every statistic on the same resamples, so the difference is paired */
    cdn_resampler_restart(fr.rs);
    for (int b = 0; b < CDN_BOOTSTRAP; b++) {
      cdn_resampler_next(fr.rs, fr.w);
      for (int c = 0; c < CDN_HEADLINE_KINDS; c++) {
        const cdn_headline_t *h = &ev->headline[first + c];
        bt[c][b] = ba[c][b] = NAN;
        if (h->kind == CDN_HEADLINE_DIFF || h->row < 0) continue;
        score(&fr, &o[c], y, fr.w, ones, tw, &bt[c][b], &ba[c][b]);
      }
    }
    /* the pairs first: cdn_percentile_interval sorts its array */
    for (int b = 0; b < CDN_BOOTSTRAP; b++)
      bt[CDN_HEADLINE_DIFF][b] = bt[CDN_FAMILY_GRAPH][b] - bt[CDN_FAMILY_BASELINE][b],
      ba[CDN_HEADLINE_DIFF][b] = ba[CDN_FAMILY_GRAPH][b] - ba[CDN_FAMILY_BASELINE][b];
    for (int c = 0; c < CDN_HEADLINE_KINDS; c++) {
      cdn_headline_t *h = &ev->headline[first + c];
      if (h->row < 0) continue;
      cdn_percentile_interval(bt[c], CDN_BOOTSTRAP, h->tau_ci);
      cdn_percentile_interval(ba[c], CDN_BOOTSTRAP, h->acc_ci);
    }
  }
  for (int c = 0; c < CDN_HEADLINE_KINDS; c++) {
    PetscCall(PetscFree2(bt[c], ba[c]));
    PetscCall(PetscFree4(o[c].pred, o[c].rank, o[c].pc, o[c].tc));
  }
  PetscCall(PetscFree3(votes, y, ones));
  PetscCall(cdn_tau_work_destroy(&tw));
  PetscCall(frame_destroy(&fr));
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_evaluation_headlines(const cdn_jobspec_t *spec, const cdn_results_t *res, cdn_evaluation_t *ev)
{
  int run = 0;

  PetscFunctionBeginUser;
  for (int s = 0; s < ev->nsubsets; s++) run += ev->subset[s].run;
  PetscCall(PetscCalloc1((size_t)run * ev->max_budget * CDN_HEADLINE_KINDS + 1, &ev->headline));
  ev->nheadlines = 0;
  for (int s = 0; s < ev->nsubsets; s++)
    if (ev->subset[s].run) PetscCall(subset_headlines(spec, res, ev, s));
  PetscCall(cdn_evaluation_early_stop(spec, res, ev)); /* prunes by the headlines' predictions */
  PetscFunctionReturn(0);
}

const cdn_headline_t *cdn_evaluation_headline(const cdn_evaluation_t *ev, int subset, int k, int kind)
{
  for (int i = 0; i < ev->nheadlines; i++) {
    const cdn_headline_t *h = &ev->headline[i];
    if (h->subset == subset && h->kind == kind && (h->budget == k || kind == CDN_HEADLINE_PREREG) && h->row >= 0)
      return h;
  }
  return NULL;
}
