/* Building the oneDNN engine of a network (dnn.h says what it keeps where): for each plan (batch
   size), conv and pooling primitives bound to the net's fixed buffers, weight reorders, and the
   flatten's reorders; then one scratchpad for all of them. Everything is created here, once;
   training steps only execute. */
#include <dnnl_debug.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include "cnndyn/nn.h"
#include "conv_small.h"
#include "dnn.h"

#define DNNL_CALL(what, call)                                                                                     \
  do {                                                                                                            \
    dnnl_status_t s_ = (call);                                                                                    \
    PetscCheck(s_ == dnnl_success, PETSC_COMM_SELF, PETSC_ERR_LIB, "oneDNN: %s: %s (layer %s)", what,           \
               dnnl_status2str(s_), layer_name);                                                                  \
  } while (0)

int cdn_dnn_blocked(const cdn_net_t *net, int i)
{
  const cdn_layer_desc_t *d = &net->desc.layer[i];
  if (d->op == CDN_OP_FLATTEN || d->op == CDN_OP_LINEAR) return 0;
  return d->src < 0 ? d->op == CDN_OP_CONV2D : cdn_dnn_blocked(net, d->src);
}

size_t cdn_dnn_out_floats(const cdn_net_t *net, int i)
{
  const cdn_layer_desc_t *d = &net->desc.layer[i];
  return (size_t)d->out_c * d->out_h * d->out_w; /* NHWC pads nothing */
}

static void md4(dnnl_memory_desc_t *md, int n, int c, int h, int w, dnnl_format_tag_t tag)
{
  dnnl_dims_t dims = {n, c, h, w};
  (void)dnnl_memory_desc_init_by_tag(md, 4, dims, dnnl_f32, tag); /* cannot fail for these tags */
}

static PetscErrorCode new_mem(cdn_dnn_t *d, const dnnl_memory_desc_t *md, void *ptr, dnnl_memory_t *out,
                              const char *layer_name)
{
  PetscFunctionBeginUser;
  if (d->nmem == d->maxmem) {
    dnnl_memory_t *m;
    PetscCall(PetscMalloc1(2 * d->maxmem + 64, &m));
    if (d->nmem) PetscCall(PetscArraycpy(m, d->mem, d->nmem));
    PetscCall(PetscFree(d->mem));
    d->mem = m, d->maxmem = 2 * d->maxmem + 64;
  }
  DNNL_CALL("memory", dnnl_memory_create(out, md, d->eng, ptr));
  d->mem[d->nmem++] = *out;
  PetscFunctionReturn(0);
}

static PetscErrorCode new_buf(cdn_dnn_t *d, size_t bytes, void **out)
{
  size_t slack = d->guard ? CDN_DNN_GUARD : 64;

  PetscFunctionBeginUser;
  if (d->nbufs == d->maxbufs) {
    void  **b;
    size_t *n;
    PetscCall(PetscMalloc2(2 * d->maxbufs + 16, &b, 2 * d->maxbufs + 16, &n));
    if (d->nbufs) PetscCall(PetscArraycpy(b, d->bufs, d->nbufs));
    if (d->nbufs) PetscCall(PetscArraycpy(n, d->buf_bytes, d->nbufs));
    PetscCall(PetscFree2(d->bufs, d->buf_bytes));
    d->bufs = b, d->buf_bytes = n, d->maxbufs = 2 * d->maxbufs + 16;
  }
  /* 64-byte aligned: some oneDNN kernels (Winograd's) use aligned and streaming stores on their buffers */
  *out = aligned_alloc(64, (bytes + 63) / 64 * 64 + slack);
  PetscCheck(*out, PETSC_COMM_SELF, PETSC_ERR_MEM, "out of memory: %zu bytes for the convolution engine", bytes);
  PetscCall(PetscMemzero(*out, bytes));
  if (d->guard) memset((char *)*out + bytes, CDN_DNN_GUARD_BYTE, (bytes + 63) / 64 * 64 + slack - bytes);
  d->buf_bytes[d->nbufs] = bytes;
  d->bufs[d->nbufs++]    = *out;
  PetscFunctionReturn(0);
}

/* Binds an argument: a memory object over ptr with layout md. */
static PetscErrorCode arg(cdn_dnn_t *d, cdn_dnn_op_t *op, int what, const dnnl_memory_desc_t *md, void *ptr,
                          const char *layer_name)
{
  dnnl_memory_t m;
  PetscFunctionBeginUser;
  PetscCall(new_mem(d, md, ptr, &m, layer_name));
  op->args[op->nargs].arg = what, op->args[op->nargs].memory = m, op->nargs++;
  PetscFunctionReturn(0);
}

