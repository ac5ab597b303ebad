/* Every architecture family: the layer stacks fit 1x28x28 and 3x32x32 input with the documented
   names, shapes and residual wiring; every parameter tensor's gradient from the engine matches a
   directional finite difference of a double-precision pass through the whole network (BatchNorm in
   training mode, residual blocks with identity and projection shortcuts, dropout); a few SGD steps
   fit one batch; width and depth change the stack as documented; bad depths are refused. */
#include <stdlib.h>
#include "check.h"
#include "cnndyn/nn.h"
#include "forward64.h"

static cdn_rng_t rng;

typedef struct {
  cdn_net_t         *net;
  float             *x;
  int                y[4], n;
  f64_params_t       p; /* double copies of the parameters, perturbed by directional() */
} ctx_t;

static double loss64(ctx_t *c)
{
  cdn_rng_t r;
  cdn_rng_seed(&r, 9, 9); /* the dropout masks of the engine's pass */
  return f64_loss(cdn_net_desc(c->net), &c->p, c->x, c->y, c->n, 1, &r);
}

/* g.v (the engine's float32 gradient along a random direction v) against a central difference of
   the double-precision loss (forward64.h says why double). The bound is the float32 gradient's
   rounding: 5e-6 of the sum of |g_k v_k| (about 40 float32 ulps of the terms), floor 2e-7;
   measured errors reach 1e-6 of that sum (conv biases and BatchNorm weights, whose gradients sum
   over the whole batch) on the families, seeds and instruction sets tried, a margin of about 5. A gradient 2% off in one tensor fails it (an outside review
   planted that bug: a bound that grew with depth, 1e-6 per layer, let it through). A step that straddles a ReLU or max-pool kink shows
   as central differences at two steps (1e-7, 2e-8) that disagree; then another direction is
   tried, so the comparison is always made where the loss is smooth. */
static void directional(ctx_t *c, const char *what, double *w, const float *g, int n)
{
  double *v = malloc(sizeof(double) * n), *keep = malloc(sizeof(double) * n);
  double  ana = 0, mag = 0, num = NAN, tol = 0;
  int     smooth = 0;
  memcpy(keep, w, sizeof(double) * n);
  for (int tries = 0; tries < 5 && !smooth; tries++) {
    ana = mag = 0;
    for (int k = 0; k < n; k++) v[k] = cdn_rng_normal(&rng);
    for (int k = 0; k < n; k++) ana += g[k] * v[k], mag += fabs(g[k] * v[k]);
    tol = 5e-6 * mag + 2e-7;
    double at[2];
    for (int e = 0; e < 2; e++) {
      double eps = e ? 2e-8 : 1e-7, lp, lm;
      for (int k = 0; k < n; k++) w[k] = keep[k] + eps * v[k];
      lp = loss64(c);
      for (int k = 0; k < n; k++) w[k] = keep[k] - eps * v[k];
      lm    = loss64(c);
      at[e] = (lp - lm) / (2 * eps);
    }
    num    = at[0];
    smooth = fabs(at[0] - at[1]) <= tol / 4;
    if (getenv("CDN_TEST_VERBOSE") && !smooth) printf("%s: steps disagree %.3g vs %.3g (tol %.2g)\n", what, at[0], at[1], tol);
  }
  memcpy(w, keep, sizeof(double) * n);
  if (getenv("CDN_TEST_VERBOSE"))
    printf("%-36s analytic %+.9f numeric %+.9f diff %.2e tol %.2e%s\n", what, ana, num, fabs(ana - num), tol,
           smooth ? "" : " (kinks)");
  if (!smooth || !(fabs(ana - num) <= tol)) {
    fprintf(stderr, "%s directional: analytic %.9g, numeric %.9g (double), allowed %.2g%s\n", what, ana, num, tol,
            smooth ? "" : "; no kink-free step found");
    check_failures++;
  }
  free(v);
  free(keep);
}

static cdn_net_t *make(const char *arch, int C, int H, double width, int depth, double dropout)
{
  cdn_train_config_t cfg = {.lr = 0.05, .momentum = 0.9, .dropout = dropout, .init_scale = 1, .batch_size = 4,
                            .width = width, .depth = depth};
  cdn_net_t         *net = NULL;
  if (cdn_net_create(arch, C, H, H, 10, &cfg, &net)) return NULL;
  cdn_net_init(net, &rng);
  return net;
}

