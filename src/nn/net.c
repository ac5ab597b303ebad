/* Building a network: the layer stack is described first (shapes inferred and checked), then one
   parameter block with its gradient and optimiser twins, the BatchNorm running statistics, and the
   activation buffers are allocated. Nothing is allocated after cdn_net_create. */
#include <cblas.h>
#include <limits.h>
#include <unistd.h>
#include <math.h>
#include <string.h>
#include "cnndyn/nn.h"
#include "dnn.h"

#define CDN_EVAL_BATCH 256 /* evaluation needs no gradients: bigger batches, fewer GEMM calls */

void openblas_set_num_threads(int); /* OpenBLAS's own call; cblas.h does not always declare it */

/* Every operation's table (layer.h), from the one list of operations (model.h). */
#define CDN_OP_TABLE_DECL(E, NAME, NN) extern const cdn_layer_ops_t cdn_##NN##_op;
CDN_OPS(CDN_OP_TABLE_DECL)
#undef CDN_OP_TABLE_DECL
#define CDN_OP_TABLE_ENTRY(E, NAME, NN) [CDN_OP_##E] = &cdn_##NN##_op,
static const cdn_layer_ops_t *const op_table[CDN_OP_COUNT] = {CDN_OPS(CDN_OP_TABLE_ENTRY)};
#undef CDN_OP_TABLE_ENTRY

static const cdn_layer_ops_t *ops_of(cdn_op_t op)
{
  return (int)op >= 0 && (int)op < (int)(sizeof op_table / sizeof op_table[0]) ? op_table[op] : NULL;
}

/* Floats of layer l's workspace (64-byte slack for the doubles some keep). */
static size_t work_floats(const cdn_net_t *net, const cdn_layer_t *l, int B)
{
  return (l->ops->work_bytes(l->d, B, net->cfg.reference) + 63) / sizeof(float);
}

/* Every buffer carved out of net->buf starts on a 64-byte boundary: workspaces hold doubles
   too (BatchNorm's sums), which an odd float count before them would misalign. */
static size_t span(size_t floats) { return (floats + 15) / 16 * 16; }
/* floats a buffer of n takes in net->buf: 64-byte aligned, then its guard in guard mode */
static size_t span_in(const cdn_net_t *net, size_t floats)
{
  return span(floats) + (net->guard ? CDN_DNN_GUARD / sizeof(float) : 0);
}
/* The next buffer of n floats from net->buf at *off; in guard mode its guard gets the pattern and
   joins guard_at. */
static float *carve(cdn_net_t *net, size_t *off, size_t floats)
{
  float *b = net->buf + *off;
  if (net->guard) {
    net->guard_at[net->nguard] = (char *)(b + span(floats));
    memset(net->guard_at[net->nguard++], CDN_DNN_GUARD_BYTE, CDN_DNN_GUARD);
  }
  *off += span_in(net, floats);
  return b;
}

/* -cnndyn_test_poison VALUE (tests only): every activation, gradient and workspace float starts
   as VALUE instead of whatever the allocator left, so that a read before a write changes results.
   VALUE nan is the strictest: a NaN survives a multiplication by zero and poisons any max. */
static PetscErrorCode poison(float *buf, size_t n)
{
  double    v = 0;
  PetscBool set = PETSC_FALSE;
  char      text[16] = "";

  PetscFunctionBeginUser;
  if (!PetscInitializeCalled) PetscFunctionReturn(0); /* nn without PETSc (test_layers): no options */
  PetscCall(PetscOptionsGetString(NULL, NULL, "-cnndyn_test_poison", text, sizeof text, &set));
  if (!set) PetscFunctionReturn(0);
  if (!strcmp(text, "nan")) v = NAN;
  else PetscCall(cdn_option_real(NULL, "-cnndyn_test_poison", -3e38, 3e38, &v));
  for (size_t k = 0; k < n; k++) buf[k] = (float)v;
  PetscFunctionReturn(0);
}