static PetscErrorCode reorder(cdn_dnn_t *d, dnnl_primitive_attr_t attr, cdn_dnn_op_t *op, const dnnl_memory_desc_t *from,
                              void *src, const dnnl_memory_desc_t *to, void *dst, const char *layer_name)
{
  PetscFunctionBeginUser;
  DNNL_CALL("reorder", dnnl_reorder_primitive_desc_create(&op->pd, from, d->eng, to, d->eng, attr));
  PetscCall(arg(d, op, DNNL_ARG_FROM, from, src, layer_name));
  PetscCall(arg(d, op, DNNL_ARG_TO, to, dst, layer_name));
  PetscFunctionReturn(0);
}

/* Weights in the layout a primitive chose: the parameter block itself when it is PyTorch's, else a
   buffer of ours (reused when an earlier primitive of the layer chose the same layout). */
static PetscErrorCode weights_in(cdn_dnn_t *d, const dnnl_memory_desc_t *want, const dnnl_memory_desc_t *oihw,
                                 float *master, const dnnl_memory_desc_t *have, void *have_buf, void **out)
{
  PetscFunctionBeginUser;
  if (dnnl_memory_desc_equal(want, oihw)) *out = master;
  else if (have && dnnl_memory_desc_equal(want, have)) *out = have_buf;
  else PetscCall(new_buf(d, dnnl_memory_desc_get_size(want), out));
  PetscFunctionReturn(0);
}

/* Winograd F(4x4, 3x3) (oneDNN's jit_wino_4x3, AVX-512 only, on nChw16c) for 3x3 stride-1
   convolutions with 24 or more channels in and out: forward and both backwards, with the four
   NHWC <-> nChw16c reorders around them, took 0.5-0.7 of direct's time at 32 to 256 channels and
   0.85-0.88 at 24; at 16 channels it won or lost by shape, and at 2x2 outputs it lost
   (bench/train/bench_conv). Results differ from direct by about 1e-6 relative. Not in the 256-item
   evaluation plan that exists beside smaller training batches: there its buffers and scratchpad
   took 160 MB more for a width-1 VGG, to save 4% of a run's time. (Evaluation's last, smaller chunk
   runs in the training plan, Winograd included.) */
static int wino_fits(const cdn_net_t *net, const cdn_layer_desc_t *ld, int B)
{
  dnnl_cpu_isa_t isa = dnnl_get_effective_cpu_isa();
  return B == net->cfg.batch_size && !net->cfg.direct_conv && !net->cfg.reference &&
         (isa & dnnl_cpu_isa_avx512_core) == dnnl_cpu_isa_avx512_core &&
         ld->kernel == 3 && ld->stride == 1 && ld->in_c >= 24 && ld->out_c >= 24 && ld->out_h >= 4 && ld->out_w >= 4;
}

static size_t wino_bytes(int B, int c, int h, int w)
{
  dnnl_memory_desc_t md;
  md4(&md, B, c, h, w, dnnl_nChw16c);
  return dnnl_memory_desc_get_size(&md);
}

/* The backward-weights primitive, skipping one implementation: oneDNN 2.6's jit_1x1:avx2 kernel,
   on a strided 1x1 convolution over NHWC, writes past the scratchpad it books (its copy of the
   input at unit stride is booked at the channel count and written at the channel count rounded up
   to its 8-channel block: 3,712 bytes past a 4,224-byte scratchpad on ResNet's 4 -> 8 channel
   projection, found by the engine's guard mode; the heap corruption crashed the families test under
   ONEDNN_MAX_CPU_ISA=AVX2). Such a convolution takes the next implementation oneDNN offers. */
