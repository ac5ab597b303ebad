/* 2-D convolution (stride, zero padding, optional bias). The oneDNN engine runs oneDNN's
   primitives (conv_plan; Winograd where it pays, conv_small.c's or conv_dgrad.c's kernels on a
   one-channel first layer, conv_dgrad.c's input gradient with 8 or fewer input channels). The
   reference is im2col + one sgemm for the whole batch: with activations stored [C][B][H][W] the
   GEMM's N dimension is B*OH*OW, large enough for OpenBLAS to run near peak even when O is 6. */
#include <cblas.h>
#include <limits.h>
#include <string.h>
#include "conv_small.h"
#include "dnn.h"
#include "reference.h"

static inline int out_len(int n, int K, int S, int pad) { return (n + 2 * pad - K) / S + 1; }

/* Range [lo, hi) of output columns ow whose input column ow*S + kj - pad lies inside [0, W). */
static inline void valid_cols(int OW, int W, int kj, int S, int pad, int *lo, int *hi)
{
  int first = pad - kj, last = W - 1 + pad - kj; /* ow*S must lie in [first, last] */
  *lo = first > 0 ? (first + S - 1) / S : 0;
  *hi = last < 0 ? 0 : last / S + 1;
  if (*hi > OW) *hi = OW;
  if (*hi < *lo) *hi = *lo;
}

/* col[(c,ki,kj)][b][oh][ow] = in[c][b][oh*S+ki-pad][ow*S+kj-pad], zero outside the image */
static void im2col(float *col, const float *in, int B, int C, int H, int W, int K, int S, int pad)
{
  int    OH = out_len(H, K, S, pad), OW = out_len(W, K, S, pad);
  size_t N  = (size_t)B * OH * OW;
  for (int c = 0; c < C; c++)
    for (int ki = 0; ki < K; ki++)
      for (int kj = 0; kj < K; kj++) {
        float *dst = col + ((size_t)(c * K + ki) * K + kj) * N;
        int    lo, hi;
        valid_cols(OW, W, kj, S, pad, &lo, &hi);
        for (int b = 0; b < B; b++) {
          const float *src = in + ((size_t)c * B + b) * H * W;
          for (int oh = 0; oh < OH; oh++, dst += OW) {
            int ih = oh * S + ki - pad;
            if (ih < 0 || ih >= H) {
              memset(dst, 0, sizeof(float) * OW);
              continue;
            }
            const float *row = src + ih * W + kj - pad;
            for (int ow = 0; ow < lo; ow++) dst[ow] = 0;
            if (S == 1) memcpy(dst + lo, row + lo, sizeof(float) * (hi - lo));
            else
              for (int ow = lo; ow < hi; ow++) dst[ow] = row[ow * S];
            for (int ow = hi; ow < OW; ow++) dst[ow] = 0;
          }
        }
      }
}

/* The adjoint of im2col: din = sum over kernel offsets of the matching col entries. */
static void col2im(float *din, const float *col, int B, int C, int H, int W, int K, int S, int pad)
{
  int    OH = out_len(H, K, S, pad), OW = out_len(W, K, S, pad);
  size_t N  = (size_t)B * OH * OW;
  memset(din, 0, sizeof(float) * (size_t)C * B * H * W);
  for (int c = 0; c < C; c++)
    for (int ki = 0; ki < K; ki++)
      for (int kj = 0; kj < K; kj++) {
        const float *src = col + ((size_t)(c * K + ki) * K + kj) * N;
        int          lo, hi;
        valid_cols(OW, W, kj, S, pad, &lo, &hi);
        for (int b = 0; b < B; b++) {
          float *dst = din + ((size_t)c * B + b) * H * W;
          for (int oh = 0; oh < OH; oh++, src += OW) {
            int ih = oh * S + ki - pad;
            if (ih < 0 || ih >= H) continue;
            float *d = dst + ih * W + kj - pad;
            for (int ow = lo; ow < hi; ow++) d[ow * S] += src[ow];
          }
        }
      }
}

