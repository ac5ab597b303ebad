/* The accuracy bar: LeNet-5 on the full Fashion-MNIST (60k/10k), lr 0.01, momentum 0.9,
   batch 64, no dropout, 3 epochs must reach test accuracy >= 0.85 (PyTorch: 0.868). Also prints the
   speed, to compare with PyTorch's 5.25 s per epoch on one thread. */
#include <time.h>
#include "check.h"
#include "cnndyn/nn.h"

static double now(void)
{
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + 1e-9 * t.tv_nsec;
}

int main(int argc, char **argv)
{
  cdn_jobspec_t      spec = {0};
  cdn_data_t        *data = NULL;
  cdn_net_t         *net;
  cdn_rng_t          rng;
  cdn_train_config_t cfg = {.lr = 0.01, .momentum = 0.9, .weight_decay = 0, .dropout = 0, .init_scale = 1,
                            .batch_size = 64};
  double             loss, acc = 0, vloss;

  if (cdn_initialize(&argc, &argv, NULL)) return 1;
  snprintf(spec.dataset, sizeof spec.dataset, "fashion-mnist");
  snprintf(spec.source, sizeof spec.source, "test_lenet_accuracy");
  spec.seed = 1;
  if (cdn_data_load(PETSC_COMM_SELF, &spec, &data)) return 1;
  CHECK(data->train.n == 60000 && data->test.n == 10000 && data->val.n == 0);
  if (cdn_net_create("lenet5", 1, 28, 28, 10, &cfg, &net)) return 1;
  cdn_rng_seed(&rng, 1, 0);
  cdn_net_init(net, &rng);
  for (int e = 1; e <= 3; e++) {
    double t0 = now(), dt;
    if (cdn_net_train_epoch(net, data, &data->train, &rng, NULL, &loss)) return 1;
    dt = now() - t0;
    if (cdn_net_evaluate(net, data, &data->test, &vloss, &acc)) return 1;
    printf("epoch %d: train loss %.4f, test loss %.4f, test accuracy %.4f, %.2f s/epoch, %.0f images/s\n", e, loss,
           vloss, acc, dt, data->train.n / dt);
    CHECK(isfinite(loss));
  }
  CHECK(acc >= 0.85);
  cdn_net_destroy(&net);
  CHECK(cdn_data_destroy(&data) == 0);
  cdn_finalize();
  return CHECK_STATUS();
}