static void grad_check(const char *arch, double width, int depth, double dropout)
{
  ctx_t  c = {.y = {1, 7, 3, 0}, .n = 4};
  float *w, *g;
  int    n;
  double l32;
  c.net = make(arch, 3, 32, width, depth, dropout);
  CHECK(c.net != NULL);
  if (!c.net) return;
  c.x = malloc(sizeof(float) * 4 * 3 * 32 * 32);
  for (int i = 0; i < 4 * 3 * 32 * 32; i++) c.x[i] = (float)cdn_rng_normal(&rng);
  cdn_net_params(c.net, &w, &g, NULL, &n);
  {
    cdn_rng_t r;
    cdn_rng_seed(&r, 9, 9);
    l32 = cdn_net_forward_backward(c.net, c.x, c.y, 4, PETSC_TRUE, PETSC_TRUE, &r, NULL);
  }
  const cdn_model_desc_t *m = cdn_net_desc(c.net);
  f64_params_from(&c.p, m);
  /* the double pass is the same function as the engine's: losses agree to float32 rounding */
  CHECK_CLOSE(loss64(&c), l32, 1e-5);
  for (int i = 0; i < m->nlayers; i++) {
    const cdn_layer_desc_t *l = &m->layer[i];
    char                    what[64];
    if (!l->weight) continue;
    snprintf(what, sizeof what, "%s %s.weight", arch, l->name);
    directional(&c, what, c.p.w[i], g + (l->weight - w), c.p.nw[i]);
    if (!l->bias) continue;
    snprintf(what, sizeof what, "%s %s.bias", arch, l->name);
    directional(&c, what, c.p.b[i], g + (l->bias - w), c.p.nb[i]);
  }
  f64_params_free(&c.p);
  free(c.x);
  cdn_net_destroy(&c.net);
}

/* 100 steps on one batch of 16 random images with random labels: the network must memorise them. */
static void fits(const char *arch, double width, int depth, double lr)
{
  cdn_net_t *net = make(arch, 1, 28, width, depth, 0);
  float     *x   = malloc(sizeof(float) * 16 * 28 * 28);
  int        y[16];
  double     first, last = 0;
  for (int i = 0; i < 16 * 28 * 28; i++) x[i] = (float)cdn_rng_normal(&rng);
  for (int i = 0; i < 16; i++) y[i] = i % 10;
  first = cdn_net_forward_backward(net, x, y, 16, PETSC_TRUE, PETSC_TRUE, NULL, NULL);
  for (int s = 0; s < 100; s++) {
    cdn_net_step(net, lr);
    last = cdn_net_forward_backward(net, x, y, 16, PETSC_TRUE, PETSC_TRUE, NULL, NULL);
  }
  printf("%s one-batch loss %.4f -> %.4f\n", arch, first, last);
  /* memorised, not just calmer: well below chance (ln 10) as well as below its start (an AlexNet at
     lr 0.02 stalled at chance and passed the old relative check only when it started high) */
  CHECK(last < 0.3 * first && last < 0.5 * log(10.0));
  free(x);
  cdn_net_destroy(&net);
}

static int find(const cdn_model_desc_t *m, const char *name)
{
  for (int i = 0; i < m->nlayers; i++)
    if (!strcmp(m->layer[i].name, name)) return i;
  return -1;
}

static int count_params(cdn_net_t *net)
{
  int n;
  cdn_net_params(net, NULL, NULL, NULL, &n);
  return n;
}

