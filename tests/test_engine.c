/* The oneDNN engine against the im2col reference kernels (cfg.reference), one network per family
   with the same weights and batch: logits, every parameter gradient and the BatchNorm running
   statistics agree to 1e-4 of their scale, for a full training batch, a partial one (padded inside
   the engine), and an evaluation batch larger than the training batch; dropout masks match. The
   wide networks run Winograd convolutions, which must meet the same bound. Also which layers
   the engine fuses (layer.h, fused): a lost fusion changes no result beyond rounding, only speed.
   Where a ReLU input or a max-pool window is within rounding of a kink, the reference takes the
   engine's side before its backward pass (give_choices), so every gradient is compared at any
   batch; and each max-pool's backward must route to its own forward's first max, exact ties
   included (pool_routes). */
#include <stdlib.h>
#include "check.h"
#include "cnndyn/nn.h"
#include "../src/nn/net.h"
#include "../src/nn/dnn.h"

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

/* Where element (b, c, h, w) of layer i's output sits in the engine (its blocked layout while the
   engine keeps the layer blocked, else [B][C*H*W]) and in the reference ([C][B][H][W], or the same flat rows). */
static size_t at_engine(const cdn_net_t *e, int i, int b, int c, int h, int w)
{
  const cdn_layer_desc_t *d = &e->desc.layer[i];
  return e->dnn->blocked[i] ? cdn_dnn_at(e, i, b, c, h, w)
                            : (size_t)b * d->out_c * d->out_h * d->out_w + ((size_t)c * d->out_h + h) * d->out_w + w;
}
static size_t at_reference(const cdn_net_t *e, int i, int n, int b, int c, int h, int w)
{
  const cdn_layer_desc_t *d = &e->desc.layer[i];
  return e->dnn->blocked[i] ? (((size_t)c * n + b) * d->out_h + h) * d->out_w + w
                            : (size_t)b * d->out_c * d->out_h * d->out_w + ((size_t)c * d->out_h + h) * d->out_w + w;
}

/* The first max of the engine's values in the window of max-pool layer i at output (b, c, oh,
   ow), padding never winning: *wh, *ww its place in the input; *equal how many later elements of
   the window equal it. */
static float engine_window_max(const cdn_net_t *eng, int i, int b, int c, int oh, int ow, int *wh, int *ww, int *equal)
{
  const cdn_layer_desc_t *d = &eng->desc.layer[i];
  const float            *e = eng->layer[d->src].out;
  float                   m = -INFINITY;
  *wh = *ww = -1, *equal = 0;
  for (int ki = 0; ki < d->kernel; ki++)
    for (int kj = 0; kj < d->kernel; kj++) {
      int   ih = oh * d->stride + ki - d->padding, iw = ow * d->stride + kj - d->padding;
      float v;
      if (ih < 0 || iw < 0 || ih >= d->in_h || iw >= d->in_w) continue;
      v = e[at_engine(eng, d->src, b, c, ih, iw)];
      if (v > m) m = v, *wh = ih, *ww = iw, *equal = 0;
      else *equal += v == m;
    }
  return m;
}

/* A ReLU and a max-pool are not differentiable everywhere: where an input is within rounding of
   0 (ReLU) or of another input of its window (max-pool), the engine and the reference may each
   take another side, two valid gradients that differ by far more than rounding in every layer
   before (AlexNet on AVX-512, one image of a batch of 121: 3.51699 against 3.51698 in a pool3
   window; a ReLU input 4.7e-7 in one and 0 in the other). Between its forward and backward
   passes the reference is given the engine's choices: each ReLU output the engine left at 0 (or
   not) becomes the engine's value, each max-pool window's winner the first max of the engine's
   values. Every one of those outputs must agree with the engine's to 1e-4 of their scale first,
   as everything here, so only rounding-level differences are ever overridden. Prints and returns
   how many choices were changed. */
