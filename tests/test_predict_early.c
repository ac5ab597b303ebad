/* Early-stopping simulation: the three stopping rules on a hand-made population (epochs saved and
   regret computed by hand), a planted population where a perfect predictor and halving on a
   validation accuracy equal to the label lose nothing at any fraction while random stopping does,
   the equal-compute interpolation on a hand-computed case, and the rules against the way they were
   first written (sorting the repeated list itself) on random populations with ties, NaNs, repeated
   models and models stopped early, and on edge cases (no label, one model, epoch 0, infinities,
   fractions that are not tenths), bit for bit. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "cnndyn/evaluate.h"
#include "cnndyn/util.h"

/* A population of n models, E epochs, curves 0.5 everywhere; done[] = E. */
static void population(cdn_results_t *res, int n, int E, double *curves, int *done, cdn_status_t *status)
{
  *res = (cdn_results_t){.nmodels = n, .epochs = E, .curves = curves, .epochs_done = done, .status = status};
  for (int i = 0; i < n * (E + 1) * CDN_CURVE_COLS; i++) curves[i] = 0.5;
  for (int m = 0; m < n; m++) done[m] = E, status[m] = CDN_STATUS_OK;
}

static PetscErrorCode hand_case(void)
{
  enum { N = 4, E = 4 };
  double        curves[N * (E + 1) * CDN_CURVE_COLS], label[N] = {0.9, 0.5, 0.8, 0.6}, pred[N] = {0.1, 0.9, 0.8, 0.2};
  double        acc1[N] = {0.7, 0.2, 0.6, 0.3}, acc2[N] = {0.8, 0.1, 0.75, 0.2}, saved, regret;
  int           done[N], ids[N] = {0, 1, 2, 3};
  cdn_status_t  status[N];
  cdn_results_t res;

  PetscFunctionBeginUser;
  population(&res, N, E, curves, done, status);
  for (int m = 0; m < N; m++) {
    cdn_results_curve(&res, m, 1)[CDN_CURVE_VAL_ACC] = acc1[m];
    cdn_results_curve(&res, m, 2)[CDN_CURVE_VAL_ACC] = acc2[m];
  }
  /* prune: keep models 1 and 2 (best predicted); 4 x 1 + 2 x 3 = 10 of 16 epochs; best kept 0.8 */
  PetscCall(cdn_early_stop_rule(&res, ids, N, label, pred, CDN_STOP_PRUNE, 1, 0.5, &saved, &regret));
  CHECK_CLOSE(saved, 1 - 10.0 / 16, 1e-12);
  CHECK_CLOSE(regret, 0.1, 1e-12);
  /* halving: 4 x 1, keep 0 and 2; 2 x 1 more, keep 0; 1 x 2 more = 8 of 16; model 0 is the best */
  PetscCall(cdn_early_stop_rule(&res, ids, N, label, NULL, CDN_STOP_HALVING, 1, 0.5, &saved, &regret));
  CHECK_CLOSE(saved, 0.5, 1e-12);
  CHECK_CLOSE(regret, 0.0, 1e-12);
  /* halving stopping a quarter: ceil(0.75 x 4) = 3 go on at epoch 1 (0, 2, 3), ceil(0.75 x 3) = 3 at
     epoch 2: 4 + 3 + 3 x 2 = 13 of 16 epochs */
  PetscCall(cdn_early_stop_rule(&res, ids, N, label, NULL, CDN_STOP_HALVING, 1, 0.25, &saved, &regret));
  CHECK_CLOSE(saved, 3.0 / 16, 1e-12);
  CHECK_CLOSE(regret, 0.0, 1e-12);
  /* random, two of four kept: the six pairs' best labels 0.9 0.9 0.9 0.8 0.8 0.6, mean 4.9 / 6 */
  PetscCall(cdn_early_stop_rule(&res, ids, N, label, NULL, CDN_STOP_RANDOM, 1, 0.5, &saved, &regret));
  CHECK_CLOSE(saved, 1 - 10.0 / 16, 1e-12);
  CHECK_CLOSE(regret, 0.9 - 4.9 / 6, 1e-12);
  /* a budget at the end of training leaves nothing to save: undefined */
  PetscCall(cdn_early_stop_rule(&res, ids, N, label, pred, CDN_STOP_PRUNE, E, 0.5, &saved, &regret));
  CHECK(isnan(saved) && isnan(regret));
  PetscFunctionReturn(0);
}

