/* Every architecture family: the layer stacks fit 1x28x28 and 3x32x32 input with the documented
   names, shapes and residual wiring; every parameter tensor's gradient matches a directional
   finite difference through the whole network (BatchNorm in training mode, residual blocks with
   identity and projection shortcuts); a few SGD steps fit one batch; width and depth change the
   stack as documented; bad depths are refused. */
#include <stdlib.h>
#include "check.h"
#include "cnndyn/nn.h"

static cdn_rng_t rng;

static double dot(const float *a, const float *b, int n)
{
  double s = 0;
  for (int i = 0; i < n; i++) s += (double)a[i] * b[i];
  return s;
}

typedef struct {
  cdn_net_t *net;
  float     *x;
  int        y[4], n;
} ctx_t;

static double loss_of(ctx_t *c)
{
  cdn_rng_t r;
  cdn_rng_seed(&r, 9, 9); /* the same dropout masks on every call */
  return cdn_net_forward_backward(c->net, c->x, c->y, c->n, PETSC_TRUE, PETSC_FALSE, &r, NULL);
}

/* g.v against (L(w+eps v) - L(w-eps v)) / 2eps, best of three steps, error measured against |g|
   (see test_layers.c for why). */
static void directional(ctx_t *c, const char *what, float *w, const float *g, int n)
{
  float *v = malloc(sizeof(float) * n), *keep = malloc(sizeof(float) * n);
  double ana, best = INFINITY, bestnum = NAN;
  for (int k = 0; k < n; k++) v[k] = (float)cdn_rng_normal(&rng);
  memcpy(keep, w, sizeof(float) * n);
  ana = dot(g, v, n);
  for (double eps = 1e-3; eps > 1e-7; eps /= 10) {
    double lp, lm, num;
    for (int k = 0; k < n; k++) w[k] = keep[k] + (float)(eps * v[k]);
    lp = loss_of(c);
    for (int k = 0; k < n; k++) w[k] = keep[k] - (float)(eps * v[k]);
    lm  = loss_of(c);
    num = (lp - lm) / (2 * eps);
    if (fabs(num - ana) < best) best = fabs(num - ana), bestnum = num;
  }
  memcpy(w, keep, sizeof(float) * n);
  if (!(best <= 3e-2 * fmax(fabs(ana), sqrt(dot(g, g, n))) + 2e-3)) {
    fprintf(stderr, "%s directional: analytic %.6g, closest numeric %.6g\n", what, ana, bestnum);
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
  ctx_t c = {.y = {1, 7, 3, 0}, .n = 4};
  float *w, *g, *gcopy;
  int    n;
  c.net = make(arch, 3, 32, width, depth, dropout);
  CHECK(c.net != NULL);
  if (!c.net) return;
  c.x = malloc(sizeof(float) * 4 * 3 * 32 * 32);
  for (int i = 0; i < 4 * 3 * 32 * 32; i++) c.x[i] = (float)cdn_rng_normal(&rng);
  cdn_net_params(c.net, &w, &g, NULL, &n);
  {
    cdn_rng_t r;
    cdn_rng_seed(&r, 9, 9);
    cdn_net_forward_backward(c.net, c.x, c.y, 4, PETSC_TRUE, PETSC_TRUE, &r, NULL);
  }
  gcopy = malloc(sizeof(float) * n);
  memcpy(gcopy, g, sizeof(float) * n);
  const cdn_model_desc_t *m = cdn_net_desc(c.net);
  for (int i = 0; i < m->nlayers; i++) {
    const cdn_layer_desc_t *l = &m->layer[i];
    char                    what[64];
    int                     nw = l->op == CDN_OP_BATCHNORM ? l->in_c : cdn_layer_weight_count(l);
    if (!l->weight) continue;
    snprintf(what, sizeof what, "%s %s.weight", arch, l->name);
    directional(&c, what, l->weight, gcopy + (l->weight - w), nw);
    if (!l->bias) continue;
    snprintf(what, sizeof what, "%s %s.bias", arch, l->name);
    directional(&c, what, l->bias, gcopy + (l->bias - w), l->out_c);
  }
  free(gcopy);
  free(c.x);
  cdn_net_destroy(&c.net);
}

/* A few steps on one batch of 16 random images with random labels: the loss must fall a lot. */
static void fits(const char *arch, double width, int depth)
{
  cdn_net_t *net = make(arch, 1, 28, width, depth, 0);
  float     *x   = malloc(sizeof(float) * 16 * 28 * 28);
  int        y[16];
  double     first, last = 0;
  for (int i = 0; i < 16 * 28 * 28; i++) x[i] = (float)cdn_rng_normal(&rng);
  for (int i = 0; i < 16; i++) y[i] = i % 10;
  first = cdn_net_forward_backward(net, x, y, 16, PETSC_TRUE, PETSC_TRUE, NULL, NULL);
  for (int s = 0; s < 60; s++) {
    cdn_net_step(net, 0.02);
    last = cdn_net_forward_backward(net, x, y, 16, PETSC_TRUE, PETSC_TRUE, NULL, NULL);
  }
  printf("%s one-batch loss %.4f -> %.4f\n", arch, first, last);
  CHECK(last < 0.3 * first);
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
  fits("resnet", 0.5, 8);
  fits("vgg", 0.25, 4);
  fits("alexnet", 0.125, 5);
  cdn_finalize();
  return CHECK_STATUS();
}
