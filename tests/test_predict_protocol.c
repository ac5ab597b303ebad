/* The comparison protocol of issue 16: the majority learner is a floor (ties, tau 0, accuracy =
   the majority rate), class cuts come from each fold's training side, and fitted learners on
   pure noise are not pushed below zero by the way their out-of-fold predictions are scored. */
#include "check.h"
#include "cnndyn/predict.h"
#include "cnndyn/util.h"
#include "../src/predict/predict_impl.h"

static cdn_predict_problem_t problem(int n, const double *y, const int *group)
{
  return (cdn_predict_problem_t){.n = n, .y = y, .group = group, .folds = 5, .seed = 3, .ridge_lambda = 1,
                                 .logistic_c = 1, .inner_folds = 3};
}

/* Small populations of distinct labels, features pure noise. Cut on all labels, a test fold above
   the median leaves a training side below it, so the training side's majority class was the test
   fold's minority: accuracy 0.29 against a rate of 0.50 in the audit, and the training mean
   as prediction ranked folds backwards (tau -0.3). */
static PetscErrorCode test_majority_floor(void)
{
  enum { N = 30, D = 2, SEEDS = 40 };
  double        X[N * D], y[N], pred[N], acc = 0, rate = 0;
  int           cls[N], fc[N], group[N];
  cdn_metrics_t m;
  cdn_rng_t     r;

  PetscFunctionBeginUser;
  for (int s = 0; s < SEEDS; s++) {
    cdn_rng_seed(&r, 100 + s, 0);
    for (int i = 0; i < N; i++) y[i] = cdn_rng_uniform(&r), group[i] = i / 2, X[i * D] = X[i * D + 1] = 0;
    cdn_predict_problem_t pb = problem(N, y, group);
    pb.seed = 7 + s, pb.fold_class = fc;
    PetscCall(cdn_predict_cv(&pb, CDN_LEARNER_MAJORITY, D, X, pred, cls, &m));
    CHECK(m.tau == 0 && m.tau_fold == 0 && m.spearman == 0); /* ties order nothing: 0, not -0.3 */
    CHECK_CLOSE(m.auc, 0.5, 1e-12);
    CHECK_CLOSE(m.accuracy, m.majority, 1e-12); /* the floor is what the majority learner scores */
    acc += m.accuracy / SEEDS, rate += m.majority / SEEDS;
    /* every model's true class: its label against the median of the labels it was not among */
    int fold[N];
    cdn_folds_grouped(N, group, pb.folds, pb.seed, fold);
    for (int i = 0; i < N; i++) {
      double v[N], med;
      int    nt = 0;
      for (int j = 0; j < N; j++)
        if (fold[j] != fold[i]) v[nt++] = y[j];
      cdn_sort_doubles(v, nt);
      med = cdn_quantile_sorted(v, nt, 0.5);
      CHECK(fc[i] == (y[i] > med));
    }
  }
  /* no longer anti-correlated: about half the test models sit on the training side's majority */
  CHECK(acc > 0.42 && acc < 0.58);
  PetscFunctionReturn(0);
}

/* Noise-only features through a fitted learner: within-fold tau centres on 0. */
static PetscErrorCode test_noise_within_fold(void)
{
  enum { N = 30, D = 3, SEEDS = 30 };
  double        X[N * D], y[N], pred[N], tf = 0;
  int           cls[N], group[N];
  cdn_metrics_t m;
  cdn_rng_t     r;

  PetscFunctionBeginUser;
  for (int s = 0; s < SEEDS; s++) {
    cdn_rng_seed(&r, 300 + s, 0);
    for (int i = 0; i < N; i++) {
      y[i] = cdn_rng_uniform(&r), group[i] = i / 2;
      for (int j = 0; j < D; j++) X[i * D + j] = cdn_rng_normal(&r);
    }
    cdn_predict_problem_t pb = problem(N, y, group);
    pb.seed                  = 11 + s;
    PetscCall(cdn_predict_cv(&pb, CDN_LEARNER_LINEAR, D, X, pred, cls, &m));
    tf += m.tau_fold / SEEDS;
  }
  CHECK(fabs(tf) < 0.08);
  PetscFunctionReturn(0);
}