void cdn_conv2d_forward(float *out, float *col, const float *in, const float *w, const float *b, int B, int C,
                        int H, int W, int O, int K, int S, int pad)
{
  int    OH = out_len(H, K, S, pad), OW = out_len(W, K, S, pad), CKK = C * K * K;
  size_t N  = (size_t)B * OH * OW;
  im2col(col, in, B, C, H, W, K, S, pad);
  for (int o = 0; o < O; o++)
    for (size_t j = 0; j < N; j++) out[o * N + j] = b ? b[o] : 0;
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, O, (int)N, CKK, 1.0f, w, CKK, col, (int)N, 1.0f, out,
              (int)N);
}

void cdn_conv2d_backward(float *din, float *dw, float *db, float *dcol, const float *dout, const float *col,
                         const float *w, int B, int C, int H, int W, int O, int K, int S, int pad)
{
  int    OH = out_len(H, K, S, pad), OW = out_len(W, K, S, pad), CKK = C * K * K;
  size_t N  = (size_t)B * OH * OW;
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, O, CKK, (int)N, 1.0f, dout, (int)N, col, (int)N, 0.0f, dw,
              CKK);
  for (int o = 0; db && o < O; o++) {
    double s = 0;
    for (size_t j = 0; j < N; j++) s += dout[o * N + j];
    db[o] = (float)s;
  }
  if (!din) return;
  /* dw is done with col, so dcol may overwrite it */
  cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, CKK, (int)N, O, 1.0f, w, CKK, dout, (int)N, 0.0f, dcol,
              (int)N);
  col2im(din, dcol, B, C, H, W, K, S, pad);
}

/* ---- the oneDNN engine ---- */

/* Weights in the layout a primitive chose: the parameter block itself when it is PyTorch's, else a
   buffer of ours (reused when an earlier primitive of the layer chose the same layout). */
static PetscErrorCode weights_in(cdn_dnn_t *d, const dnnl_memory_desc_t *want, const dnnl_memory_desc_t *oihw,
                                 float *master, const dnnl_memory_desc_t *have, void *have_buf, void **out)
{
  PetscFunctionBeginUser;
  if (dnnl_memory_desc_equal(want, oihw)) *out = master;
  else if (have && dnnl_memory_desc_equal(want, have)) *out = have_buf;
  else PetscCall(cdn_dnn_buf(d, dnnl_memory_desc_get_size(want), out));
  PetscFunctionReturn(0);
}

/* Winograd F(4x4, 3x3) (oneDNN's jit_wino_4x3, AVX-512 only, on nChw16c) for 3x3 stride-1
   convolutions with 24 or more channels in and out: forward and both backwards took 0.5-0.86 of
   direct's time from 32 to 256 channels on a net kept in nChw16c, 0.55-0.95 on NHWC with the four
   reorders around them; at 24 channels (NHWC: 24 is no multiple of 16) 0.85-1.14 by shape and
   run; at 16 channels they lost on both layouts (1.01-1.44), and at 2x2 outputs too
   (bench/train/bench_conv). Results differ from direct by about 1e-6 relative. Not in the 256-item
   evaluation plan that exists beside smaller training batches: there its buffers and scratchpad
   took 160 MB more for a width-1 VGG, to save 4% of a run's time. (Evaluation's last, smaller chunk
   runs in the training plan, Winograd included.) */
int cdn_conv_wino_fits(const cdn_net_t *net, const cdn_layer_desc_t *ld, int B)
{
  dnnl_cpu_isa_t isa = dnnl_get_effective_cpu_isa();
  return B == net->cfg.batch_size && !net->cfg.direct_conv && !net->cfg.reference &&
         (isa & dnnl_cpu_isa_avx512_core) == dnnl_cpu_isa_avx512_core &&
         ld->kernel == 3 && ld->stride == 1 && ld->in_c >= 24 && ld->out_c >= 24 && ld->out_h >= 4 && ld->out_w >= 4;
}

/* conv_dgrad.c's image-lane kernels, on the same ISA condition as Winograd (ONEDNN_MAX_CPU_ISA=AVX2
   keeps oneDNN's backward and conv_small.c's forward, so the AVX2 test variants run those). */
static int lanes_isa(const cdn_net_t *net)
{
  dnnl_cpu_isa_t isa = dnnl_get_effective_cpu_isa();
  return !net->cfg.reference && (isa & dnnl_cpu_isa_avx512_core) == dnnl_cpu_isa_avx512_core;
}

