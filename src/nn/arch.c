/* The architecture families, as layer stacks (docs/graph.md, "Architectures", shows each one). Every
   family takes cfg.width (a multiplier on channel and neuron counts) and cfg.depth; names follow
   PyTorch's conventions (torchvision's for ResNet) so snapshots load into an equivalent module. */
#include <math.h>
#include <string.h>
#include "cnndyn/nn.h"
#include "net.h"

#define CONV(name, src, w, k, s, p, bias) cdn_net_add(net, CDN_OP_CONV2D, name, src, w, k, s, p, 0, bias)
#define POOL(op, name, src, k, s, p)      cdn_net_add(net, op, name, src, 0, k, s, p, 0, 0)
#define SIMPLE(op, name, src)             cdn_net_add(net, op, name, src, 0, 0, 0, 0, 0, 0)

static int scaled(const cdn_net_t *net, int base)
{
  int w = (int)lround(base * net->cfg.width);
  return w < 1 ? 1 : w;
}

/* Does linear layer i of a head with nh hidden layers get a dropout before it (nn.h,
   cdn_dropout_placement_t)? tv_vgg: torchvision's VGG rule, else its AlexNet rule. */
static int dropout_before(const cdn_net_t *net, int i, int nh, int tv_vgg)
{
  if (!(net->cfg.dropout > 0)) return 0;
  if (net->cfg.dropout_placement != CDN_DROPOUT_TORCHVISION) return 1;
  return tv_vgg ? i > 0 : i < nh;
}

/* flatten, then [dropout] linear relu per hidden width, then [dropout] linear to the classes;
   relu names are numbered on from the first free index, dropN is the dropout before fcN. */
static int head(cdn_net_t *net, int cur, const int *hidden, int nh, int relu_from, int tv_vgg)
{
  char name[CDN_NAME_LEN];
  cur = SIMPLE(CDN_OP_FLATTEN, "flatten", cur);
  for (int i = 0; i <= nh; i++) {
    if (dropout_before(net, i, nh, tv_vgg)) {
      snprintf(name, sizeof name, "drop%d", i + 1);
      cur = cdn_net_add(net, CDN_OP_DROPOUT, name, cur, 0, 0, 0, 0, (float)net->cfg.dropout, 0);
    }
    snprintf(name, sizeof name, "fc%d", i + 1);
    cur = cdn_net_add(net, CDN_OP_LINEAR, name, cur, i < nh ? hidden[i] : net->desc.num_classes, 0, 0, 0, 0, 1);
    if (i < nh) {
      snprintf(name, sizeof name, "relu%d", relu_from + i);
      cur = SIMPLE(CDN_OP_RELU, name, cur);
    }
  }
  return cur;
}

static PetscErrorCode lenet5(cdn_net_t *net)
{
  int cur, hidden[2] = {scaled(net, 120), scaled(net, 84)};

  PetscFunctionBeginUser;
  cur = CONV("conv1", -1, scaled(net, 6), 5, 1, 2, 1);
  cur = SIMPLE(CDN_OP_RELU, "relu1", cur);
  cur = POOL(CDN_OP_MAXPOOL2D, "pool1", cur, 2, 2, 0);
  cur = CONV("conv2", cur, scaled(net, 16), 5, 1, 0, 1);
  cur = SIMPLE(CDN_OP_RELU, "relu2", cur);
  cur = POOL(CDN_OP_MAXPOOL2D, "pool2", cur, 2, 2, 0);
  head(net, cur, hidden, 2, 3, 0);
  PetscFunctionReturn(0);
}

/* Five convolutions (more with depth > 5: extra 3x3 256-wide convolutions before the last pool),
   three overlapping 3x3/2 max-pools, three linear layers with dropout. */
static PetscErrorCode alexnet(cdn_net_t *net)
{
  int  depth = net->cfg.depth ? net->cfg.depth : 5, cur = -1, relu = 1;
  int  width[3] = {64, 192, 384}, hidden[2] = {scaled(net, 1024), scaled(net, 1024)};
  char name[CDN_NAME_LEN];

  PetscFunctionBeginUser;
  for (int i = 0; i < depth; i++) {
    snprintf(name, sizeof name, "conv%d", i + 1);
    cur = CONV(name, cur, scaled(net, i < 3 ? width[i] : 256), i < 2 ? 5 : 3, 1, i < 2 ? 2 : 1, 1);
    snprintf(name, sizeof name, "relu%d", relu++);
    cur = SIMPLE(CDN_OP_RELU, name, cur);
    if (i < 2 || i == depth - 1) {
      snprintf(name, sizeof name, "pool%d", i < 2 ? i + 1 : 3);
      cur = POOL(CDN_OP_MAXPOOL2D, name, cur, 3, 2, 1);
    }
  }
  head(net, cur, hidden, 2, relu, 0);
  PetscFunctionReturn(0);
}