static void stacks(void)
{
  cdn_net_t              *net;
  const cdn_model_desc_t *m;
  int                     a, b;

  /* ResNet-8 at width 1 (16 channels): PyTorch's parameter count for the same module */
  net = make("resnet", 3, 32, 1, 8, 0);
  CHECK(net && count_params(net) == 78042);
  m = cdn_net_desc(net);
  CHECK(m->nlayers == 31);
  a = find(m, "layer1.0.add"), b = find(m, "layer1.0.bn2");
  CHECK(a > 0 && m->layer[a].src == b && m->layer[a].src2 == find(m, "relu")); /* identity shortcut */
  a = find(m, "layer2.0.add");
  CHECK(a > 0 && m->layer[a].src == find(m, "layer2.0.bn2") && m->layer[a].src2 == find(m, "layer2.0.downsample.1"));
  b = find(m, "layer2.0.downsample.0");
  CHECK(b > 0 && m->layer[b].src == find(m, "layer1.0.relu2") && m->layer[b].kernel == 1 && m->layer[b].stride == 2);
  CHECK(m->layer[b].bias == NULL && m->layer[b].out_h == 16);
  b = find(m, "layer3.0.bn1");
  CHECK(b > 0 && m->layer[b].op == CDN_OP_BATCHNORM && m->layer[b].running_mean && m->layer[b].running_var &&
        m->layer[b].eps == 1e-5f && m->layer[b].bias == m->layer[b].weight + 64 && m->layer[b].running_var[0] == 1);
  b = find(m, "avgpool");
  CHECK(b > 0 && m->layer[b].in_h == 8 && m->layer[b].out_c == 64 && m->layer[m->nlayers - 1].in_c == 64);
  for (int i = 0; i < m->nlayers; i++)
    for (int j = 0; j < i; j++) CHECK(strcmp(m->layer[i].name, m->layer[j].name)); /* unique names */
  cdn_net_destroy(&net);

  net = make("resnet", 1, 28, 0.5, 20, 0); /* 3 blocks per stage, 8/16/32 channels, 28 -> 14 -> 7 */
  m   = cdn_net_desc(net);
  CHECK(net && find(m, "layer3.2.relu2") > 0 && m->layer[find(m, "avgpool")].in_h == 7 &&
        m->layer[find(m, "conv1")].out_c == 8);
  cdn_net_destroy(&net);

  net = make("vgg", 1, 28, 1, 4, 0.5); /* conv 32, 32, pool, 64, 64, pool, fc 256 */
  m   = cdn_net_desc(net);
  CHECK(net && count_params(net) == (9 * 32 + 32) + (288 * 32 + 32) + (288 * 64 + 64) + (576 * 64 + 64) +
                                      (64 * 49 * 256 + 256) + (256 * 10 + 10));
  CHECK(find(m, "fc1") > 0 && m->layer[find(m, "fc1")].in_c == 64 * 7 * 7 && find(m, "drop2") > 0);
  cdn_net_destroy(&net);

  net = make("alexnet", 3, 32, 0.25, 5, 0.5);
  m   = cdn_net_desc(net);
  CHECK(net && find(m, "conv5") > 0 && find(m, "conv6") < 0 && m->layer[find(m, "conv2")].out_c == 48);
  CHECK(m->layer[find(m, "fc1")].in_c == 64 * 4 * 4 && m->layer[find(m, "pool3")].out_h == 4);
  cdn_net_destroy(&net);
  net = make("alexnet", 1, 28, 0.25, 7, 0);
  CHECK(net && find(cdn_net_desc(net), "conv7") > 0 && cdn_net_desc(net)->layer[find(cdn_net_desc(net), "fc1")].in_c == 64 * 16);
  cdn_net_destroy(&net);

  { /* refused: depths a family cannot build */
    cdn_train_config_t cfg = {.lr = 0.1, .init_scale = 1, .batch_size = 4, .depth = 9};
    CHECK(cdn_net_create("resnet", 3, 32, 32, 10, &cfg, &net) == CDN_ERR_INPUT && !net);
    CHECK(cdn_net_create("vgg", 3, 32, 32, 10, &cfg, &net) == CDN_ERR_INPUT && !net);
    CHECK(cdn_net_create("lenet5", 3, 32, 32, 10, &cfg, &net) == CDN_ERR_INPUT && !net);
    cfg.depth = 4;
    CHECK(cdn_net_create("alexnet", 3, 32, 32, 10, &cfg, &net) == CDN_ERR_INPUT && !net);
  }
}

int main(int argc, char **argv)
{
  if (cdn_initialize(&argc, &argv, NULL)) return 1;
  cdn_rng_seed(&rng, argc > 1 ? strtoull(argv[1], NULL, 10) : 7, 1);
  stacks();
  grad_check("resnet", 0.25, 14, 0);   /* 4/8/16 channels, two blocks per stage */
  grad_check("vgg", 0.125, 4, 0.3);
  grad_check("alexnet", 0.0625, 5, 0.3);
  grad_check("lenet5", 1, 0, 0.3);
  fits("resnet", 0.5, 8, 0.02);
  fits("vgg", 0.25, 4, 0.005);
  fits("alexnet", 0.125, 5, 0.005);
  cdn_finalize();
  return CHECK_STATUS();
}
