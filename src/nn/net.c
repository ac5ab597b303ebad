/* Building a network: the layer stack is described first (shapes inferred and checked), then one
   parameter block, its gradient and momentum twins, and the activation buffers are allocated. */
#include <math.h>
#include <string.h>
#include "cnndyn/nn.h"
#include "net.h"

#define CDN_EVAL_BATCH 256 /* evaluation needs no gradients: bigger batches, fewer GEMM calls */

static const cdn_layer_ops_t *ops_of(cdn_op_t op)
{
  switch (op) {
  case CDN_OP_CONV2D: return &cdn_conv2d_ops;
  case CDN_OP_LINEAR: return &cdn_linear_ops;
  case CDN_OP_RELU: return &cdn_relu_ops;
  case CDN_OP_MAXPOOL2D: return &cdn_maxpool2_ops;
  case CDN_OP_DROPOUT: return &cdn_dropout_ops;
  case CDN_OP_FLATTEN: return &cdn_flatten_ops;
  default: return NULL; /* not built by any architecture yet */
  }
}

/* Appends a layer whose input is the previous layer's output; arg is conv/linear width. */
static PetscErrorCode push(cdn_net_t *net, cdn_op_t op, const char *name, int arg, int kernel, int padding, float p)
{
  cdn_model_desc_t *m = &net->desc;
  cdn_layer_desc_t *d = &m->layer[m->nlayers];

  PetscFunctionBeginUser;
  PetscCheck(m->nlayers < CDN_MAX_LAYERS, PETSC_COMM_SELF, PETSC_ERR_PLIB, "too many layers");
  memset(d, 0, sizeof *d);
  d->src  = m->nlayers - 1; /* sequential: the previous layer (or the input) */
  d->src2 = -1;
  d->op = op;
  snprintf(d->name, sizeof d->name, "%s", name);
  if (m->nlayers) {
    const cdn_layer_desc_t *prev = d - 1;
    d->in_c = prev->out_c, d->in_h = prev->out_h, d->in_w = prev->out_w;
  } else d->in_c = m->in_c, d->in_h = m->in_h, d->in_w = m->in_w;
  d->out_c   = arg;
  d->kernel  = kernel;
  d->stride  = op == CDN_OP_MAXPOOL2D ? 2 : 1;
  d->padding = padding;
  d->p       = p;
  PetscCheck(ops_of(op)->out_shape(d), PETSC_COMM_SELF, CDN_ERR_INPUT,
             "%s: layer %s does not fit its %d x %d x %d input", m->arch, name, d->in_c, d->in_h, d->in_w);
  m->nlayers++;
  PetscFunctionReturn(0);
}