static size_t wino_bytes(int B, int c, int h, int w)
{
  dnnl_memory_desc_t md;
  cdn_dnn_md4(&md, B, c, h, w, dnnl_nChw16c);
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

static PetscErrorCode conv_plan(cdn_net_t *net, int i, int B, cdn_dnn_layer_t *pl)
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
  dnnl_primitive_attr_t   attr = d->attr, fattr = attr, relu_attr = NULL;
  dnnl_post_ops_t         relu_ops = NULL;
  /* the network's input: NCHW on nChw16c (oneDNN's first-layer kernels read that), else NHWC (dnn.c;
     with one channel the two are the same bytes, net->x, but described as NCHW beside an NHWC
     output oneDNN 2.6 has only its reference kernel: 80x slower on LeNet's conv1) */
  int                     plain_in = ld->src < 0 && (d->blocks16 || ld->in_c == 1);
  void                   *in = ld->src >= 0 ? net->layer[ld->src].out : plain_in ? (void *)net->x : (void *)net->xc;
  void                   *wfb, *wbb = NULL, *wdb;
  void                   *din = cdn_dnn_grad_in(net, i);
  int                     relu = l->fused >= 0; /* conv_fuse: the ReLU after it */
  void                   *out = relu ? net->layer[l->fused].out : l->out;
  void                   *cin = in, *cout = out, *cdout = l->dout, *cdin = din; /* what the primitives see */

  PetscFunctionBeginUser;
  /* a one-channel first layer on NHWC: our kernels, 3x oneDNN's speed there. On nChw16c oneDNN's
     first-layer kernels (NCHW in) took half our kernels' time (ResNet-8's 16-channel stem: 0.49
     against 1.1 ms a step of 64, perf) and gave the same results. */
  if (cdn_conv1_fits(ld) && !d->blocks16) {
    PetscCall(cdn_dnn_buf(d, sizeof(float) * cdn_conv1_work_floats(ld), (void **)&pl->conv1));
    if (lanes_isa(net) && cdn_conv1_lanes_fits(ld))
      PetscCall(cdn_dnn_buf(d, sizeof(float) * cdn_conv1_lanes_work_floats(ld, B), (void **)&pl->lanes));
    PetscFunctionReturn(0);
  }
  cdn_dnn_md4(&src, B, ld->in_c, ld->in_h, ld->in_w, ld->src >= 0 || !d->blocks16 ? cdn_dnn_tag(d) : dnnl_nchw);
  cdn_dnn_md4(&dst, B, ld->out_c, ld->out_h, ld->out_w, cdn_dnn_tag(d));
  cdn_dnn_md4(&wany, ld->out_c, ld->in_c, ld->kernel, ld->kernel, dnnl_format_tag_any);
  cdn_dnn_md4(&oihw, ld->out_c, ld->in_c, ld->kernel, ld->kernel, dnnl_oihw);
  wdims[0] = ld->out_c;
  DNNL_CALL("bias", dnnl_memory_desc_init_by_tag(&bias, 1, wdims, dnnl_f32, dnnl_x));
  if (relu) { /* the same attributes plus a ReLU post-op */
    DNNL_CALL("attributes", dnnl_primitive_attr_clone(&relu_attr, attr));
    DNNL_CALL("post-ops", dnnl_post_ops_create(&relu_ops));
    DNNL_CALL("post-ops", dnnl_post_ops_append_eltwise(relu_ops, 1.0f, dnnl_eltwise_relu, 0.0f, 0.0f));
    DNNL_CALL("post-ops", dnnl_primitive_attr_set_post_ops(relu_attr, relu_ops));
    fattr = relu_attr;
  }

  if (cdn_conv_wino_fits(net, ld, B)) { /* falls back to direct if this oneDNN build has no Winograd here */
    cdn_dnn_md4(&bsrc, B, ld->in_c, ld->in_h, ld->in_w, dnnl_nChw16c);
    cdn_dnn_md4(&bdst, B, ld->out_c, ld->out_h, ld->out_w, dnnl_nChw16c);
    DNNL_CALL("convolution", dnnl_convolution_forward_desc_init(&cd, dnnl_forward_training, dnnl_convolution_winograd,
                                                                &bsrc, &wany, ld->bias ? &bias : NULL, &bdst, strides, pad, pad));
    if (dnnl_primitive_desc_create(&pl->fwd.pd, &cd, fattr, d->eng, NULL) == dnnl_success) {
      alg = dnnl_convolution_winograd, csrc = &bsrc, cdst = &bdst;
      if (!dnnl_memory_desc_equal(&src, &bsrc)) { /* NHWC: copies in d->wino */
        cin = d->wino[0], cdin = din ? d->wino[2] : NULL;
        PetscCall(cdn_dnn_reorder(d, &pl->src_blk, &src, in, &bsrc, cin, layer_name));
        if (din) PetscCall(cdn_dnn_reorder(d, &pl->dsrc_nhwc, &bsrc, cdin, &src, din, layer_name));
      }
      if (!dnnl_memory_desc_equal(&dst, &bdst)) {
        cout = cdout = d->wino[1];
        PetscCall(cdn_dnn_reorder(d, &pl->dst_nhwc, &bdst, cout, &dst, out, layer_name));
        PetscCall(cdn_dnn_reorder(d, &pl->ddst_blk, &dst, l->dout, &bdst, cdout, layer_name));
      }
    }
  }
  if (alg == dnnl_convolution_direct) {
    DNNL_CALL("convolution", dnnl_convolution_forward_desc_init(&cd, dnnl_forward_training, alg, &src, &wany,
                                                                ld->bias ? &bias : NULL, &dst, strides, pad, pad));
    DNNL_CALL("convolution", dnnl_primitive_desc_create(&pl->fwd.pd, &cd, fattr, d->eng, NULL));
  }
  if (relu_attr) { /* the primitive descriptor holds its own copy */
    DNNL_CALL("attributes", dnnl_primitive_attr_destroy(relu_attr));
    DNNL_CALL("post-ops", dnnl_post_ops_destroy(relu_ops));
  }
  wf = dnnl_primitive_desc_query_md(pl->fwd.pd, dnnl_query_weights_md, 0);
  PetscCall(weights_in(d, wf, &oihw, ld->weight, NULL, NULL, &wfb));
  if (wfb != ld->weight) PetscCall(cdn_dnn_reorder(d, &pl->w_fwd, &oihw, ld->weight, wf, wfb, layer_name));
  PetscCall(cdn_dnn_arg(d, &pl->fwd, DNNL_ARG_SRC, csrc, cin, layer_name));
  PetscCall(cdn_dnn_arg(d, &pl->fwd, DNNL_ARG_WEIGHTS, wf, wfb, layer_name));
  if (ld->bias) PetscCall(cdn_dnn_arg(d, &pl->fwd, DNNL_ARG_BIAS, &bias, ld->bias, layer_name));
  PetscCall(cdn_dnn_arg(d, &pl->fwd, DNNL_ARG_DST, cdst, cout, layer_name));

  if (din && lanes_isa(net) && cdn_conv_dgrad_fits(ld))
    PetscCall(cdn_dnn_buf(d, sizeof(float) * cdn_conv_dgrad_work_floats(ld, B), (void **)&pl->lanes));
  else if (din) { /* the network's input needs no gradient */
    DNNL_CALL("convolution backward data",
              dnnl_convolution_backward_data_desc_init(&cd, alg, csrc, &wany, cdst, strides, pad, pad));
    DNNL_CALL("convolution backward data", dnnl_primitive_desc_create(&pl->bwd.pd, &cd, attr, d->eng, pl->fwd.pd));
    wb = dnnl_primitive_desc_query_md(pl->bwd.pd, dnnl_query_weights_md, 0);
    PetscCall(weights_in(d, wb, &oihw, ld->weight, wf, wfb, &wbb));
    if (wbb != ld->weight && wbb != wfb) PetscCall(cdn_dnn_reorder(d, &pl->w_bwd, &oihw, ld->weight, wb, wbb, layer_name));
    PetscCall(cdn_dnn_arg(d, &pl->bwd, DNNL_ARG_DIFF_DST, cdst, cdout, layer_name));
    PetscCall(cdn_dnn_arg(d, &pl->bwd, DNNL_ARG_WEIGHTS, wb, wbb, layer_name));
    PetscCall(cdn_dnn_arg(d, &pl->bwd, DNNL_ARG_DIFF_SRC, csrc, cdin, layer_name));
  }

  DNNL_CALL("convolution backward weights", dnnl_convolution_backward_weights_desc_init(
                                                &cd, alg, csrc, &wany, ld->bias ? &bias : NULL, cdst, strides, pad, pad));
  PetscCall(bwd_weights_pd(d, &cd, attr, pl->fwd.pd, ld, &pl->bwd_w.pd));
  wd = dnnl_primitive_desc_query_md(pl->bwd_w.pd, dnnl_query_diff_weights_md, 0);
  if (dnnl_memory_desc_equal(wd, &oihw)) wdb = l->gw;
  else {
    PetscCall(cdn_dnn_buf(d, dnnl_memory_desc_get_size(wd), &wdb));
    PetscCall(cdn_dnn_reorder(d, &pl->dw, wd, wdb, &oihw, l->gw, layer_name));
  }
  PetscCall(cdn_dnn_arg(d, &pl->bwd_w, DNNL_ARG_SRC, csrc, cin, layer_name));
  PetscCall(cdn_dnn_arg(d, &pl->bwd_w, DNNL_ARG_DIFF_DST, cdst, cdout, layer_name));
  PetscCall(cdn_dnn_arg(d, &pl->bwd_w, DNNL_ARG_DIFF_WEIGHTS, wd, wdb, layer_name));
  if (ld->bias) PetscCall(cdn_dnn_arg(d, &pl->bwd_w, DNNL_ARG_DIFF_BIAS, &bias, l->gb, layer_name));
  PetscFunctionReturn(0);
}
PetscErrorCode cdn_conv_wino_buffers(cdn_net_t *net, const int *sizes, int nsizes)
{
  size_t in = 0, out = 0; /* as large as the largest Winograd convolution needs */

  PetscFunctionBeginUser;
  for (int k = 0; k < nsizes; k++)
    for (int i = 0; i < net->nl; i++) {
      const cdn_layer_desc_t *ld = &net->desc.layer[i];
      if (ld->op != CDN_OP_CONV2D || !cdn_conv_wino_fits(net, ld, sizes[k]) || (net->dnn->blocks16 && ld->src >= 0))
        continue; /* on nChw16c only a convolution of the network's input reorders */
      in  = PetscMax(in, wino_bytes(sizes[k], ld->in_c, ld->in_h, ld->in_w));
      out = PetscMax(out, wino_bytes(sizes[k], ld->out_c, ld->out_h, ld->out_w));
    }
  if (in) {
    PetscCall(cdn_dnn_buf(net->dnn, in, &net->dnn->wino[0]));
    PetscCall(cdn_dnn_buf(net->dnn, out, &net->dnn->wino[1]));
    PetscCall(cdn_dnn_buf(net->dnn, in, &net->dnn->wino[2]));
  }
  PetscFunctionReturn(0);
}