static PetscErrorCode bwd_weights_pd(cdn_dnn_t *d, const dnnl_convolution_desc_t *cd, dnnl_primitive_attr_t attr,
                                     const_dnnl_primitive_desc_t hint, const cdn_layer_desc_t *ld,
                                     dnnl_primitive_desc_t *out)
{
  const char                    *layer_name = ld->name;
  int                            avoid = ld->kernel == 1 && ld->stride > 1;
  dnnl_primitive_desc_iterator_t it;
  dnnl_status_t                  s = dnnl_success;

  PetscFunctionBeginUser;
  *out = NULL;
  DNNL_CALL("convolution backward weights", dnnl_primitive_desc_iterator_create(&it, cd, attr, d->eng, hint));
  while (s == dnnl_success) {
    dnnl_primitive_desc_t pd   = dnnl_primitive_desc_iterator_fetch(it);
    const char           *impl = "";
    if (!pd) break;
    if (dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl) != dnnl_success || !avoid ||
        strcmp(impl, "jit_1x1:avx2")) {
      *out = pd;
      break;
    }
    (void)dnnl_primitive_desc_destroy(pd);
    s = dnnl_primitive_desc_iterator_next(it);
  }
  (void)dnnl_primitive_desc_iterator_destroy(it);
  PetscCheck(*out, PETSC_COMM_SELF, PETSC_ERR_LIB, "oneDNN: no usable backward-weights convolution (layer %s)",
             layer_name);
  PetscFunctionReturn(0);
}

/* Where layer i writes the gradient of its input: the scratch buffer when route_gradients says
   so, else its source's gradient; NULL for the network's input, which needs none. */
static void *grad_in(const cdn_net_t *net, int i)
{
  const cdn_layer_desc_t *ld = net->layer[i].d;
  return net->dnn->to_scratch[i] ? net->scratch : ld->src >= 0 ? net->layer[ld->src].dout : NULL;
}