static PetscErrorCode build_lenet5(cdn_net_t *net, double dropout)
{
  const char *drop[3] = {"drop1", "drop2", "drop3"}, *fc[3] = {"fc1", "fc2", "fc3"};
  const char *relu[2] = {"relu3", "relu4"};
  int         width[3] = {120, 84, net->desc.num_classes};

  PetscFunctionBeginUser;
  PetscCall(push(net, CDN_OP_CONV2D, "conv1", 6, 5, 2, 0));
  PetscCall(push(net, CDN_OP_RELU, "relu1", 0, 0, 0, 0));
  PetscCall(push(net, CDN_OP_MAXPOOL2D, "pool1", 0, 2, 0, 0));
  PetscCall(push(net, CDN_OP_CONV2D, "conv2", 16, 5, 0, 0));
  PetscCall(push(net, CDN_OP_RELU, "relu2", 0, 0, 0, 0));
  PetscCall(push(net, CDN_OP_MAXPOOL2D, "pool2", 0, 2, 0, 0));
  PetscCall(push(net, CDN_OP_FLATTEN, "flatten", 0, 0, 0, 0));
  for (int i = 0; i < 3; i++) {
    if (dropout > 0) PetscCall(push(net, CDN_OP_DROPOUT, drop[i], 0, 0, 0, (float)dropout));
    PetscCall(push(net, CDN_OP_LINEAR, fc[i], width[i], 0, 0, 0));
    if (i < 2) PetscCall(push(net, CDN_OP_RELU, relu[i], 0, 0, 0, 0));
  }
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_net_create(const char *arch, int in_c, int in_h, int in_w, int num_classes,
                              const cdn_train_config_t *cfg, cdn_net_t **out)
{
  cdn_net_t *net;
  size_t     nparam = 0, nbuf = 0, off = 0;
  int        B, insz = in_c * in_h * in_w;

  PetscFunctionBeginUser;
  *out = NULL;
  PetscCheck(!strcmp(arch, "lenet5"), PETSC_COMM_SELF, CDN_ERR_INPUT, "architecture: \"%s\" is not \"lenet5\"", arch);
  PetscCheck(in_c > 0 && in_h > 0 && in_w > 0 && num_classes > 1, PETSC_COMM_SELF, CDN_ERR_INPUT,
             "%s: bad input shape %d x %d x %d or %d classes", arch, in_c, in_h, in_w, num_classes);
  PetscCheck(cfg->batch_size >= 1, PETSC_COMM_SELF, CDN_ERR_INPUT, "batch_size: %d is below 1", cfg->batch_size);
  PetscCheck(cfg->dropout >= 0 && cfg->dropout < 1, PETSC_COMM_SELF, CDN_ERR_INPUT, "dropout: %g is not in [0, 1)",
             cfg->dropout);
  PetscCall(PetscCalloc1(1, &net));
  net->cfg = *cfg;
  snprintf(net->desc.arch, sizeof net->desc.arch, "%s", arch);
  net->desc.in_c = in_c, net->desc.in_h = in_h, net->desc.in_w = in_w, net->desc.num_classes = num_classes;
  {
    PetscErrorCode ierr = build_lenet5(net, cfg->dropout);
    if (ierr) PetscCall(PetscFree(net)); /* a shape error: nothing but the struct to free */
    PetscCall(ierr);
  }
  net->nl   = net->desc.nlayers;
  net->maxb = B = cfg->batch_size > CDN_EVAL_BATCH ? cfg->batch_size : CDN_EVAL_BATCH;

  /* sizes first, then one block each for parameters (x3) and for buffers */
  for (int i = 0; i < net->nl; i++) {
    cdn_layer_desc_t *d = &net->desc.layer[i];
    net->layer[i].d     = d;
    net->layer[i].ops   = ops_of(d->op);
    nparam += net->layer[i].ops->param_count(d);
    nbuf += 2 * (size_t)B * cdn_layer_out_size(d) + (net->layer[i].ops->work_bytes(d, B) + 63) / sizeof(float);
  }
  nbuf += 2 * (size_t)B * insz; /* the NCHW batch and its channel-major copy */
  net->nparam = (int)nparam;
  PetscCall(PetscCalloc1(nparam, &net->param));
  PetscCall(PetscCalloc1(nparam, &net->grad));
  PetscCall(PetscCalloc1(nparam, &net->mom));
  PetscCall(PetscMalloc1(nbuf, &net->buf));
  PetscCall(PetscMalloc1(B, &net->y));
  net->x  = net->buf;
  net->xc = net->buf + (size_t)B * insz;
  off     = 2 * (size_t)B * insz;
  nparam  = 0;
  for (int i = 0; i < net->nl; i++) {
    cdn_layer_t      *l = &net->layer[i];
    cdn_layer_desc_t *d = l->d;
    size_t            o = (size_t)B * cdn_layer_out_size(d), nw = cdn_layer_weight_count(d);
    if (l->ops->param_count(d)) {
      d->weight = net->param + nparam, d->bias = d->weight + nw;
      l->gw = net->grad + nparam, l->gb = l->gw + nw;
      nparam += l->ops->param_count(d);
    }
    l->out  = net->buf + off, off += o;
    l->dout = net->buf + off, off += o;
    l->work = net->buf + off, off += (l->ops->work_bytes(d, B) + 63) / sizeof(float);
  }
  *out = net;
  PetscFunctionReturn(0);
}

void cdn_net_destroy(cdn_net_t **pnet)
{
  cdn_net_t *net = *pnet;
  if (!net) return;
  (void)PetscFree(net->param);
  (void)PetscFree(net->grad);
  (void)PetscFree(net->mom);
  (void)PetscFree(net->buf);
  (void)PetscFree(net->y);
  (void)PetscFree(net);
  *pnet = NULL;
}

void cdn_net_init(cdn_net_t *net, cdn_rng_t *rng)
{
  memset(net->param, 0, sizeof(float) * net->nparam);
  memset(net->mom, 0, sizeof(float) * net->nparam);
  for (int i = 0; i < net->nl; i++) {
    cdn_layer_desc_t *d = net->layer[i].d;
    int               n = cdn_layer_weight_count(d), fan_in = n / (d->out_c ? d->out_c : 1);
    if (!n) continue;
    double sd = sqrt(2.0 / fan_in) * net->cfg.init_scale;
    for (int k = 0; k < n; k++) d->weight[k] = (float)(sd * cdn_rng_normal(rng));
  }
}

const cdn_model_desc_t *cdn_net_desc(const cdn_net_t *net) { return &net->desc; }

void cdn_net_params(cdn_net_t *net, float **param, float **grad, float **momentum, int *count)
{
  if (param) *param = net->param;
  if (grad) *grad = net->grad;
  if (momentum) *momentum = net->mom;
  if (count) *count = net->nparam;
}

int cdn_net_max_batch(const cdn_net_t *net) { return net->maxb; }