int cdn_net_add(cdn_net_t *net, cdn_op_t op, const char *name, int src, int width, int kernel, int stride,
                int padding, float p, int bias)
{
  cdn_model_desc_t *m = &net->desc;
  cdn_layer_desc_t *d = &m->layer[m->nlayers];
  cdn_layer_t      *l = &net->layer[m->nlayers];

  if (net->err[0]) return -1;
  if (m->nlayers == CDN_MAX_LAYERS || src < -1 || src >= m->nlayers) {
    snprintf(net->err, sizeof net->err, "layer %s: more than %d layers", name, CDN_MAX_LAYERS);
    return -1;
  }
  memset(d, 0, sizeof *d);
  memset(l, 0, sizeof *l);
  d->op  = op;
  d->src = src, d->src2 = -1;
  snprintf(d->name, sizeof d->name, "%s", name);
  if (src >= 0) d->in_c = m->layer[src].out_c, d->in_h = m->layer[src].out_h, d->in_w = m->layer[src].out_w;
  else d->in_c = m->in_c, d->in_h = m->in_h, d->in_w = m->in_w;
  d->out_c   = width;
  d->kernel  = kernel;
  d->stride  = stride;
  d->padding = padding;
  d->p       = p;
  l->d     = d;
  l->ops   = ops_of(op);
  l->fused = -1;
  if (!l->ops || !l->ops->out_shape(d)) {
    snprintf(net->err, sizeof net->err, "layer %s does not fit its %d x %d x %d input", name, d->in_c, d->in_h,
             d->in_w);
    return -1;
  }
  if (l->ops->setup) l->ops->setup(l, bias);
  return m->nlayers++;
}