/* A ReLU that is the conv's sole reader becomes its post-op (conv_small's kernels take it too):
   the conv writes the ReLU's output, its own output buffer goes unused; the ReLU's backward stays
   the ReLU's. */
static void conv_fuse(cdn_net_t *net, int i) { net->layer[i].fused = cdn_dnn_relu_after(net, i); }

static void conv_run_fwd(const cdn_dnn_step_t *s, int i)
{
  cdn_net_t       *net = s->net;
  cdn_layer_t     *l   = &net->layer[i];
  cdn_dnn_layer_t *pl  = &s->plan->l[i];
  cdn_dnn_t       *d   = net->dnn;
  if (pl->conv1) {
    int    relu = l->fused >= 0;
    float *out  = relu ? net->layer[l->fused].out : l->out;
    if (pl->lanes) cdn_conv1_lanes_forward(out, cdn_dnn_src(net, i), l->d, s->B, relu, pl->lanes);
    else cdn_conv1_forward(out, cdn_dnn_src(net, i), l->d, s->B, relu, pl->conv1);
  } else {
    cdn_dnn_run(d, &pl->w_fwd, "weight reorder"), cdn_dnn_run(d, &pl->src_blk, "Winograd input reorder");
    cdn_dnn_run(d, &pl->fwd, "convolution"), cdn_dnn_run(d, &pl->dst_nhwc, "Winograd output reorder");
  }
}

