/* Early-stopping simulation: the three stopping rules on a hand-made population (epochs saved and
   regret computed by hand), a planted population where a perfect predictor and halving on a
   validation accuracy equal to the label lose nothing at any fraction while random stopping does,
   and the equal-compute interpolation on a hand-computed case. */
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
  interpolation();
  PetscCall(cdn_finalize());
  return CHECK_STATUS();
}