static PetscErrorCode conv_plan(cdn_net_t *net, dnnl_primitive_attr_t attr, dnnl_primitive_attr_t relu_attr, int i,
                                int B, cdn_dnn_layer_t *pl)
{
  cdn_dnn_t              *d = net->dnn;
  cdn_layer_t            *l = &net->layer[i];
  const cdn_layer_desc_t *ld = l->d;
  const char             *layer_name = ld->name;
  dnnl_memory_desc_t      src, dst, wany, oihw, bias, bsrc, bdst;
  const dnnl_memory_desc_t *wf, *wb, *wd, *csrc = &src, *cdst = &dst;
  dnnl_dims_t             strides = {ld->stride, ld->stride}, pad = {ld->padding, ld->padding}, wdims;
  dnnl_convolution_desc_t cd;
  dnnl_alg_kind_t         alg = dnnl_convolution_direct;
  dnnl_primitive_attr_t   fattr;
  void                   *in = ld->src >= 0 ? net->layer[ld->src].out : ld->in_c == 1 ? (void *)net->x : (void *)net->xc;
  void                   *wfb, *wbb = NULL, *wdb;
  void                   *din = grad_in(net, i);
  int                     relu = i + 1 < net->nl && d->relu_in_conv[i + 1]; /* route_relus: the next layer */
  void                   *out = relu ? net->layer[i + 1].out : l->out;
  void                   *cin = in, *cout = out, *cdout = l->dout, *cdin = din; /* what the primitives see */

  PetscFunctionBeginUser;
  if (cdn_conv1_fits(ld)) { /* a one-channel first layer: our kernels, 3x oneDNN's speed there */
    PetscCall(new_buf(d, sizeof(float) * cdn_conv1_work_floats(ld), (void **)&pl->conv1));
    PetscFunctionReturn(0);
  }
  md4(&src, B, ld->in_c, ld->in_h, ld->in_w, dnnl_nhwc);
  md4(&dst, B, ld->out_c, ld->out_h, ld->out_w, dnnl_nhwc);
  md4(&wany, ld->out_c, ld->in_c, ld->kernel, ld->kernel, dnnl_format_tag_any);
  md4(&oihw, ld->out_c, ld->in_c, ld->kernel, ld->kernel, dnnl_oihw);
  wdims[0] = ld->out_c;
  DNNL_CALL("bias", dnnl_memory_desc_init_by_tag(&bias, 1, wdims, dnnl_f32, dnnl_x));
  fattr = relu ? relu_attr : attr;

  if (wino_fits(net, ld, B)) { /* falls back to direct if this oneDNN build has no Winograd here */
    md4(&bsrc, B, ld->in_c, ld->in_h, ld->in_w, dnnl_nChw16c);
    md4(&bdst, B, ld->out_c, ld->out_h, ld->out_w, dnnl_nChw16c);
    DNNL_CALL("convolution", dnnl_convolution_forward_desc_init(&cd, dnnl_forward_training, dnnl_convolution_winograd,
                                                                &bsrc, &wany, ld->bias ? &bias : NULL, &bdst, strides, pad, pad));
    if (dnnl_primitive_desc_create(&pl->fwd.pd, &cd, fattr, d->eng, NULL) == dnnl_success) {
      alg = dnnl_convolution_winograd, csrc = &bsrc, cdst = &bdst;
      cin = d->wino[0], cout = cdout = d->wino[1], cdin = din ? d->wino[2] : NULL;
      PetscCall(reorder(d, attr, &pl->src_blk, &src, in, &bsrc, cin, layer_name));
      PetscCall(reorder(d, attr, &pl->dst_nhwc, &bdst, cout, &dst, out, layer_name));
      PetscCall(reorder(d, attr, &pl->ddst_blk, &dst, l->dout, &bdst, cdout, layer_name));
      if (din) PetscCall(reorder(d, attr, &pl->dsrc_nhwc, &bsrc, cdin, &src, din, layer_name));
    }
  }
  if (alg == dnnl_convolution_direct) {
    DNNL_CALL("convolution", dnnl_convolution_forward_desc_init(&cd, dnnl_forward_training, alg, &src, &wany,
                                                                ld->bias ? &bias : NULL, &dst, strides, pad, pad));
    DNNL_CALL("convolution", dnnl_primitive_desc_create(&pl->fwd.pd, &cd, fattr, d->eng, NULL));
  }
  wf = dnnl_primitive_desc_query_md(pl->fwd.pd, dnnl_query_weights_md, 0);
  PetscCall(weights_in(d, wf, &oihw, ld->weight, NULL, NULL, &wfb));
  if (wfb != ld->weight) PetscCall(reorder(d, attr, &pl->w_fwd, &oihw, ld->weight, wf, wfb, layer_name));
  PetscCall(arg(d, &pl->fwd, DNNL_ARG_SRC, csrc, cin, layer_name));
  PetscCall(arg(d, &pl->fwd, DNNL_ARG_WEIGHTS, wf, wfb, layer_name));
  if (ld->bias) PetscCall(arg(d, &pl->fwd, DNNL_ARG_BIAS, &bias, ld->bias, layer_name));
  PetscCall(arg(d, &pl->fwd, DNNL_ARG_DST, cdst, cout, layer_name));

  if (din) { /* the network's input needs no gradient */
    DNNL_CALL("convolution backward data",
              dnnl_convolution_backward_data_desc_init(&cd, alg, csrc, &wany, cdst, strides, pad, pad));
    DNNL_CALL("convolution backward data", dnnl_primitive_desc_create(&pl->bwd.pd, &cd, attr, d->eng, pl->fwd.pd));
    wb = dnnl_primitive_desc_query_md(pl->bwd.pd, dnnl_query_weights_md, 0);
    PetscCall(weights_in(d, wb, &oihw, ld->weight, wf, wfb, &wbb));
    if (wbb != ld->weight && wbb != wfb) PetscCall(reorder(d, attr, &pl->w_bwd, &oihw, ld->weight, wb, wbb, layer_name));
    PetscCall(arg(d, &pl->bwd, DNNL_ARG_DIFF_DST, cdst, cdout, layer_name));
    PetscCall(arg(d, &pl->bwd, DNNL_ARG_WEIGHTS, wb, wbb, layer_name));
    PetscCall(arg(d, &pl->bwd, DNNL_ARG_DIFF_SRC, csrc, cdin, layer_name));
  }

  DNNL_CALL("convolution backward weights", dnnl_convolution_backward_weights_desc_init(
                                                &cd, alg, csrc, &wany, ld->bias ? &bias : NULL, cdst, strides, pad, pad));
  PetscCall(bwd_weights_pd(d, &cd, attr, pl->fwd.pd, ld, &pl->bwd_w.pd));
  wd = dnnl_primitive_desc_query_md(pl->bwd_w.pd, dnnl_query_diff_weights_md, 0);
  if (dnnl_memory_desc_equal(wd, &oihw)) wdb = l->gw;
  else {
    PetscCall(new_buf(d, dnnl_memory_desc_get_size(wd), &wdb));
    PetscCall(reorder(d, attr, &pl->dw, wd, wdb, &oihw, l->gw, layer_name));
  }
  PetscCall(arg(d, &pl->bwd_w, DNNL_ARG_SRC, csrc, cin, layer_name));
  PetscCall(arg(d, &pl->bwd_w, DNNL_ARG_DIFF_DST, cdst, cdout, layer_name));
  PetscCall(arg(d, &pl->bwd_w, DNNL_ARG_DIFF_WEIGHTS, wd, wdb, layer_name));
  if (ld->bias) PetscCall(arg(d, &pl->bwd_w, DNNL_ARG_DIFF_BIAS, &bias, l->gb, layer_name));
  PetscFunctionReturn(0);
}