PetscErrorCode cdn_net_create(const char *arch, int in_c, int in_h, int in_w, int num_classes,
                              const cdn_train_config_t *cfg, cdn_net_t **out)
{
  cdn_net_t *net;
  size_t     nparam = 0, nstats = 0, nbuf = 0, off = 0, maxact = 0;
  int        B, insz = in_c * in_h * in_w;

  PetscFunctionBeginUser;
  *out = NULL;
  PetscCheck(in_c > 0 && in_h > 0 && in_w > 0 && num_classes > 1, PETSC_COMM_SELF, CDN_ERR_INPUT,
             "%s: bad input shape %d x %d x %d or %d classes", arch, in_c, in_h, in_w, num_classes);
  PetscCheck(cfg->batch_size >= 1, PETSC_COMM_SELF, CDN_ERR_INPUT, "batch_size: %d is below 1", cfg->batch_size);
  PetscCheck(cfg->dropout >= 0 && cfg->dropout < 1, PETSC_COMM_SELF, CDN_ERR_INPUT, "dropout: %g is not in [0, 1)",
             cfg->dropout);
  PetscCheck(cfg->width >= 0 && cfg->width <= 64, PETSC_COMM_SELF, CDN_ERR_INPUT, "width: %g is not in (0, 64]",
             cfg->width);
  PetscCall(PetscCalloc1(1, &net));
  net->cfg = *cfg;
  if (!(net->cfg.width > 0)) net->cfg.width = 1;
  snprintf(net->desc.arch, sizeof net->desc.arch, "%s", arch);
  net->desc.in_c = in_c, net->desc.in_h = in_h, net->desc.in_w = in_w, net->desc.num_classes = num_classes;
  {
    PetscErrorCode ierr = cdn_arch_build(net, arch);
    if (ierr) PetscCall(PetscFree(net)); /* a shape error: nothing but the struct to free */
    PetscCall(ierr);
  }
  if (cfg->threads > 0) openblas_set_num_threads(cfg->threads);
  if (PetscInitializeCalled && !cfg->reference) /* nn works without PETSc initialised (test_layers): no options */
    PetscCall(PetscOptionsGetBool(NULL, NULL, "-cnndyn_test_dnn_guard", &net->guard, NULL));
  net->nl   = net->desc.nlayers;
  net->maxb = B = cfg->batch_size > CDN_EVAL_BATCH ? cfg->batch_size : CDN_EVAL_BATCH;

  /* sizes first, then one block each for parameters (x3 or x4), statistics and buffers */
  for (int i = 0; i < net->nl; i++) {
    cdn_layer_t *l = &net->layer[i];
    size_t       o = cfg->reference ? (size_t)cdn_layer_out_size(l->d) : cdn_dnn_out_floats(net, i);
    long long    w = cdn_layer_weight_count(l->d); /* 64 bits: l->nw saturates (conv.c, linear.c) */
    nparam += (size_t)(w > 0 ? w : l->nw) + (size_t)l->nb;
    nstats += l->nstats;
    nbuf += 2 * span_in(net, (size_t)B * o) + span_in(net, work_floats(net, l, B));
    if (o > maxact) maxact = o;
  }
  nbuf += 2 * span_in(net, (size_t)B * insz) + span_in(net, (size_t)B * maxact); /* the NCHW batch, its channel-major copy, scratch */
  { /* before any allocation: a network that cannot fit is refused with its size, not left to the
       allocator (an outside review's resnet at width 64, depth 32 -- every key in range -- swapped the
       machine to 22 GB and hung); half the physical memory, as two ranks share a node */
    double need = 4.0 * ((double)nparam * (cfg->optimizer == CDN_OPT_ADAM ? 4 : 3) + (double)nstats + (double)nbuf);
    double have = (double)sysconf(_SC_PHYS_PAGES) * (double)sysconf(_SC_PAGE_SIZE);
    if (!(have <= 0 || need <= have / 2) || nparam > INT_MAX) {
      PetscCall(PetscFree(net));
      SETERRQ(PETSC_COMM_SELF, CDN_ERR_INPUT,
              "%s at width %.4g, depth %d: one network needs %.1f GB (%.0f million parameters, activations for batches of %d), "
              "more than half of this machine's %.1f GB",
              arch, cfg->width > 0 ? cfg->width : 1, cfg->depth, need / 1e9, (double)nparam / 1e6, B, have / 1e9);
    }
  }
  net->nparam = (int)nparam;
  net->nstats = (int)nstats;
  PetscCall(PetscCalloc1(nparam, &net->param));
  PetscCall(PetscCalloc1(nparam, &net->grad));
  PetscCall(PetscCalloc1(nparam, &net->mom));
  if (cfg->optimizer == CDN_OPT_ADAM) PetscCall(PetscCalloc1(nparam, &net->mom2));
  PetscCall(PetscCalloc1(nstats + 1, &net->stats));
  /* Not zeroed (a memset sized for the 256-image evaluation batch, per network): every step writes
     what it reads first -- each layer's output and gradient over its plan's items, the input's
     padded tail (dnn_run.c), every workspace in forward before backward. The test hook
     -cnndyn_test_poison fills it to prove that no result depends on its starting bytes. */
  PetscCall(PetscMalloc1(nbuf, &net->buf));
  PetscCall(poison(net->buf, nbuf));
  PetscCall(PetscMalloc1(B, &net->y));
  if (net->guard) PetscCall(PetscMalloc1(3 * net->nl + 3, &net->guard_at));
  net->x       = carve(net, &off, (size_t)B * insz);
  net->xc      = carve(net, &off, (size_t)B * insz);
  net->scratch = carve(net, &off, (size_t)B * maxact);
  nparam = nstats = 0;
  for (int i = 0; i < net->nl; i++) {
    cdn_layer_t      *l = &net->layer[i];
    cdn_layer_desc_t *d = l->d;
    size_t            o = (size_t)B * (cfg->reference ? (size_t)cdn_layer_out_size(d) : cdn_dnn_out_floats(net, i));
    if (l->nw) d->weight = net->param + nparam, l->gw = net->grad + nparam;
    if (l->nb) d->bias = net->param + nparam + l->nw, l->gb = net->grad + nparam + l->nw;
    nparam += l->nw + l->nb;
    if (l->nstats) { /* mean, then variance */
      d->running_mean = net->stats + nstats, d->running_var = d->running_mean + l->nstats / 2;
      nstats += l->nstats;
    }
    l->out  = carve(net, &off, o);
    l->dout = carve(net, &off, o);
    l->work = carve(net, &off, work_floats(net, l, B));
  }
  for (int i = 0; i < net->nl; i++)
    if (net->layer[i].ops->inputs == 2) net->layer[i].in2 = net->layer[net->desc.layer[i].src2].out;
  if (!cfg->reference) {
    PetscErrorCode ierr = cdn_dnn_create(net);
    if (ierr) (void)cdn_net_destroy(&net);
    PetscCall(ierr);
  }
  cdn_net_init(net, NULL);
  *out = net;
  PetscFunctionReturn(0);
}

