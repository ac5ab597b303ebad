/* PyTorch's conventions: init pytorch draws every conv and linear weight and bias from
   U(-1/sqrt(fan_in), 1/sqrt(fan_in)) (bounds, mean and variance of each LeNet-5 layer; BatchNorm
   gamma 1 and beta 0 in a ResNet), and dropout_placement torchvision builds the heads of torchvision's
   AlexNet and VGG (which layers, in which order) while the default keeps cnndyn's. */
#include "check.h"
#include "cnndyn/nn.h"

static cdn_net_t *make(const char *arch, int C, int H, double dropout, cdn_init_t init, cdn_dropout_placement_t place,
                       double scale)
{
  cdn_train_config_t cfg = {.lr = 0.01, .dropout = dropout, .init_scale = scale, .batch_size = 4, .init = init,
                            .dropout_placement = place, .width = 1};
  cdn_net_t         *net = NULL;
  cdn_rng_t          rng;
  if (cdn_net_create(arch, C, H, H, 10, &cfg, &net)) return NULL;
  cdn_rng_seed(&rng, 5, 1);
  cdn_net_init(net, &rng);
  return net;
}

/* n draws of U(-a, a): the mean has standard deviation a/sqrt(3n), the mean square a^2/3 a
   relative one of sqrt(4/5)/sqrt(n) (Var w^2 = a^4 (1/5 - 1/9)); 5 of them is the tolerance. */
static void check_uniform(const char *what, const float *w, int n, double a)
{
  double s = 0, s2 = 0, lo = 0, hi = 0;
  for (int k = 0; k < n; k++) {
    s += w[k], s2 += (double)w[k] * w[k];
    lo = fmin(lo, w[k]), hi = fmax(hi, w[k]);
  }
  printf("%-12s n %6d bound %.5f min %.5f max %.5f mean %+.2e var*3/a^2 %.4f\n", what, n, a, lo, hi, s / n,
         s2 / n * 3 / (a * a));
  CHECK(lo >= -a && hi <= a);
  CHECK(fabs(s / n) <= 5 * a / sqrt(3.0 * n));
  CHECK(fabs(s2 / n / (a * a / 3) - 1) <= 5 * sqrt(0.8 / n));
  if (n >= 1000) CHECK(hi > a * 0.99 && lo < -a * 0.99); /* P(miss) < 0.99^500 per side */
}

static void test_pytorch_init(void)
{
  cdn_net_t              *net = make("lenet5", 1, 28, 0, CDN_INIT_PYTORCH, CDN_DROPOUT_CNNDYN, 1);
  cdn_net_t              *big = make("lenet5", 1, 28, 0, CDN_INIT_PYTORCH, CDN_DROPOUT_CNNDYN, 2);
  const cdn_model_desc_t *m, *mb;
  int                     seen = 0;
  CHECK(net && big);
  if (!net || !big) return;
  m = cdn_net_desc(net), mb = cdn_net_desc(big);
  for (int i = 0; i < m->nlayers; i++) {
    const cdn_layer_desc_t *d = &m->layer[i];
    int                     n = cdn_layer_weight_count(d), fan_in = n ? n / d->out_c : 0;
    char                    what[64];
    if (d->op != CDN_OP_CONV2D && d->op != CDN_OP_LINEAR) continue;
    seen++;
    snprintf(what, sizeof what, "%s.weight", d->name);
    check_uniform(what, d->weight, n, 1 / sqrt((double)fan_in));
    snprintf(what, sizeof what, "%s.bias", d->name);
    check_uniform(what, d->bias, d->out_c, 1 / sqrt((double)fan_in));
    /* init_scale multiplies the weights (the same draws), not the biases */
    for (int k = 0; k < n; k++) CHECK(mb->layer[i].weight[k] == 2 * d->weight[k]);
    for (int k = 0; k < d->out_c; k++) CHECK(mb->layer[i].bias[k] == d->bias[k]);
  }
  CHECK(seen == 5);
  cdn_net_destroy(&net);
  cdn_net_destroy(&big);

  net = make("resnet", 3, 32, 0, CDN_INIT_PYTORCH, CDN_DROPOUT_CNNDYN, 1);
  CHECK(net != NULL);
  if (!net) return;
  m = cdn_net_desc(net), seen = 0;
  for (int i = 0; i < m->nlayers; i++) {
    const cdn_layer_desc_t *d = &m->layer[i];
    if (d->op != CDN_OP_BATCHNORM) continue;
    seen++;
    for (int c = 0; c < d->in_c; c++) CHECK(d->weight[c] == 1 && d->bias[c] == 0);
  }
  CHECK(seen > 0);
  cdn_net_destroy(&net);
}