static int give_choices(const char *arch, const cdn_net_t *eng, cdn_net_t *ref, int n)
{
  int total = 0;
  for (int i = 0; i < ref->nl; i++) {
    const cdn_layer_desc_t *d = &ref->desc.layer[i];
    int                     changed = 0, src = d->src;
    double                  drift = 0, scale = 1e-6;
    if (d->op != CDN_OP_RELU && d->op != CDN_OP_MAXPOOL2D) continue;
    int          L = d->op == CDN_OP_RELU ? i : src; /* the outputs compared: the ReLU's, the pool's input */
    const float *e = eng->layer[L].out;
    float       *r = ref->layer[L].out;
    const cdn_layer_desc_t *dl = &ref->desc.layer[L];
    for (int b = 0; b < n; b++)
      for (int c = 0; c < dl->out_c; c++)
        for (int h = 0; h < dl->out_h; h++)
          for (int w = 0; w < dl->out_w; w++) {
            float ev = e[at_engine(eng, L, b, c, h, w)], *rv = &r[at_reference(eng, L, n, b, c, h, w)];
            drift = fmax(drift, fabs((double)ev - *rv)), scale = fmax(scale, fabs(*rv));
            if (d->op == CDN_OP_RELU && (ev > 0) != (*rv > 0)) *rv = ev, changed++;
          }
    if (!(drift <= 1e-4 * scale)) {
      fprintf(stderr, "%s n %d: the outputs of %s differ by %g (scale %g)\n", arch, n, dl->name, drift, scale);
      check_failures++;
    }
    if (d->op == CDN_OP_MAXPOOL2D) { /* the reference's argmax: input index per output, [C][B][OH][OW] */
      int *arg = ref->layer[i].work;
      for (int b = 0; b < n; b++)
        for (int c = 0; c < d->in_c; c++)
          for (int oh = 0; oh < d->out_h; oh++)
            for (int ow = 0; ow < d->out_w; ow++) {
              int    wh, ww, equal, win;
              size_t o = (((size_t)c * n + b) * d->out_h + oh) * d->out_w + ow;
              engine_window_max(eng, i, b, c, oh, ow, &wh, &ww, &equal);
              win = (int)at_reference(eng, src, n, b, c, wh, ww);
              changed += arg[o] != win;
              arg[o] = win;
            }
    }
    if (changed)
      printf("%-8s n %3d %-12s %d choices at a ReLU's 0 or a max-pool's near-tie taken from the engine (outputs "
             "differ by up to %.2g x scale)\n", arch, n, d->name, changed, drift / scale);
    total += changed;
  }
  return total;
}

/* The engine's max-pool backward gives each window's gradient to the first element equal to the
   max its own forward found (oneDNN's rule and PyTorch's), on every instruction set: checked on the
   engine's own NHWC values, so rounding cannot excuse a difference. Where the pool reads a ReLU
   only positive inputs are compared (the ReLU's backward may already have masked the others); a
   pool that runs its ReLU's backward too (LeNet's and VGG's, cnndyn's own kernels) is checked on
   the ReLU's input gradient, which it writes. */
static void pool_routes(const char *arch, const cdn_net_t *net, int n)
{
  for (int i = 0; i < net->nl; i++) {
    const cdn_layer_desc_t *d = &net->desc.layer[i];
    if (d->op != CDN_OP_MAXPOOL2D) continue;
    int          fused = net->layer[d->src].fused == i;
    const float *in = net->layer[d->src].out, *out = net->layer[i].out, *dout = net->layer[i].dout;
    const float *din = fused ? net->layer[net->desc.layer[d->src].src].dout : net->layer[d->src].dout;
    size_t       nin = (size_t)n * d->in_h * d->in_w * d->in_c;
    float       *want = calloc(nin, sizeof(float));
    double       worst = 0, scale = fmax(max_abs(dout, n * d->out_h * d->out_w * d->out_c), 1e-30);
    int          wrong_max = 0, ties = 0;
    for (int b = 0; b < n; b++)
      for (int oh = 0; oh < d->out_h; oh++)
        for (int ow = 0; ow < d->out_w; ow++)
          for (int c = 0; c < d->in_c; c++) {
            size_t o = at_engine(net, i, b, c, oh, ow);
            int    wh, ww, equal;
            float  m  = engine_window_max(net, i, b, c, oh, ow, &wh, &ww, &equal);
            size_t at = at_engine(net, d->src, b, c, wh, ww);
            ties += equal && m > 0;
            wrong_max += m != out[o];
            want[at] += dout[o];
          }
    for (size_t k = 0; k < nin; k++)
      if (in[k] > 0 || net->desc.layer[d->src].op != CDN_OP_RELU) worst = fmax(worst, fabs((double)din[k] - want[k]));
    printf("%-8s n %3d %-12s max-pool backward%s routes to the first max (%d windows with a tied positive max): %d "
           "wrong maxima, worst %.2g x scale\n", arch, n, d->name, fused ? " (and its ReLU's)" : "", ties, wrong_max,
           worst / scale);
    if (wrong_max || !(worst <= 1e-6 * scale)) {
      fprintf(stderr, "%s n %d: %s's backward is not forward's first max (%d wrong maxima, worst %g)\n", arch, n,
              d->name, wrong_max, worst);
      check_failures++;
    }
    free(want);
  }
}