/* Frees everything it can even when a part fails to free: teardown never stops half way. */
PetscErrorCode cdn_net_destroy(cdn_net_t **pnet)
{
  cdn_net_t *net = pnet ? *pnet : NULL;

  PetscFunctionBeginUser;
  if (!net) PetscFunctionReturn(0);
  (void)cdn_dnn_free(net);
  (void)PetscFree(net->param);
  (void)PetscFree(net->grad);
  (void)PetscFree(net->mom);
  (void)PetscFree(net->mom2);
  (void)PetscFree(net->stats);
  (void)PetscFree(net->buf);
  (void)PetscFree(net->guard_at);
  (void)PetscFree(net->y);
  (void)PetscFree(net);
  *pnet = NULL;
  PetscFunctionReturn(0);
}

/* Draws only for conv and linear weights (and, init pytorch, their biases), layer by layer, so
   LeNet-5's Kaiming weights are the foundation's draws exactly. rng NULL: deterministic parts only
   (zero weights). */
void cdn_net_init(cdn_net_t *net, cdn_rng_t *rng)
{
  const cdn_train_config_t *cfg = &net->cfg;
  memset(net->param, 0, sizeof(float) * net->nparam);
  memset(net->mom, 0, sizeof(float) * net->nparam);
  if (net->mom2) memset(net->mom2, 0, sizeof(float) * net->nparam);
  net->step = 0, net->epoch = 0;
  for (int i = 0; i < net->nl; i++) {
    cdn_layer_desc_t *d = net->layer[i].d;
    int               n = cdn_layer_weight_count(d), recept = n ? n / (d->out_c * d->in_c) : 0;
    int               fan_in = d->in_c * recept, fan_out = d->out_c * recept;
    if (net->layer[i].ops->reset) net->layer[i].ops->reset(&net->layer[i]);
    if (!n || !rng) continue;
    if (cfg->init == CDN_INIT_PYTORCH) { /* as Conv2d/Linear.reset_parameters: weight, then bias */
      double a = 1 / sqrt((double)fan_in);
      for (int k = 0; k < n; k++) d->weight[k] = (float)(a * cfg->init_scale * (2 * cdn_rng_uniform(rng) - 1));
      for (int k = 0; k < net->layer[i].nb; k++) d->bias[k] = (float)(a * (2 * cdn_rng_uniform(rng) - 1));
    } else if (cfg->init == CDN_INIT_XAVIER) {
      double a = sqrt(6.0 / (fan_in + fan_out)) * cfg->init_scale;
      for (int k = 0; k < n; k++) d->weight[k] = (float)(a * (2 * cdn_rng_uniform(rng) - 1));
    } else {
      double sd = cfg->init == CDN_INIT_NORMAL ? (cfg->init_std > 0 ? cfg->init_std : 0.01) : sqrt(2.0 / fan_in);
      sd *= cfg->init_scale;
      for (int k = 0; k < n; k++) d->weight[k] = (float)(sd * cdn_rng_normal(rng));
    }
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

void cdn_net_stats(cdn_net_t *net, float **stats, int *count)
{
  if (stats) *stats = net->stats;
  if (count) *count = net->nstats;
}

int cdn_net_max_batch(const cdn_net_t *net) { return net->maxb; }

const float *cdn_net_logits(const cdn_net_t *net) { return net->layer[net->nl - 1].out; }