/* Max, average (padding counted, as PyTorch) and global average pooling. */
static PetscErrorCode pool_plan(cdn_net_t *net, dnnl_primitive_attr_t attr, int i, int B, cdn_dnn_layer_t *pl)
{
  cdn_dnn_t              *d = net->dnn;
  cdn_layer_t            *l = &net->layer[i];
  const cdn_layer_desc_t *ld = l->d;
  const char             *layer_name = ld->name;
  int                     gap = ld->op == CDN_OP_GLOBALAVGPOOL;
  dnnl_memory_desc_t      src, dst;
  const dnnl_memory_desc_t *ws;
  dnnl_dims_t             strides = {gap ? 1 : ld->stride, gap ? 1 : ld->stride}, pad = {gap ? 0 : ld->padding, gap ? 0 : ld->padding};
  dnnl_dims_t             kernel = {gap ? ld->in_h : ld->kernel, gap ? ld->in_w : ld->kernel};
  dnnl_alg_kind_t         alg = ld->op == CDN_OP_MAXPOOL2D ? dnnl_pooling_max : dnnl_pooling_avg_include_padding;
  dnnl_pooling_desc_t     pd;
  void                   *wsb = NULL, *din = grad_in(net, i);

  PetscFunctionBeginUser;
  md4(&src, B, ld->in_c, ld->in_h, ld->in_w, dnnl_nhwc);
  md4(&dst, B, ld->out_c, ld->out_h, ld->out_w, dnnl_nhwc);
  /* tiling max-pools (LeNet's) run our backward, which needs no workspace, so forward need not keep one */
  d->own_pool[i] = ld->op == CDN_OP_MAXPOOL2D && ld->kernel == ld->stride && ld->padding == 0;
  DNNL_CALL("pooling", dnnl_pooling_forward_desc_init(&pd, d->own_pool[i] ? dnnl_forward_inference : dnnl_forward_training,
                                                      alg, &src, &dst, strides, kernel, pad, pad));
  DNNL_CALL("pooling", dnnl_primitive_desc_create(&pl->fwd.pd, &pd, attr, d->eng, NULL));
  ws = dnnl_primitive_desc_query_md(pl->fwd.pd, dnnl_query_workspace_md, 0);
  if (ws && dnnl_memory_desc_get_size(ws)) PetscCall(new_buf(d, dnnl_memory_desc_get_size(ws), &wsb));
  PetscCall(arg(d, &pl->fwd, DNNL_ARG_SRC, &src, net->layer[ld->src].out, layer_name));
  PetscCall(arg(d, &pl->fwd, DNNL_ARG_DST, &dst, l->out, layer_name));
  if (wsb) PetscCall(arg(d, &pl->fwd, DNNL_ARG_WORKSPACE, ws, wsb, layer_name));

  if (d->own_pool[i]) PetscFunctionReturn(0);
  DNNL_CALL("pooling backward", dnnl_pooling_backward_desc_init(&pd, alg, &src, &dst, strides, kernel, pad, pad));
  DNNL_CALL("pooling backward", dnnl_primitive_desc_create(&pl->bwd.pd, &pd, attr, d->eng, pl->fwd.pd));
  PetscCall(arg(d, &pl->bwd, DNNL_ARG_DIFF_DST, &dst, l->dout, layer_name));
  PetscCall(arg(d, &pl->bwd, DNNL_ARG_DIFF_SRC, &src, din, layer_name));
  if (wsb) PetscCall(arg(d, &pl->bwd, DNNL_ARG_WORKSPACE, ws, wsb, layer_name));
  PetscFunctionReturn(0);
}

/* NHWC -> PyTorch's flatten order [B][C*H*W] (which is NCHW), and back for the gradient. */
static PetscErrorCode flatten_plan(cdn_net_t *net, dnnl_primitive_attr_t attr, int i, int B, cdn_dnn_layer_t *pl)
{
  cdn_layer_t            *l = &net->layer[i];
  const cdn_layer_desc_t *ld = l->d;
  dnnl_memory_desc_t      blk, flat;

  PetscFunctionBeginUser;
  md4(&blk, B, ld->in_c, ld->in_h, ld->in_w, dnnl_nhwc);
  md4(&flat, B, ld->in_c, ld->in_h, ld->in_w, dnnl_nchw);
  PetscCall(reorder(net->dnn, attr, &pl->fwd, &blk, net->layer[ld->src].out, &flat, l->out, ld->name));
  PetscCall(reorder(net->dnn, attr, &pl->bwd, &flat, l->dout, &blk, grad_in(net, i), ld->name));
  PetscFunctionReturn(0);
}