static int conv_run_bwd(const cdn_dnn_step_t *s, int i, float *din)
{
  cdn_net_t       *net = s->net;
  cdn_layer_t     *l   = &net->layer[i];
  cdn_dnn_layer_t *pl  = &s->plan->l[i];
  cdn_dnn_t       *d   = net->dnn;
  if (pl->conv1) { /* the first layer: no input gradient */
    if (pl->lanes)
      cdn_conv1_lanes_backward_weights(l->gw, l->d->bias ? l->gb : NULL, l->dout, cdn_dnn_src(net, i), l->d, s->B,
                                       pl->lanes);
    else cdn_conv1_backward_weights(l->gw, l->d->bias ? l->gb : NULL, l->dout, cdn_dnn_src(net, i), l->d, s->B, pl->conv1);
    return 0;
  }
  cdn_dnn_run(d, &pl->ddst_blk, "Winograd gradient reorder");
  if (din && pl->lanes) cdn_conv_dgrad(din, l->dout, l->d->weight, l->d, s->B, pl->lanes);
  else if (din) {
    cdn_dnn_run(d, &pl->w_bwd, "weight reorder"), cdn_dnn_run(d, &pl->bwd, "convolution backward data");
    cdn_dnn_run(d, &pl->dsrc_nhwc, "Winograd gradient reorder");
  }
  cdn_dnn_run(d, &pl->src_blk, "Winograd input reorder"); /* forward's copy is gone: later layers reused d->wino */
  cdn_dnn_run(d, &pl->bwd_w, "convolution backward weights"), cdn_dnn_run(d, &pl->dw, "weight gradient reorder");
  return 0;
}