/* Coverage of the headlines' bootstrap interval (issue 16's audit): populations of G
   configurations with R replicates each, a configuration's (u, v) bivariate normal with correlation
   rho, a model's label u + noise and ranking score v + noise (sd e each), 5 grouped folds and 3
   repeats as a job's defaults. Two models of different configurations are concordant with
   probability given by tau_c = 2/pi asin(rho / (1 + e^2)); replicate pairs have tau 0. So the
   expected within-fold tau of a population is known exactly from its folds: the mean over repeats
   and folds of tau_c times the fold's share of cross-configuration pairs. The 95% interval must
   hold it in about 95% of SIMS populations (binomial sd 1.1% at SIMS = 400; we require 92-98%). */
static PetscErrorCode coverage(int G, int R, double rho, double e, double *cov, double *width, double *ratio, double *low)
{
  enum { SIMS = 400, NQ = 3, K = 5 };
  int        n = G * R, *cfg, *fold, k;
  double    *y, *r, tc = 2 / M_PI * asin(rho / (1 + e * e)), hit = 0, wsum = 0, dev2 = 0, below = 0;
  cdn_rng_t  rng;

  PetscFunctionBeginUser;
  PetscCall(PetscMalloc4(n, &cfg, NQ * n, &fold, n, &y, NQ * n, &r));
  for (int s = 0; s < SIMS; s++) {
    double truth = 0, tau, ci[2];
    cdn_rng_seed(&rng, 900 + s, (uint64_t)G);
    for (int c = 0; c < G; c++) {
      double u = cdn_rng_normal(&rng), v = rho * u + sqrt(1 - rho * rho) * cdn_rng_normal(&rng);
      for (int j = 0; j < R; j++) {
        int i = c * R + j;
        cfg[i] = c, y[i] = u + e * cdn_rng_normal(&rng), r[i] = v + e * cdn_rng_normal(&rng);
      }
    }
    for (int q = 0; q < NQ; q++) {
      PetscCall(cdn_folds_grouped_ex(n, cfg, K, cdn_repeat_seed(77 + s, q), fold + q * n, &k));
      PetscCall(PetscArraycpy(r + q * n, r, n));
      for (int g = 0; g < k; g++) {
        double m = 0;
        for (int i = 0; i < n; i++) m += fold[q * n + i] == g;
        double all = m * (m - 1) / 2, within = (m / R) * R * (R - 1) / 2.0;
        truth += tc * (all - within) / all / k / NQ;
      }
    }
    PetscCall(cdn_bootstrap_tau_within(5 + s, n, cfg, NQ, fold, k, r, y, &tau, ci));
    dev2 += (tau - truth) * (tau - truth);
    hit += ci[0] <= truth && truth <= ci[1], wsum += ci[1] - ci[0], below += truth < ci[0];
  }
  *cov = hit / SIMS, *width = wsum / SIMS;
  *ratio = *width / 3.92 / sqrt(dev2 / SIMS), *low = below / SIMS;
  PetscCall(PetscFree4(cfg, fold, y, r));
  PetscFunctionReturn(0);
}

static PetscErrorCode test_bootstrap_coverage(void)
{
  /* the quickstart's shape (16 configurations x 2 seeds) at a moderate and at a high tau (its best
     baseline had 0.79), the planted test's (30 x 1) and the study's (80 x 2) */
  const struct { int G, R; double rho, e; } pop[] = {
    {16, 2, 0.7, 0.3}, {16, 2, 0.97, 0.1}, {16, 1, 0.3, 0}, {30, 1, 0.5, 0}, {80, 2, 0.6, 0.3}};
  PetscFunctionBeginUser;
  for (size_t p = 0; p < sizeof pop / sizeof *pop; p++) {
    double cov = 0, width = 0, ratio = 0, low = 0;
    PetscCall(coverage(pop[p].G, pop[p].R, pop[p].rho, pop[p].e, &cov, &width, &ratio, &low));
    printf("bootstrap: %d configurations x %d, rho %.2f: coverage %.3f (truth below / above the interval %.3f / %.3f), "
           "width %.3f = %.2f x 3.92 rms error\n", pop[p].G, pop[p].R, pop[p].rho, cov, low, 1 - cov - low, width, ratio);
    /* at least 95% less three binomial sds (SIMS = 400); an interval that misses on one side only
       is skewed: the misses must not all be on one side */
    CHECK(cov >= 0.917 && cov <= 0.995);
    CHECK(low <= 0.04 && 1 - cov - low <= 0.04);
  }
  PetscFunctionReturn(0);
}

