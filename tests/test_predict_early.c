/* Early-stopping simulation on a hand-made population: prune by a prediction against successive
   halving on validation accuracy, epochs saved and regret computed by hand. */
#include "check.h"
#include "cnndyn/evaluate.h"
#include "cnndyn/util.h"

int main(int argc, char **argv)
{
  enum { N = 4, E = 4 };
  double           curves[N * (E + 1) * CDN_CURVE_COLS], label[N] = {0.9, 0.5, 0.8, 0.6}, pred[N] = {0.1, 0.9, 0.8, 0.2};
  double           acc1[N] = {0.7, 0.2, 0.6, 0.3}, acc2[N] = {0.8, 0.1, 0.75, 0.2};
  int              done[N] = {E, E, E, E};
  cdn_status_t     status[N] = {CDN_STATUS_OK, CDN_STATUS_OK, CDN_STATUS_OK, CDN_STATUS_OK};
  cdn_results_t    res = {.nmodels = N, .epochs = E, .curves = curves, .epochs_done = done, .status = status};
  cdn_early_stop_t es;

  PetscCall(cdn_initialize(&argc, &argv, NULL));
  for (int i = 0; i < N * (E + 1) * CDN_CURVE_COLS; i++) curves[i] = 0.5;
  for (int m = 0; m < N; m++) {
    cdn_results_curve(&res, m, 1)[CDN_CURVE_VAL_ACC] = acc1[m];
    cdn_results_curve(&res, m, 2)[CDN_CURVE_VAL_ACC] = acc2[m];
  }
  cdn_early_stop(&res, label, pred, 1, 0.5, &es);
  /* prune: keep models 1 and 2 (best predicted); 4 x 1 + 2 x 3 = 10 of 16 epochs; best kept 0.8 */
  CHECK_CLOSE(es.epochs_saved_prune, 1 - 10.0 / 16, 1e-12);
  CHECK_CLOSE(es.regret_prune, 0.1, 1e-12);
  /* halving: 4 x 1, keep 0 and 2; 2 x 1 more, keep 0; 1 x 2 more = 8 of 16; model 0 is the best */
  CHECK_CLOSE(es.epochs_saved_halving, 0.5, 1e-12);
  CHECK_CLOSE(es.regret_halving, 0.0, 1e-12);
  /* a budget at the end of training leaves nothing to save: undefined */
  cdn_early_stop(&res, label, pred, E, 0.5, &es);
  CHECK(isnan(es.epochs_saved_prune) && isnan(es.regret_halving));
  PetscCall(cdn_finalize());
  return CHECK_STATUS();
}