/* Distinct labels, a perfect predictor and a validation accuracy equal to the label at every epoch. */
static PetscErrorCode planted(void)
{
  enum { N = 40, E = 8 };
  static double curves[N * (E + 1) * CDN_CURVE_COLS];
  double        label[N], saved, regret, random_sum = 0, perfect_sum = 0;
  int           done[N], ids[2 * N];
  cdn_status_t  status[N];
  cdn_results_t res;

  PetscFunctionBeginUser;
  population(&res, N, E, curves, done, status);
  for (int m = 0; m < N; m++) {
    label[m] = 0.3 + 0.6 * (double)((m * 17) % N) / N; /* a permutation: no order by id */
    for (int e = 0; e <= E; e++) cdn_results_curve(&res, m, e)[CDN_CURVE_VAL_ACC] = label[m];
  }
  /* the population, then a resample-like list where every model appears twice */
  for (int i = 0; i < 2 * N; i++) ids[i] = i % N;
  for (int twice = 0; twice < 2; twice++)
    for (int k = 1; k < E; k += 3)
      for (int f = 1; f <= 9; f++) {
        int m = twice ? 2 * N : N;
        PetscCall(cdn_early_stop_rule(&res, ids, m, label, label, CDN_STOP_PRUNE, k, f / 10.0, &saved, &regret));
        CHECK_CLOSE(regret, 0.0, 1e-15);
        CHECK(saved > 0 && saved < 1);
        perfect_sum += regret;
        PetscCall(cdn_early_stop_rule(&res, ids, m, label, NULL, CDN_STOP_HALVING, k, f / 10.0, &saved, &regret));
        CHECK_CLOSE(regret, 0.0, 1e-15);
        PetscCall(cdn_early_stop_rule(&res, ids, m, label, NULL, CDN_STOP_RANDOM, k, f / 10.0, &saved, &regret));
        CHECK(regret > 0); /* some kept subsets miss the best model */
        random_sum += regret;
      }
  CHECK(random_sum > perfect_sum + 0.1);
  PetscFunctionReturn(0);
}

/* ---- the rules as first written: sort the list itself, repeats and all (the oracle) ---- */
typedef struct {
  double v;
  int    i;
} ref_item_t;

static int ref_desc(const void *p, const void *q)
{
  const ref_item_t *a = p, *b = q;
  double            x = isfinite(a->v) ? a->v : -INFINITY, y = isfinite(b->v) ? b->v : -INFINITY;
  if (x != y) return x > y ? -1 : 1;
  return a->i - b->i;
}

static int ref_keep(double f, int m)
{
  int keep = (int)ceil((1 - f) * m - 1e-9);
  return keep < 1 ? 1 : keep;
}

