/* cnndyn's half of bench/train/run.sh: trains one network on Fashion-MNIST with the recipe the
   PyTorch half uses (SGD lr 0.01 momentum 0.9, Kaiming init, batch B) and prints one line:
   "cnndyn ARCH images_per_s IPS test_acc ACC". Usage: bench_train ARCH WIDTH DEPTH BATCH EPOCHS
   TRAIN_N (0: all 60000). */
#include <stdlib.h>
#include "cnndyn/nn.h"

int main(int argc, char **argv)
{
  cdn_jobspec_t      spec;
  cdn_data_t         data;
  cdn_net_t         *net;
  cdn_rng_t          init, train;
  cdn_train_config_t cfg = {.lr = 0.01, .momentum = 0.9, .init_scale = 1};
  double             loss, acc, seconds = 0;
  int                epochs;

  if (cdn_initialize(&argc, &argv, NULL)) return 1;
  if (argc < 7) {
    fprintf(stderr, "usage: bench_train ARCH WIDTH DEPTH BATCH EPOCHS TRAIN_N\n");
    return 2;
  }
  cfg.width = atof(argv[2]), cfg.depth = atoi(argv[3]), cfg.batch_size = atoi(argv[4]), epochs = atoi(argv[5]);
  cdn_jobspec_defaults(&spec);
  spec.validation_size = 0, spec.train_size = atoi(argv[6]);
  if (cdn_data_load(PETSC_COMM_WORLD, &spec, &data)) return 1;
  if (cdn_net_create(argv[1], 1, 28, 28, 10, &cfg, &net)) return 1;
  cdn_rng_seed(&init, 1, 1), cdn_rng_seed(&train, 1, 2);
  cdn_net_init(net, &init);
  for (int e = 0; e < epochs; e++) {
    double t0 = MPI_Wtime();
    if (cdn_net_train_epoch(net, &data, &data.train, &train, &loss)) return 1;
    seconds += MPI_Wtime() - t0;
    fprintf(stderr, "cnndyn epoch %d loss %.4f (%.2f s)\n", e + 1, loss, MPI_Wtime() - t0);
  }
  if (cdn_net_evaluate(net, &data, &data.test, &loss, &acc)) return 1;
  printf("cnndyn %s images_per_s %.0f test_acc %.4f\n", argv[1], epochs * (double)data.train.n / seconds, acc);
  cdn_net_destroy(&net);
  cdn_data_free(&data);
  cdn_finalize();
  return 0;
}