/* No primitive of the net may run oneDNN's reference kernels (dnn.h): results would be right and
   training 80x slower (LeNet's conv1 once was, described as NCHW beside an NHWC output). */
static void fast_kernels(const char *arch, double width, const cdn_net_t *net)
{
  char first[128];
  int  n = cdn_dnn_reference_kernels(net, first, sizeof first);
  if (n) {
    fprintf(stderr, "%s width %g: %d primitives on oneDNN's reference kernels, first %s\n", arch, width, n, first);
    check_failures++;
  }
}

/* The engine's layout for arch at this width: nChw16c exactly when want16 and the CPU has AVX-512
   (dnn.c, use_blocks16; ONEDNN_MAX_CPU_ISA=AVX2 keeps NHWC), so the cases below cover what they
   say they cover. */
static void layout(const char *arch, int C, int H, double width, int direct_conv, int want16)
{
  cdn_train_config_t cfg = {.init_scale = 1, .batch_size = 8, .width = width, .direct_conv = direct_conv};
  cdn_net_t         *net = NULL;
  int                avx512 = (dnnl_get_effective_cpu_isa() & dnnl_cpu_isa_avx512_core) == dnnl_cpu_isa_avx512_core;
  CHECK(cdn_net_create(arch, C, H, H, 10, &cfg, &net) == 0);
  if (!net) return;
  printf("%-7s width %-5g %s: %s\n", arch, width, direct_conv ? "direct" : "      ", net->dnn->blocks16 ? "nChw16c" : "NHWC");
  CHECK(net->dnn->blocks16 == (want16 && avx512));
  fast_kernels(arch, width, net);
  cdn_net_destroy(&net);
}

/* family's batches: training, a partial training batch, evaluation; and how many images of the
   input stream come before the first */
static int g_batch = 8, g_part = 5, g_eval = 20, g_skip = 0;

static void family(const char *arch, int C, int H, double width, double dropout, int direct_conv)
{
  int                BATCH = g_batch, EVAL_N = g_eval;
  cdn_train_config_t cfg = {.lr = 0.05, .momentum = 0.9, .init_scale = 1, .batch_size = BATCH, .width = width,
                            .dropout = dropout, .direct_conv = direct_conv};
  cdn_net_t         *net[2] = {NULL, NULL};
  cdn_rng_t          rng;
  float             *x = malloc(sizeof(float) * EVAL_N * C * H * H), *p[2], *g[2], *s[2];
  int               *y = malloc(sizeof(int) * EVAL_N), np, ns;

  cdn_rng_seed(&rng, 3, 4);
  for (long i = 0; i < (long)g_skip * C * H * H; i++) (void)cdn_rng_normal(&rng);
  for (int i = 0; i < EVAL_N * C * H * H; i++) x[i] = (float)cdn_rng_normal(&rng);
  for (int i = 0; i < EVAL_N; i++) y[i] = i % 10;
  for (int k = 0; k < 2; k++) {
    cfg.reference = k;
    CHECK(cdn_net_create(arch, C, H, H, 10, &cfg, &net[k]) == 0);
    if (!net[k]) goto done;
    if (!k) fast_kernels(arch, width, net[k]);
    cdn_net_params(net[k], &p[k], &g[k], NULL, &np);
    cdn_net_stats(net[k], &s[k], &ns);
  }
  cdn_rng_seed(&rng, 5, 6);
  cdn_net_init(net[0], &rng);
  memcpy(p[1], p[0], sizeof(float) * np);
  for (int t = 0; t < 3; t++) {
    int    n = t == 0 ? BATCH : t == 1 ? g_part : EVAL_N, train = t < 2;
    float *logits[2];
    for (int k = 0; k < 2; k++) {
      cdn_rng_t r;
      cdn_rng_seed(&r, 7, t);
      if (k == 0) cdn_net_forward_backward(net[0], x, y, n, train, PETSC_TRUE, &r, NULL);
      else if (isfinite(cdn_net_reference_forward(net[1], x, y, n, train, PETSC_TRUE, &r, NULL))) {
        give_choices(arch, net[0], net[1], n);
        cdn_net_reference_backward(net[1], x, n);
      }
      logits[k] = (float *)cdn_net_logits(net[k]);
    }
    agree(arch, "logits", n, logits[0], logits[1], n * 10);
    agree(arch, "gradients", n, g[0], g[1], np);
    pool_routes(arch, net[0], n);
    if (ns) agree(arch, "bn stats", n, s[0], s[1], ns);
  }
done:
  cdn_net_destroy(&net[0]);
  cdn_net_destroy(&net[1]);
  free(x);
  free(y);
}