/* Which layers hand their input gradient to the scratch buffer: the same walk as the backward
   pass, whose order never depends on the data. */
static void route_gradients(cdn_net_t *net)
{
  char written[CDN_MAX_LAYERS] = {0};
  for (int i = net->nl - 1; i >= 0; i--) {
    const cdn_layer_desc_t *d = &net->desc.layer[i];
    if (d->src >= 0) net->dnn->to_scratch[i] = written[d->src], written[d->src] = 1;
    if (d->op == CDN_OP_ADD && d->src2 >= 0) written[d->src2] = 1;
  }
}

/* Which ReLUs their neighbours do (dnn.h): a ReLU right after the conv, BatchNorm or add it reads, and a ReLU read
   by an own max-pool (tiling, dnn_run.c) whose gradient goes straight to its input's, each only
   when the ReLU is the conv's sole reader, and the max-pool the ReLU's. */
static void route_relus(cdn_net_t *net)
{
  cdn_dnn_t *d = net->dnn;
  int        readers[CDN_MAX_LAYERS] = {0};
  for (int i = 0; i < net->nl; i++) {
    const cdn_layer_desc_t *ld = &net->desc.layer[i];
    if (ld->src >= 0) readers[ld->src]++;
    if (ld->op == CDN_OP_ADD && ld->src2 >= 0) readers[ld->src2]++;
  }
  for (int i = 0; i < net->nl; i++) {
    const cdn_layer_desc_t *ld = &net->desc.layer[i];
    int                     s  = ld->src;
    if (ld->op == CDN_OP_RELU && s == i - 1 && s >= 0 && net->desc.layer[s].op == CDN_OP_CONV2D && readers[s] == 1)
      d->relu_in_conv[i] = 1;
    if (ld->op == CDN_OP_RELU && s == i - 1 && s >= 0 && d->blocked[s] && readers[s] == 1) {
      d->relu_in_bn[i]  = net->desc.layer[s].op == CDN_OP_BATCHNORM;
      d->relu_in_add[i] = net->desc.layer[s].op == CDN_OP_ADD && net->desc.layer[s].src != net->desc.layer[s].src2;
    }
    if (ld->op == CDN_OP_MAXPOOL2D && ld->kernel == ld->stride && ld->padding == 0 && s >= 0 &&
        net->desc.layer[s].op == CDN_OP_RELU && d->blocked[s] && readers[s] == 1 && net->desc.layer[s].src >= 0 &&
        !d->to_scratch[s])
      d->relu_in_pool[s] = 1;
  }
  /* the add of a fused add + ReLU normalises a BatchNorm that is its first input and has no other reader */
  for (int i = 1; i < net->nl; i++) {
    int s = net->desc.layer[i - 1].src;
    if (d->relu_in_add[i] && s >= 0 && net->desc.layer[s].op == CDN_OP_BATCHNORM && readers[s] == 1)
      d->bn_in_add[s] = 1;
  }
}

static PetscErrorCode check_stack(const cdn_net_t *net)
{
  PetscFunctionBeginUser;
  for (int i = 0; i < net->nl; i++) {
    const cdn_layer_desc_t *d = &net->desc.layer[i];
    int                     blk = cdn_dnn_blocked(net, i), ok;
    switch (d->op) {
    case CDN_OP_CONV2D: ok = blk; break;
    case CDN_OP_MAXPOOL2D:
    case CDN_OP_AVGPOOL2D:
    case CDN_OP_GLOBALAVGPOOL:
    case CDN_OP_BATCHNORM: ok = blk && d->src >= 0; break;
    case CDN_OP_ADD: ok = blk && d->src2 >= 0 && cdn_dnn_blocked(net, d->src2); break;
    case CDN_OP_FLATTEN: ok = d->src >= 0 && cdn_dnn_blocked(net, d->src); break;
    case CDN_OP_DROPOUT: ok = !blk; break; /* masks are drawn in PyTorch's element order */
    default: ok = 1;
    }
    PetscCheck(ok, PETSC_COMM_SELF, CDN_ERR_INPUT, "%s: layer %s is not supported by the oneDNN engine here",
               net->desc.arch, d->name);
  }
  PetscFunctionReturn(0);
}