/* The pair loop the headlines used before wtau.c: the definition cdn_weighted_tau must equal. */
static double pair_loop_tau(const int *idx, int m, const double *a, const double *b, const double *w, const int *grp,
                            double rep, double *tbw)
{
  double s = 0, ta = 0, tb = 0;
  for (int x = 0; x < m; x++) {
    int i = idx[x];
    if (!w[i] || !isfinite(a[i]) || !isfinite(b[i])) continue;
    for (int z = x + 1; z < m; z++) {
      int j = idx[z];
      if (!w[j] || !isfinite(a[j]) || !isfinite(b[j])) continue;
      double ww = grp[i] == grp[j] ? rep * w[i] : w[i] * w[j];
      int    da = (a[i] > a[j]) - (a[i] < a[j]), db = (b[i] > b[j]) - (b[i] < b[j]);
      s += ww * da * db, ta += ww * (da != 0), tb += ww * (db != 0);
    }
  }
  *tbw = tb;
  if (!(tb > 0)) return NAN;
  return ta > 0 ? s / sqrt(ta * tb) : 0;
}

/* cdn_weighted_tau (O(m log m)) against the pair loop, on folds with ties in both variables,
   replicate groups sharing a resample weight, zero weights, NaN, constant sides, rep of 1 and not. */
static PetscErrorCode test_weighted_tau(void)
{
  enum { N = 600 };
  static double  a[N], b[N], w[N];
  static int     grp[N];
  cdn_tau_work_t *tw = NULL;
  cdn_rng_t      rng;
  int            bad = 0, cases = 0;

  PetscFunctionBeginUser;
  PetscCall(cdn_tau_work_create(N, &tw));
  cdn_rng_seed(&rng, 2026, 12);
  for (int c = 0; c < 400; c++) {
    int    m = 1 + (int)cdn_rng_below(&rng, c < 200 ? 12 : N), R = 1 + (int)cdn_rng_below(&rng, 3);
    int    levels = 2 + (int)cdn_rng_below(&rng, 20), kind = c % 5;
    double rep = c % 2 ? 1 : 1 - 1.0 / (1 + m / R), t1, t2, tb1, tb2;
    for (int i = 0; i < m; i++) {
      grp[i] = i / R;
      a[i]   = (double)cdn_rng_below(&rng, (uint64_t)levels); /* ties */
      b[i]   = kind == 1 ? 0.5 : cdn_rng_uniform(&rng) < 0.3 ? 0.25 : cdn_rng_uniform(&rng);
      if (kind == 2) a[i] = 1;                                /* a constant */
      if (kind == 3 && cdn_rng_uniform(&rng) < 0.1) b[i] = NAN;
      w[i] = i % R ? w[i - 1] : (double)cdn_rng_below(&rng, 4); /* one weight per configuration, 0 included */
      tw->idx[i] = m - 1 - i; /* any order */
    }
    t1 = cdn_weighted_tau(tw, m, a, b, w, grp, rep, &tb1);
    t2 = pair_loop_tau(tw->idx, m, a, b, w, grp, rep, &tb2);
    cases++;
    if (!(isnan(t1) && isnan(t2)) && !(fabs(t1 - t2) <= 1e-12 && fabs(tb1 - tb2) <= 1e-9 * (1 + fabs(tb2)))) {
      if (bad++ < 5) printf("weighted tau case %d (m %d): %.17g vs pair loop %.17g, tb %.17g vs %.17g\n", c, m, t1, t2, tb1, tb2);
    }
  }
  CHECK(bad == 0 && cases == 400);
  PetscCall(cdn_tau_work_destroy(&tw));
  PetscFunctionReturn(0);
}

int main(int argc, char **argv)
{
  PetscCall(cdn_initialize(&argc, &argv, NULL));
  PetscCall(test_weighted_tau());
  PetscCall(test_majority_floor());
  PetscCall(test_noise_within_fold());
  PetscCall(test_bootstrap_coverage());
  PetscCall(cdn_finalize());
  return CHECK_STATUS();
}