/* Exact ties: half the batch is constant images, so every interior window of a max-pool holds
   equal values and only the first-max rule decides; an evaluation-sized batch as well. The engine
   alone, each pool checked against its own forward (pool_routes). */
static void ties(const char *arch, int C, int H, double width, int B)
{
  cdn_train_config_t cfg = {.lr = 0.05, .momentum = 0.9, .init_scale = 1, .batch_size = B, .width = width};
  cdn_net_t         *net = NULL;
  cdn_rng_t          rng;
  float             *x = malloc(sizeof(float) * B * C * H * H);
  int               *y = malloc(sizeof(int) * B);

  cdn_rng_seed(&rng, 3, 4);
  for (int b = 0; b < B; b++) {
    y[b] = b % 10;
    for (int i = 0; i < C * H * H; i++) x[(size_t)b * C * H * H + i] = b % 2 ? (float)cdn_rng_normal(&rng) : 0.5f;
  }
  CHECK(cdn_net_create(arch, C, H, H, 10, &cfg, &net) == 0);
  if (net) {
    cdn_rng_seed(&rng, 5, 6);
    cdn_net_init(net, &rng);
    cdn_net_forward_backward(net, x, y, B, PETSC_TRUE, PETSC_TRUE, &rng, NULL);
    pool_routes(arch, net, B);
  }
  cdn_net_destroy(&net);
  free(x);
  free(y);
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
  layout("lenet5", 1, 28, 1, 0, 0); /* 6 channels */
  layout("lenet5", 1, 28, 0.5, 0, 0); /* conv1 on oneDNN: 3 outputs do not fit conv_small */
  layout("lenet5", 3, 32, 0.5, 0, 0);
  layout("vgg", 3, 32, 1, 0, 1);
  layout("vgg", 1, 28, 2, 0, 1);
  layout("alexnet", 1, 28, 1, 0, 1);
  layout("resnet", 3, 32, 2, 0, 1);
  layout("vgg", 1, 28, 0.25, 0, 0); /* 8 */
  layout("vgg", 1, 28, 1, 0, 1);    /* 32 and 64, Winograd */
  layout("vgg", 1, 28, 1, 1, 0);    /* no Winograd */
  layout("alexnet", 3, 32, 0.125, 0, 0);
  layout("alexnet", 3, 32, 0.25, 0, 1);
  layout("resnet", 3, 32, 0.5, 0, 0);
  layout("resnet", 1, 28, 1, 0, 1);
  layout("resnet", 3, 16, 1, 0, 1); /* test_torch_ref's resnet16c */
  layout("resnet", 1, 12, 5, 0, 1);
  layout("resnet", 1, 12, 5, 1, 0);
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
  /* nChw16c: the stem on oneDNN's first-layer kernels, BatchNorm on 16-channel runs
     (batchnorm.c), Winograd at 32 and 64 channels */
  family("resnet", 1, 28, 1, 0, 0);
  /* 80, 160 and 320 channels: on nChw16c (first convolution from NCHW); on NHWC (direct) the fused
     BatchNorm + ReLU backward walks a row in chunks of 256 channels, here with a partial one */
  family("resnet", 1, 12, 5, 0, 0);
  family("resnet", 1, 12, 5, 0, 1);
  /* nChw16c with three input channels and oneDNN's padded 3x3/2 max-pools */
  family("alexnet", 3, 32, 0.25, 0.5, 0);
  /* one image whose pool3 holds a near-tie (the review's case: on AVX-512 the engine's winner is
     the reference's runner-up, 1e-6 below); one whose relu2 is 4.7e-7 in the engine and 0 in the
     reference; and the batches of the original report, where no gradient used to be comparable */
  g_batch = g_part = g_eval = 1, g_skip = 120;
  family("alexnet", 3, 32, 0.125, 0, 0);
  g_skip = 74;
  family("alexnet", 3, 32, 0.125, 0, 0);
  g_batch = 121, g_part = 7, g_eval = 256, g_skip = 0;
  family("alexnet", 3, 32, 0.125, 0, 0);
  /* overlapping 3x3/2 max-pools with padding (oneDNN's kernels; not LeNet's own backward) */
  ties("alexnet", 3, 32, 0.125, 128);
  ties("alexnet", 1, 28, 0.25, 256);
  /* 2x2 max-pools that also run their ReLU's backward: cnndyn's own kernels (pool.c) */
  ties("lenet5", 1, 28, 1, 128);
  ties("vgg", 1, 28, 0.25, 64);
  ties("vgg", 1, 28, 1, 64); /* on nChw16c: 16-channel blocks as items (pool.c) */
  cdn_finalize();
  return CHECK_STATUS();
}