/* depth/2 blocks of two 3x3 convolutions (32, 64, 128, 256 channels) each followed by a 2x2
   max-pool, then a 256-wide hidden linear layer. depth 4 is the small VGG of the benchmarks. */
static PetscErrorCode vgg(cdn_net_t *net)
{
  int  depth = net->cfg.depth ? net->cfg.depth : 4, cur = -1, n = 0, hidden[1] = {scaled(net, 256)};
  char name[CDN_NAME_LEN];

  PetscFunctionBeginUser;
  for (int b = 0; b < depth / 2; b++) {
    for (int k = 0; k < 2; k++) {
      n++;
      snprintf(name, sizeof name, "conv%d", n);
      cur = CONV(name, cur, scaled(net, 32 << b), 3, 1, 1, 1);
      snprintf(name, sizeof name, "relu%d", n);
      cur = SIMPLE(CDN_OP_RELU, name, cur);
    }
    snprintf(name, sizeof name, "pool%d", b + 1);
    cur = POOL(CDN_OP_MAXPOOL2D, name, cur, 2, 2, 0);
  }
  head(net, cur, hidden, 1, n + 1, 1);
  PetscFunctionReturn(0);
}

/* He et al.'s CIFAR ResNet: depth = 6n + 2; a 3x3 stem, three stages of n basic blocks (16, 32, 64
   channels times width; stages 2 and 3 start with stride 2 and a 1x1 projection shortcut with
   BatchNorm), global average pooling, one linear layer. Convolutions have no bias (BatchNorm
   follows each), as in torchvision. */
static int block(cdn_net_t *net, int in, int stage, int idx, int width, int stride)
{
  char p[16], name[CDN_NAME_LEN + 16]; /* "layer3.4.downsample.1": 21 characters */
  int  cur, sc = in;
#define NAME(s) (snprintf(name, sizeof name, "%s.%s", p, s), name)
  snprintf(p, sizeof p, "layer%d.%d", stage, idx % 100);
  cur = CONV(NAME("conv1"), in, width, 3, stride, 1, 0);
  cur = SIMPLE(CDN_OP_BATCHNORM, NAME("bn1"), cur);
  cur = SIMPLE(CDN_OP_RELU, NAME("relu1"), cur);
  cur = CONV(NAME("conv2"), cur, width, 3, 1, 1, 0);
  cur = SIMPLE(CDN_OP_BATCHNORM, NAME("bn2"), cur);
  if (cur >= 0 && (stride != 1 || net->desc.layer[in].out_c != width)) {
    sc = CONV(NAME("downsample.0"), in, width, 1, stride, 0, 0);
    sc = SIMPLE(CDN_OP_BATCHNORM, NAME("downsample.1"), sc);
  }
  if (cur < 0 || sc < 0) return -1;
  cur = SIMPLE(CDN_OP_ADD, NAME("add"), cur);
  if (cur >= 0) {
    cdn_layer_desc_t *a = &net->desc.layer[cur], *s = &net->desc.layer[sc];
    a->src2 = sc;
    if (s->out_c != a->out_c || s->out_h != a->out_h || s->out_w != a->out_w) {
      snprintf(net->err, sizeof net->err, "%s: shortcut shape differs", p);
      return -1;
    }
  }
  return SIMPLE(CDN_OP_RELU, NAME("relu2"), cur);
#undef NAME
}

static PetscErrorCode resnet(cdn_net_t *net)
{
  int depth = net->cfg.depth ? net->cfg.depth : 8, n = (depth - 2) / 6, cur;

  PetscFunctionBeginUser;
  cur = CONV("conv1", -1, scaled(net, 16), 3, 1, 1, 0);
  cur = SIMPLE(CDN_OP_BATCHNORM, "bn1", cur);
  cur = SIMPLE(CDN_OP_RELU, "relu", cur);
  for (int s = 0; s < 3; s++)
    for (int b = 0; b < n && cur >= 0; b++) cur = block(net, cur, s + 1, b, scaled(net, 16 << s), s && !b ? 2 : 1);
  cur = SIMPLE(CDN_OP_GLOBALAVGPOOL, "avgpool", cur);
  cur = SIMPLE(CDN_OP_FLATTEN, "flatten", cur);
  if (net->cfg.dropout > 0) cur = cdn_net_add(net, CDN_OP_DROPOUT, "drop1", cur, 0, 0, 0, 0, (float)net->cfg.dropout, 0);
  cdn_net_add(net, CDN_OP_LINEAR, "fc", cur, net->desc.num_classes, 0, 0, 0, 0, 1);
  PetscFunctionReturn(0);
}

