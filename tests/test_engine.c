/* The oneDNN engine against the im2col reference kernels (cfg.reference), one network per family
   with the same weights and batch: logits, every parameter gradient and the BatchNorm running
   statistics agree to 1e-4 of their scale, for a full training batch, a partial one (padded inside
   the engine), and an evaluation batch larger than the training batch; dropout masks match. The
   wide networks run Winograd convolutions, which must meet the same bound. Also which layers
   the engine fuses (layer.h, fused): a lost fusion changes no result beyond rounding, only speed. */
#include <stdlib.h>
#include "check.h"
#include "cnndyn/nn.h"
#include "../src/nn/net.h"

/* Layer `a` of arch's network (width 1, Fashion-MNIST's shape) runs as one with layer `b`
   ("" for none). */
static void fused(const char *arch, const char *a, const char *b)
{
  cdn_train_config_t cfg = {.init_scale = 1, .batch_size = 8};
  cdn_net_t         *net = NULL;
  int                ia = -1, ib = -1, got;
  CHECK(cdn_net_create(arch, 1, 28, 28, 10, &cfg, &net) == 0);
  if (!net) return;
  for (int i = 0; i < net->nl; i++) {
    if (!strcmp(net->desc.layer[i].name, a)) ia = i;
    if (!strcmp(net->desc.layer[i].name, b)) ib = i;
  }
  got = ia >= 0 ? net->layer[ia].fused : -2;
  printf("%-7s %-18s fused with %s\n", arch, a, got >= 0 ? net->desc.layer[got].name : "nothing");
  if (ia < 0 || got != ib) {
    fprintf(stderr, "%s: %s fused with %d, not %s\n", arch, a, got, b[0] ? b : "nothing");
    check_failures++;
  }
  cdn_net_destroy(&net);
}

static double max_abs(const float *a, int n)
{
  double m = 0;
  for (int i = 0; i < n; i++) m = fmax(m, fabs(a[i]));
  return m;
}

static void agree(const char *arch, const char *what, int n_items, const float *a, const float *b, int n)
{
  double worst = 0, scale = fmax(max_abs(b, n), 1e-6);
  for (int i = 0; i < n; i++) worst = fmax(worst, fabs((double)a[i] - b[i]));
  printf("%-8s n %3d %-12s %6d values, worst difference %.2g x their scale\n", arch, n_items, what, n, worst / scale);
  if (!(worst <= 1e-4 * scale)) {
    fprintf(stderr, "%s n %d: %s differ by %g (scale %g)\n", arch, n_items, what, worst, scale);
    check_failures++;
  }
}

static void family(const char *arch, int C, int H, double width, double dropout, int direct_conv)
{
  enum { BATCH = 8, EVAL_N = 20 };
  cdn_train_config_t cfg = {.lr = 0.05, .momentum = 0.9, .init_scale = 1, .batch_size = BATCH, .width = width,
                            .dropout = dropout, .direct_conv = direct_conv};
  cdn_net_t         *net[2] = {NULL, NULL};
  cdn_rng_t          rng;
  float             *x = malloc(sizeof(float) * EVAL_N * C * H * H), *p[2], *g[2], *s[2];
  int                y[EVAL_N], np, ns;

  cdn_rng_seed(&rng, 3, 4);
  for (int i = 0; i < EVAL_N * C * H * H; i++) x[i] = (float)cdn_rng_normal(&rng);
  for (int i = 0; i < EVAL_N; i++) y[i] = i % 10;
  for (int k = 0; k < 2; k++) {
    cfg.reference = k;
    CHECK(cdn_net_create(arch, C, H, H, 10, &cfg, &net[k]) == 0);
    if (!net[k]) goto done;
    cdn_net_params(net[k], &p[k], &g[k], NULL, &np);
    cdn_net_stats(net[k], &s[k], &ns);
  }
  cdn_rng_seed(&rng, 5, 6);
  cdn_net_init(net[0], &rng);
  memcpy(p[1], p[0], sizeof(float) * np);
  for (int t = 0; t < 3; t++) {
    int    n = t == 0 ? BATCH : t == 1 ? 5 : EVAL_N, train = t < 2;
    float *logits[2];
    for (int k = 0; k < 2; k++) {
      cdn_rng_t r;
      cdn_rng_seed(&r, 7, t);
      cdn_net_forward_backward(net[k], x, y, n, train, PETSC_TRUE, &r, NULL);
      logits[k] = (float *)cdn_net_logits(net[k]);
    }
    agree(arch, "logits", n, logits[0], logits[1], n * 10);
    agree(arch, "gradients", n, g[0], g[1], np);
    if (ns) agree(arch, "bn stats", n, s[0], s[1], ns);
  }
done:
  cdn_net_destroy(&net[0]);
  cdn_net_destroy(&net[1]);
  free(x);
}

int main(int argc, char **argv)
{
  if (cdn_initialize(&argc, &argv, NULL)) return 1;
  fused("lenet5", "conv1", "relu1"); /* the conv's post-op (conv_small.c's kernels here) */
  fused("lenet5", "relu1", "pool1"); /* the tiling max-pool runs the ReLU's backward */
  fused("lenet5", "conv2", "relu2");
  fused("lenet5", "relu2", "pool2");
  fused("lenet5", "pool2", "");
  fused("lenet5", "fc1", ""); /* the head after the flatten: no fusions */
  fused("resnet", "bn1", "relu");
  fused("resnet", "layer1.0.bn1", "layer1.0.relu1");
  fused("resnet", "layer1.0.bn2", "layer1.0.add"); /* the add normalises for it */
  fused("resnet", "layer1.0.add", "layer1.0.relu2");
  fused("resnet", "layer2.0.downsample.1", ""); /* the add's second input */
  fused("resnet", "layer1.0.conv1", ""); /* read by a BatchNorm */
  family("lenet5", 1, 28, 1, 0.3, 0);
  family("lenet5", 3, 32, 1, 0, 0);
  /* odd sizes: each max-pool leaves a row and a column no window covers (27 -> 13, 9 -> 4), on the
     engine's fused max-pool + ReLU backward */
  family("lenet5", 1, 27, 1, 0, 0);
  family("alexnet", 3, 32, 0.125, 0.5, 0);
  family("vgg", 1, 28, 0.25, 0, 0);
  /* 32 and 64 channels: Winograd convolutions with the bias and fused ReLU (conv.c, wino_fits), and
     the same net with `convolution = direct` */
  family("vgg", 1, 28, 1, 0, 0);
  family("vgg", 1, 28, 1, 0, 1);
  family("resnet", 3, 32, 0.5, 0, 0);
  /* 80, 160 and 320 channels: the fused BatchNorm + ReLU backward walks a row in chunks of 256
     channels (batchnorm.c), here with a partial one */
  family("resnet", 1, 12, 5, 0, 0);
  cdn_finalize();
  return CHECK_STATUS();
}