/* The k-th of layer i's six primitives; i = -1, k = 0: the input reorder. */
static cdn_dnn_op_t *op_at(cdn_dnn_t *d, int p, int i, int k)
{
  cdn_dnn_layer_t *l = &d->plan[p].l[i < 0 ? 0 : i];
  cdn_dnn_op_t    *ops[CDN_DNN_LAYER_OPS] = {&l->fwd,     &l->bwd,      &l->bwd_w,    &l->w_fwd,    &l->w_bwd,
                                             &l->dw,      &l->src_blk,  &l->dst_nhwc, &l->ddst_blk, &l->dsrc_nhwc};
  if (i < 0) return k ? NULL : &d->plan[p].in;
  return ops[k];
}

/* After every plan exists: one scratchpad as large as the largest any primitive asked for, bound
   to each, then the primitives themselves. */
static PetscErrorCode finish(cdn_net_t *net)
{
  cdn_dnn_t  *d = net->dnn;
  size_t      most = 0;
  const char *layer_name = "";

  PetscFunctionBeginUser;
  for (int p = 0; p < d->nplan; p++)
    for (int i = -1; i < net->nl; i++)
      for (int k = 0; k < CDN_DNN_LAYER_OPS; k++) {
        cdn_dnn_op_t *op = op_at(d, p, i, k);
        if (op && op->pd) {
          size_t sz = dnnl_memory_desc_get_size(dnnl_primitive_desc_query_md(op->pd, dnnl_query_scratchpad_md, 0));
          if (sz > most) most = sz;
        }
      }
  PetscCall(new_buf(d, most, &d->scratch));
  for (int p = 0; p < d->nplan; p++)
    for (int i = -1; i < net->nl; i++)
      for (int k = 0; k < CDN_DNN_LAYER_OPS; k++) {
        cdn_dnn_op_t             *op = op_at(d, p, i, k);
        const dnnl_memory_desc_t *sp;
        if (!op || !op->pd) continue;
        layer_name = i < 0 ? "input" : net->desc.layer[i].name;
        sp         = dnnl_primitive_desc_query_md(op->pd, dnnl_query_scratchpad_md, 0);
        if (dnnl_memory_desc_get_size(sp)) PetscCall(arg(d, op, DNNL_ARG_SCRATCHPAD, sp, d->scratch, layer_name));
        DNNL_CALL("primitive", dnnl_primitive_create(&op->p, op->pd));
        DNNL_CALL("primitive descriptor", dnnl_primitive_desc_destroy(op->pd));
        op->pd = NULL;
      }
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_dnn_create(cdn_net_t *net)
{
  cdn_dnn_t            *d;
  dnnl_primitive_attr_t attr = NULL, relu_attr = NULL;
  dnnl_post_ops_t       relu_ops = NULL;
  const char           *layer_name = "";
  int                   sizes[CDN_DNN_MAX_PLANS] = {net->cfg.batch_size, net->maxb};

  PetscFunctionBeginUser;
  /* Below AVX2 oneDNN 2.6 runs its SSE4.1 kernels, and its NHWC convolution there crashed (a segfault
     inside the generated code, seen with ONEDNN_MAX_CPU_ISA=SSE41): refuse with a message instead. */
  PetscCheck((dnnl_get_effective_cpu_isa() & dnnl_cpu_isa_avx2) == dnnl_cpu_isa_avx2, PETSC_COMM_SELF, PETSC_ERR_SUP,
             "%s: the convolution engine needs a CPU with AVX2 (x86-64-v3); oneDNN offers only older kernels here "
             "(check ONEDNN_MAX_CPU_ISA)", net->desc.arch);
  PetscCall(check_stack(net));
  PetscCall(PetscCalloc1(1, &d));
  net->dnn = d;
  if (PetscInitializeCalled) /* nn works without PETSc initialised (test_layers); then no options */
    PetscCall(PetscOptionsGetBool(NULL, NULL, "-cnndyn_test_dnn_guard", &d->guard, NULL));
  /* a thread team per rank as the spec says (1 by default), the same for OpenBLAS */
  omp_set_num_threads(net->cfg.threads > 0 ? net->cfg.threads : 1);
  DNNL_CALL("engine", dnnl_engine_create(&d->eng, dnnl_cpu, 0));
  DNNL_CALL("stream", dnnl_stream_create(&d->stream, d->eng, dnnl_stream_default_flags));
  DNNL_CALL("attributes", dnnl_primitive_attr_create(&attr));
  DNNL_CALL("attributes", dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user));
  route_gradients(net);
  for (int i = 0; i < net->nl; i++) d->blocked[i] = (char)cdn_dnn_blocked(net, i), d->floats[i] = cdn_dnn_out_floats(net, i);
  route_relus(net);
  /* the same attributes plus a ReLU post-op, for convolutions followed by a fused ReLU */
  DNNL_CALL("attributes", dnnl_primitive_attr_clone(&relu_attr, attr));
  DNNL_CALL("post-ops", dnnl_post_ops_create(&relu_ops));
  DNNL_CALL("post-ops", dnnl_post_ops_append_eltwise(relu_ops, 1.0f, dnnl_eltwise_relu, 0.0f, 0.0f));
  DNNL_CALL("post-ops", dnnl_primitive_attr_set_post_ops(relu_attr, relu_ops));
  { /* the Winograd convolutions' shared nChw16c buffers, as large as the largest needs */
    size_t in = 0, out = 0;
    for (int k = 0; k < CDN_DNN_MAX_PLANS; k++)
      for (int i = 0; i < net->nl; i++) {
        const cdn_layer_desc_t *ld = &net->desc.layer[i];
        if (ld->op != CDN_OP_CONV2D || !wino_fits(net, ld, sizes[k])) continue;
        in  = PetscMax(in, wino_bytes(sizes[k], ld->in_c, ld->in_h, ld->in_w));
        out = PetscMax(out, wino_bytes(sizes[k], ld->out_c, ld->out_h, ld->out_w));
      }
    if (in) {
      PetscCall(new_buf(d, in, &d->wino[0]));
      PetscCall(new_buf(d, out, &d->wino[1]));
      PetscCall(new_buf(d, in, &d->wino[2]));
    }
  }
  for (int k = 0; k < CDN_DNN_MAX_PLANS; k++) {
    cdn_dnn_plan_t *p = &d->plan[d->nplan];
    if (k && sizes[k] == sizes[0]) continue;
    p->B = sizes[k], d->nplan++;
    if (net->desc.in_c > 1) {
      dnnl_memory_desc_t nchw, nhwc;
      md4(&nchw, p->B, net->desc.in_c, net->desc.in_h, net->desc.in_w, dnnl_nchw);
      md4(&nhwc, p->B, net->desc.in_c, net->desc.in_h, net->desc.in_w, dnnl_nhwc);
      PetscCall(reorder(d, attr, &p->in, &nchw, net->x, &nhwc, net->xc, "input"));
    }
    for (int i = 0; i < net->nl; i++) {
      switch (net->desc.layer[i].op) {
      case CDN_OP_CONV2D: PetscCall(conv_plan(net, attr, relu_attr, i, p->B, &p->l[i])); break;
      case CDN_OP_MAXPOOL2D:
      case CDN_OP_AVGPOOL2D:
      case CDN_OP_GLOBALAVGPOOL: PetscCall(pool_plan(net, attr, i, p->B, &p->l[i])); break;
      case CDN_OP_FLATTEN: PetscCall(flatten_plan(net, attr, i, p->B, &p->l[i])); break;
      default: break;
      }
    }
  }
  PetscCall(finish(net));
  DNNL_CALL("attributes", dnnl_primitive_attr_destroy(attr));
  DNNL_CALL("attributes", dnnl_primitive_attr_destroy(relu_attr));
  DNNL_CALL("post-ops", dnnl_post_ops_destroy(relu_ops));
  PetscFunctionReturn(0);
}

void cdn_dnn_destroy(cdn_net_t *net)
{
  cdn_dnn_t *d = net->dnn;
  if (!d) return;
  for (int p = 0; p < d->nplan; p++)
    for (int i = -1; i < net->nl; i++)
      for (int k = 0; k < CDN_DNN_LAYER_OPS; k++) {
        cdn_dnn_op_t *op = op_at(d, p, i, k);
        if (!op) continue;
        if (op->p) (void)dnnl_primitive_destroy(op->p);
        if (op->pd) (void)dnnl_primitive_desc_destroy(op->pd);
      }
  for (int k = 0; k < d->nmem; k++) (void)dnnl_memory_destroy(d->mem[k]);
  for (int k = 0; k < d->nbufs; k++) free(d->bufs[k]);
  (void)PetscFree(d->mem);
  (void)PetscFree2(d->bufs, d->buf_bytes);
  if (d->stream) (void)dnnl_stream_destroy(d->stream);
  if (d->eng) (void)dnnl_engine_destroy(d->eng);
  (void)PetscFree(d);
  net->dnn = NULL;
}