const char *const cdn_arch_names[CDN_ARCH_COUNT] = {"lenet5", "alexnet", "vgg", "resnet"};
static PetscErrorCode (*const builders[CDN_ARCH_COUNT])(cdn_net_t *) = {lenet5, alexnet, vgg, resnet};

int cdn_arch_index(const char *name)
{
  for (int a = 0; name && a < CDN_ARCH_COUNT; a++)
    if (!strcmp(name, cdn_arch_names[a])) return a;
  return -1;
}
int cdn_arch_known(const char *name) { return cdn_arch_index(name) >= 0; }

int cdn_arch_depth_ok(const char *arch, int d, char *rule, size_t n)
{
  static const char *const rules[CDN_ARCH_COUNT] = {
    "lenet5 has depth 5 (2 conv + 3 linear layers)", "alexnet takes 5 to 10 convolutions",
    "vgg takes 2, 4, 6 or 8 convolutions", "resnet takes 6n+2 layers (8, 14, 20, 26, 32)"};
  const int a  = cdn_arch_index(arch);
  int       ok = d == 0; /* every family's default */
  switch (a) {           /* cdn_arch_names' order */
  case 0: ok |= d == 5; break;
  case 1: ok |= d >= 5 && d <= 10; break;
  case 2: ok |= d >= 2 && d <= 8 && d % 2 == 0; break;
  case 3: ok |= d >= 8 && d <= 32 && (d - 2) % 6 == 0; break;
  default: ok = 0;
  }
  if (!ok && rule) snprintf(rule, n, "%s", a >= 0 ? rules[a] : "no such architecture");
  return ok;
}

/* The indices of cdn_arch_names in name order. */
static void name_order(int *ord)
{
  for (int a = 0; a < CDN_ARCH_COUNT; a++) {
    int k = a;
    while (k > 0 && strcmp(cdn_arch_names[ord[k - 1]], cdn_arch_names[a]) > 0) ord[k] = ord[k - 1], k--;
    ord[k] = a;
  }
}

int cdn_arch_in_name_order(int i)
{
  int ord[CDN_ARCH_COUNT];
  name_order(ord);
  return i >= 0 && i < CDN_ARCH_COUNT ? ord[i] : -1;
}

void cdn_arch_list_write(unsigned mask, char *buf, size_t len)
{
  int ord[CDN_ARCH_COUNT];

  name_order(ord);
  buf[0] = '\0';
  for (int i = 0; i < CDN_ARCH_COUNT; i++)
    if (mask >> ord[i] & 1u) snprintf(buf + strlen(buf), len - strlen(buf), "%s%s", buf[0] ? "," : "", cdn_arch_names[ord[i]]);
}

int cdn_arch_list_read(const char *list)
{
  unsigned mask = 0;
  int      ord[CDN_ARCH_COUNT], next = 0; /* the items must follow ord */

  name_order(ord);
  for (const char *t = list; t && *t;) {
    size_t n = strcspn(t, ",");
    while (next < CDN_ARCH_COUNT && (strlen(cdn_arch_names[ord[next]]) != n || strncmp(t, cdn_arch_names[ord[next]], n))) next++;
    if (next == CDN_ARCH_COUNT) return -1;
    mask |= 1u << ord[next++];
    t += n;
    if (*t == ',' && !*++t) return -1; /* a trailing comma: an empty item */
  }
  return (int)mask;
}

PetscErrorCode cdn_arch_build(cdn_net_t *net, const char *arch)
{
  int  a = cdn_arch_index(arch);
  char rule[96];

  PetscFunctionBeginUser;
  PetscCheck(a >= 0, PETSC_COMM_SELF, CDN_ERR_INPUT, "architecture: \"%s\" is not lenet5, alexnet, vgg or resnet",
             arch);
  PetscCheck(cdn_arch_depth_ok(arch, net->cfg.depth, rule, sizeof rule), PETSC_COMM_SELF, CDN_ERR_INPUT,
             "depth: %s, not %d", rule, net->cfg.depth);
  PetscCall(builders[a](net));
  PetscCheck(!net->err[0], PETSC_COMM_SELF, CDN_ERR_INPUT, "%s on %d x %d x %d input: %s", arch, net->desc.in_c,
             net->desc.in_h, net->desc.in_w, net->err);
  PetscFunctionReturn(0);
}