/* ---- the operation's table ---- */

static int conv_shape(cdn_layer_desc_t *d)
{
  if (d->kernel < 1 || d->stride < 1 || d->padding < 0 || d->out_c < 1) return 0;
  d->out_h = out_len(d->in_h, d->kernel, d->stride, d->padding);
  d->out_w = out_len(d->in_w, d->kernel, d->stride, d->padding);
  return d->in_h + 2 * d->padding >= d->kernel && d->in_w + 2 * d->padding >= d->kernel;
}
/* the im2col matrix: the reference kernels' only (oneDNN keeps its own workspaces; at the evaluation
   batch it is LeNet-5's largest buffer, 35 MB, which every rank would carry for nothing) */
static size_t conv_work(const cdn_layer_desc_t *d, int B, int reference)
{
  if (!reference) return 0;
  return sizeof(float) * (size_t)d->in_c * d->kernel * d->kernel * B * d->out_h * d->out_w;
}
static void conv_fwd(cdn_layer_t *l, const float *in, int B, PetscBool train, cdn_rng_t *rng)
{
  const cdn_layer_desc_t *d = l->d;
  cdn_conv2d_forward(l->out, l->work, in, d->weight, d->bias, B, d->in_c, d->in_h, d->in_w, d->out_c, d->kernel,
                     d->stride, d->padding);
}
static void conv_bwd(cdn_layer_t *l, const float *in, float *din, int B)
{
  const cdn_layer_desc_t *d = l->d;
  cdn_conv2d_backward(din, l->gw, l->gb, l->work, l->dout, l->work, d->weight, B, d->in_c, d->in_h, d->in_w,
                      d->out_c, d->kernel, d->stride, d->padding);
}
static void conv_setup(cdn_layer_t *l, int bias)
{
  long long n = cdn_layer_weight_count(l->d); /* too many for an int: refused by the size guard */
  l->nw = n > INT_MAX ? INT_MAX : (int)n, l->nb = bias ? l->d->out_c : 0;
}

const cdn_layer_ops_t cdn_conv2d_op = {
  .op = CDN_OP_CONV2D, .inputs = 1, .nhwc_in = 1, .starts_nhwc = 1, .blocks16 = 1, .out_shape = conv_shape, .setup = conv_setup,
  .work_bytes = conv_work, .forward = conv_fwd, .backward = conv_bwd, .fuse = conv_fuse, .plan = conv_plan,
  .run_forward = conv_run_fwd, .run_backward = conv_run_bwd};