/* The layer names of a network, space-separated, from the flatten on (the head). */
static void head_of(const char *arch, int C, int H, double dropout, cdn_dropout_placement_t place, char *out, size_t len)
{
  cdn_net_t *net = make(arch, C, H, dropout, CDN_INIT_KAIMING, place, 1);
  int        from = -1;
  out[0]          = 0;
  CHECK(net != NULL);
  if (!net) return;
  const cdn_model_desc_t *m = cdn_net_desc(net);
  for (int i = 0; i < m->nlayers; i++) {
    if (m->layer[i].op == CDN_OP_FLATTEN) from = i;
    if (from >= 0 && i > from) {
      CHECK(m->layer[i].op != CDN_OP_DROPOUT || m->layer[i].p == (float)dropout);
      snprintf(out + strlen(out), len - strlen(out), "%s%s", i > from + 1 ? " " : "", m->layer[i].name);
    }
  }
  cdn_net_destroy(&net);
}

static void test_placement(void)
{
  static const struct {
    const char             *arch;
    int                     C, H;
    double                  p;
    cdn_dropout_placement_t place;
    const char             *head;
  } cases[] = {
    /* cnndyn: a dropout before every linear layer, the classifier's too */
    {"lenet5", 1, 28, 0.5, CDN_DROPOUT_CNNDYN, "drop1 fc1 relu3 drop2 fc2 relu4 drop3 fc3"},
    {"alexnet", 3, 32, 0.5, CDN_DROPOUT_CNNDYN, "drop1 fc1 relu6 drop2 fc2 relu7 drop3 fc3"},
    {"vgg", 1, 28, 0.5, CDN_DROPOUT_CNNDYN, "drop1 fc1 relu5 drop2 fc2"},
    /* torchvision's AlexNet classifier: Dropout Linear ReLU Dropout Linear ReLU Linear (LeNet-5 too) */
    {"lenet5", 1, 28, 0.5, CDN_DROPOUT_TORCHVISION, "drop1 fc1 relu3 drop2 fc2 relu4 fc3"},
    {"alexnet", 3, 32, 0.5, CDN_DROPOUT_TORCHVISION, "drop1 fc1 relu6 drop2 fc2 relu7 fc3"},
    /* torchvision's VGG classifier: Linear ReLU Dropout ... Linear */
    {"vgg", 1, 28, 0.5, CDN_DROPOUT_TORCHVISION, "fc1 relu5 drop2 fc2"},
    /* ResNet keeps its one dropout; no dropout at p = 0 in any placement */
    {"resnet", 3, 32, 0.5, CDN_DROPOUT_TORCHVISION, "drop1 fc"},
    {"lenet5", 1, 28, 0, CDN_DROPOUT_TORCHVISION, "fc1 relu3 fc2 relu4 fc3"},
    {"lenet5", 1, 28, 0, CDN_DROPOUT_CNNDYN, "fc1 relu3 fc2 relu4 fc3"},
  };
  char head[512];
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    head_of(cases[i].arch, cases[i].C, cases[i].H, cases[i].p, cases[i].place, head, sizeof head);
    printf("%-8s p %.1f %-11s %s\n", cases[i].arch, cases[i].p, cases[i].place ? "torchvision" : "cnndyn", head);
    if (strcmp(head, cases[i].head)) {
      fprintf(stderr, "expected \"%s\"\n", cases[i].head);
      CHECK(!"head layers");
    }
  }
}

int main(int argc, char **argv)
{
  if (cdn_initialize(&argc, &argv, NULL)) return 1;
  test_pytorch_init();
  test_placement();
  cdn_finalize();
  return CHECK_STATUS();
}
