/* cnndyn's half of bench/train/run.sh: trains one network on Fashion-MNIST with the recipe the
   PyTorch half uses (SGD lr 0.01 momentum 0.9, Kaiming init, batch B) and prints one line:
   "cnndyn ARCH images_per_s IPS test_acc ACC mflop_per_image F gflop_s G cpu_images_per_s C" (F counts
   forward and backward multiply-adds as 2 FLOPs: conv and linear layers, no input gradient for the
   first; C divides by the process's CPU time instead of wall time, steadier on a shared machine).
   Usage: bench_train ARCH WIDTH DEPTH BATCH EPOCHS TRAIN_N [SEED]
   TRAIN_N (0: all 60000); SEED (default 1) picks the initial weights and the data order.
   With CDN_BENCH_WINDOW set it also gives, on stderr, the training's start and end on
   CLOCK_MONOTONIC, the clock `perf record -k CLOCK_MONOTONIC` stamps samples with: shares.sh
   profiles that window alone. With CDN_BENCH_PRIMITIVES set, oneDNN prints one line per primitive
   it runs during the training (its verbose mode, on stdout; the evaluation after is left out):
   shares.sh sums them per primitive. */
#include <dnnl.h>
#include <stdlib.h>
#include <time.h>
#include "cnndyn/nn.h"

static double seconds_on(clockid_t clock)
{
  struct timespec t;
  clock_gettime(clock, &t);
  return t.tv_sec + 1e-9 * t.tv_nsec;
}

static double mflop_per_image(const cdn_model_desc_t *m)
{
  double macs = 0;
  for (int i = 0; i < m->nlayers; i++) {
    const cdn_layer_desc_t *d = &m->layer[i];
    double f = d->op == CDN_OP_CONV2D ? (double)cdn_layer_weight_count(d) * d->out_h * d->out_w
             : d->op == CDN_OP_LINEAR ? (double)cdn_layer_weight_count(d) : 0;
    macs += f * (d->src < 0 ? 2 : 3); /* forward, weight gradient, input gradient */
  }
  return 2 * macs / 1e6;
}

int main(int argc, char **argv)
{
  cdn_jobspec_t      spec;
  cdn_data_t        *data = NULL;
  cdn_net_t         *net;
  cdn_rng_t          init, train;
  cdn_train_config_t cfg = {.lr = 0.01, .momentum = 0.9, .init_scale = 1};
  double             loss, acc, seconds = 0, cpu = 0, start;
  int                epochs, seed;
  const int          prims = getenv("CDN_BENCH_PRIMITIVES") != NULL;

  if (cdn_initialize(&argc, &argv, NULL)) return 1;
  if (argc < 7) {
    fprintf(stderr, "usage: bench_train ARCH WIDTH DEPTH BATCH EPOCHS TRAIN_N [SEED]\n");
    return 2;
  }
  cfg.width = atof(argv[2]), cfg.depth = atoi(argv[3]), cfg.batch_size = atoi(argv[4]), epochs = atoi(argv[5]);
  seed = argc > 7 ? atoi(argv[7]) : 1;
  cdn_jobspec_defaults(&spec);
  spec.validation_size = 0, spec.train_size = atoi(argv[6]);
  /* the data loader's messages start with the job file's name: here the arguments are the job */
  snprintf(spec.source, sizeof spec.source, "TRAIN_N %s", argv[6]);
  if (cdn_data_load(PETSC_COMM_WORLD, &spec, &data)) return cdn_error_exit("bench_train");
  if (cdn_net_create(argv[1], 1, 28, 28, 10, &cfg, &net)) return cdn_error_exit("bench_train");
  cdn_rng_seed(&init, seed, 1), cdn_rng_seed(&train, seed, 2);
  cdn_net_init(net, &init);
  if (prims && dnnl_set_verbose(1) != dnnl_success) {
    fprintf(stderr, "bench_train: error: oneDNN refused its verbose mode\n");
    return 1;
  }
  start = seconds_on(CLOCK_MONOTONIC);
  for (int e = 0; e < epochs; e++) {
    double t0 = MPI_Wtime(), c0 = seconds_on(CLOCK_PROCESS_CPUTIME_ID);
    if (cdn_net_train_epoch(net, data, &data->train, &train, NULL, &loss)) return cdn_error_exit("bench_train");
    seconds += MPI_Wtime() - t0, cpu += seconds_on(CLOCK_PROCESS_CPUTIME_ID) - c0;
    fprintf(stderr, "cnndyn epoch %d loss %.4f (%.2f s)\n", e + 1, loss, MPI_Wtime() - t0);
  }
  if (prims) (void)dnnl_set_verbose(0); /* only if turned on here: a user's ONEDNN_VERBOSE stays on */
  if (getenv("CDN_BENCH_WINDOW"))
    fprintf(stderr, "cnndyn training from %.6f to %.6f s (CLOCK_MONOTONIC)\n", start, seconds_on(CLOCK_MONOTONIC));
  if (cdn_net_evaluate(net, data, &data->test, &loss, &acc)) return cdn_error_exit("bench_train");
  {
    double ips = epochs * (double)data->train.n / seconds, mf = mflop_per_image(cdn_net_desc(net));
    printf("cnndyn %s images_per_s %.0f test_acc %.4f mflop_per_image %.3f gflop_s %.1f cpu_images_per_s %.0f\n",
           argv[1], ips, acc, mf, ips * mf / 1e3, epochs * (double)data->train.n / cpu);
  }
  cdn_net_destroy(&net);
  if (cdn_data_destroy(&data)) return cdn_error_exit("bench_train");
  cdn_finalize();
  return 0;
}