static void ref_rule(const cdn_results_t *res, const int *model, int m, const double *label, const double *score,
                     cdn_stop_rule_t rule, int k, double f, double *saved, double *regret)
{
  int         E = res->epochs, keep;
  double      best = -INFINITY, kept = -INFINITY, spent;
  ref_item_t *it   = malloc(sizeof *it * (size_t)m);
  for (int i = 0; i < m; i++) best = fmax(best, label[model[i]]);
  if (rule == CDN_STOP_HALVING) {
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
      qsort(it, (size_t)alive, sizeof *it, ref_desc);
      alive = ref_keep(f, alive);
    }
    spent += (double)alive * (E - prev);
    for (int j = 0; j < alive; j++) kept = fmax(kept, label[it[j].i]);
  } else {
    keep  = ref_keep(f, m);
    spent = (double)m * k + (double)keep * (E - k);
    for (int i = 0; i < m; i++) it[i] = (ref_item_t){rule == CDN_STOP_PRUNE ? score[model[i]] : label[model[i]], model[i]};
    qsort(it, (size_t)m, sizeof *it, ref_desc);
    if (rule == CDN_STOP_PRUNE)
      for (int j = 0; j < keep; j++) kept = fmax(kept, label[it[j].i]);
    else {
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
  free(it);
}

/* Values from a few levels (ties), now and then NaN. */
static double coarse(unsigned *s)
{
  *s = *s * 1103515245u + 12345u;
  unsigned r = *s >> 16;
  return r % 17 == 0 ? NAN : 0.1 + 0.1 * (double)(r % 7);
}

/* Every rule at budgets 1..E-1 (the oracle leaves out the check of k) and the fractions fr on the
   list ids[0..m): how many results differ from the oracle's in any bit; *calls counts them. */
static PetscErrorCode oracle_differs(const cdn_results_t *res, const int *ids, int m, const double *label,
                                     const double *score, const double *fr, int nfr, long *differ, long *calls)
{
  PetscFunctionBeginUser;
  for (int k = 1; k < res->epochs; k++)
    for (int f = 0; f < nfr; f++)
      for (int r = 0; r < 3; r++) {
        cdn_stop_rule_t rule = r == 0 ? CDN_STOP_PRUNE : r == 1 ? CDN_STOP_HALVING : CDN_STOP_RANDOM;
        double          s0, g0, s1, g1;
        ref_rule(res, ids, m, label, score, rule, k, fr[f], &s0, &g0);
        PetscCall(cdn_early_stop_rule(res, ids, m, label, score, rule, k, fr[f], &s1, &g1));
        *differ += memcmp(&s0, &s1, sizeof s0) != 0 || memcmp(&g0, &g1, sizeof g0) != 0;
        ++*calls;
      }
  PetscFunctionReturn(0);
}

/* Random populations: the rules as cdn_early_stop_rule runs them equal the oracle's bits. */
static PetscErrorCode against_oracle(void)
{
  enum { N = 30, E = 9 };
  static double curves[N * (E + 1) * CDN_CURVE_COLS];
  double        label[N], score[N], tenths[11];
  int           done[N], ids[3 * N];
  cdn_status_t  status[N];
  cdn_results_t res;
  unsigned      seed = 7;
  long          differ = 0, calls = 0;

  PetscFunctionBeginUser;
  for (int f = 0; f <= 10; f++) tenths[f] = f / 10.0;
  for (int round = 0; round < 40; round++) {
    population(&res, N, E, curves, done, status);
    for (int m = 0; m < N; m++) {
      label[m] = coarse(&seed), score[m] = coarse(&seed);
      done[m]  = 1 + (int)((seed >> 8) % E); /* some stopped early: their last epoch's accuracy counts */
      for (int e = 0; e <= E; e++) cdn_results_curve(&res, m, e)[CDN_CURVE_VAL_ACC] = coarse(&seed);
    }
    /* a list of m models drawn with repeats, as a resample is */
    int m = 1 + (int)((seed >> 4) % (3 * N));
    for (int i = 0; i < m; i++) ids[i] = (int)(((seed = seed * 1103515245u + 12345u) >> 16) % N);
    PetscCall(oracle_differs(&res, ids, m, label, score, tenths, 11, &differ, &calls));
  }
  CHECK(calls == 40L * (E - 1) * 11 * 3);
  CHECK(differ == 0);
  PetscFunctionReturn(0);
}

/* The oracle on what random populations rarely give: every label NaN, every value tied, one model
   (once, or repeated thousands of times), models stopped at epoch 0, infinities, a list far longer
   than the population, and fractions that are not tenths (a job's prune_fraction). */
static PetscErrorCode oracle_edges(void)
{
  enum { N = 12, E = 6, M = 20000 };
  static double curves[N * (E + 1) * CDN_CURVE_COLS];
  static int    ids[M];
  const double  fr[] = {0, 1e-12, 0.05, 1.0 / 3, 0.37, 0.5, 0.95, 0.999, 1 - 1e-12, 1};
  const int     nfr  = (int)(sizeof fr / sizeof fr[0]);
  double        label[N], score[N];
  int           done[N];
  cdn_status_t  status[N];
  cdn_results_t res;
  unsigned      seed = 11;
  long          differ = 0, calls = 0;

  PetscFunctionBeginUser;
  for (int c = 0; c < 7; c++) {
    int m = 0;
    population(&res, N, E, curves, done, status);
    for (int i = 0; i < N; i++) {
      label[i] = coarse(&seed), score[i] = coarse(&seed);
      for (int e = 0; e <= E; e++) cdn_results_curve(&res, i, e)[CDN_CURVE_VAL_ACC] = coarse(&seed);
    }
    switch (c) {
    case 0: /* no label at all */
      for (int i = 0; i < N; i++) label[i] = NAN;
      for (int i = 0; i < 3 * N; i++) ids[m++] = i % N;
      break;
    case 1: /* every value tied: only the model ids order them */
      for (int i = 0; i < N; i++) label[i] = score[i] = 0.5;
      for (int i = 0; i < 2 * N; i++) ids[m++] = (i * 5) % N;
      break;
    case 2: /* one model, once */
      ids[m++] = 7;
      break;
    case 3: /* one model, many times */
      for (; m < 5000; m++) ids[m] = 3;
      break;
    case 4: /* stopped at epoch 0 and 1, infinities in every value */
      for (int i = 0; i < N; i++) {
        done[i] = i % 3 == 0 ? 0 : i % 3 == 1 ? 1 : E;
        if (i % 4 == 1) score[i] = INFINITY, cdn_results_curve(&res, i, 1)[CDN_CURVE_VAL_ACC] = -INFINITY;
        if (i % 5 == 2) label[i] = i % 2 ? -INFINITY : INFINITY;
      }
      for (int i = 0; i < 4 * N; i++) ids[m++] = (int)(((seed = seed * 1103515245u + 12345u) >> 16) % N);
      break;
    case 5: /* a list far longer than the population: the random rule's products run long */
      for (; m < M; m++) ids[m] = (int)(((seed = seed * 1103515245u + 12345u) >> 16) % N);
      break;
    default: /* the population itself, each model once, in no order */
      for (int i = 0; i < N; i++) ids[m++] = (i * 7) % N;
    }
    PetscCall(oracle_differs(&res, ids, m, label, score, fr, nfr, &differ, &calls));
  }
  CHECK(calls == 7L * (E - 1) * nfr * 3);
  CHECK(differ == 0);
  PetscFunctionReturn(0);
}

static void interpolation(void)
{
  /* points out of order, two at x = 0.3 (mean 0.3) */
  const double x[5] = {0.3, 0.1, 0.5, 0.3, NAN}, y[5] = {0.2, 0.0, 0.1, 0.4, 1.0};
  CHECK_CLOSE(cdn_early_interpolate(x, y, 5, 0.2), 0.15, 1e-12);
  CHECK_CLOSE(cdn_early_interpolate(x, y, 5, 0.3), 0.3, 1e-12);
  CHECK_CLOSE(cdn_early_interpolate(x, y, 5, 0.05 * 6), 0.3, 1e-12); /* 0.30000000000000004 */
  CHECK_CLOSE(cdn_early_interpolate(x, y, 5, 0.4), 0.2, 1e-12);
  CHECK_CLOSE(cdn_early_interpolate(x, y, 5, 0.1), 0.0, 1e-12);
  CHECK_CLOSE(cdn_early_interpolate(x, y, 5, 0.5), 0.1, 1e-12);
  CHECK(isnan(cdn_early_interpolate(x, y, 5, 0.05))); /* no extrapolation */
  CHECK(isnan(cdn_early_interpolate(x, y, 5, 0.55)));
}

int main(int argc, char **argv)
{
  PetscCall(cdn_initialize(&argc, &argv, NULL));
  PetscCall(hand_case());
  PetscCall(planted());
  PetscCall(against_oracle());
  PetscCall(oracle_edges());
  interpolation();
  PetscCall(cdn_finalize());
  return CHECK_STATUS();
}
