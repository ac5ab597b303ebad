/* Max and average pooling with any kernel, stride and padding (PyTorch's floor mode: trailing rows
   that do not fill a window are dropped), and global average pooling. Max-pool keeps the argmax so
   that backward is a scatter; padding never wins a max, and a NaN window picks its first element
   instead of reading junk. Average pooling counts padding in the divisor (PyTorch's default
   count_include_pad), so every window divides by K*K. These are the reference kernels, on
   channel-major [C][B][H][W]; the oneDNN engine runs oneDNN's pooling on NHWC, with a backward of
   our own for max-pools whose windows tile the input (below). */
#include <float.h>
#include <string.h>
#include "dnn.h"
#include "reference.h"

static inline int out_len(int n, int K, int S, int pad) { return (n + 2 * pad - K) / S + 1; }

void cdn_maxpool_forward(float *out, int *arg, const float *in, int P, int H, int W, int K, int S, int pad)
{
  int OH = out_len(H, K, S, pad), OW = out_len(W, K, S, pad);
  for (int p = 0; p < P; p++) {
    const float *src  = in + (size_t)p * H * W;
    size_t       base = (size_t)p * H * W;
    for (int oh = 0; oh < OH; oh++)
      for (int ow = 0; ow < OW; ow++) {
        int   best = -1;
        float m    = 0;
        for (int ki = 0; ki < K; ki++) {
          int ih = oh * S + ki - pad;
          if (ih < 0 || ih >= H) continue;
          for (int kj = 0; kj < K; kj++) {
            int iw = ow * S + kj - pad;
            if (iw < 0 || iw >= W) continue;
            if (best < 0 || src[ih * W + iw] > m) m = src[ih * W + iw], best = ih * W + iw;
          }
        }
        *out++ = m;
        *arg++ = (int)(base + best);
      }
  }
}

void cdn_maxpool_backward(float *din, const float *dout, const int *arg, int P, int H, int W, int K, int S, int pad)
{
  size_t n = (size_t)P * out_len(H, K, S, pad) * out_len(W, K, S, pad);
  memset(din, 0, sizeof(float) * (size_t)P * H * W);
  for (size_t i = 0; i < n; i++) din[arg[i]] += dout[i];
}

void cdn_maxpool2_forward(float *out, int *arg, const float *in, int P, int H, int W)
{
  cdn_maxpool_forward(out, arg, in, P, H, W, 2, 2, 0);
}
void cdn_maxpool2_backward(float *din, const float *dout, const int *arg, int P, int H, int W)
{
  cdn_maxpool_backward(din, dout, arg, P, H, W, 2, 2, 0);
}

void cdn_avgpool_forward(float *out, const float *in, int P, int H, int W, int K, int S, int pad)
{
  int   OH = out_len(H, K, S, pad), OW = out_len(W, K, S, pad);
  float inv = 1.0f / (K * K);
  for (int p = 0; p < P; p++) {
    const float *src = in + (size_t)p * H * W;
    for (int oh = 0; oh < OH; oh++)
      for (int ow = 0; ow < OW; ow++) {
        float s = 0;
        for (int ki = 0; ki < K; ki++) {
          int ih = oh * S + ki - pad;
          if (ih < 0 || ih >= H) continue;
          for (int kj = 0; kj < K; kj++) {
            int iw = ow * S + kj - pad;
            if (iw >= 0 && iw < W) s += src[ih * W + iw];
          }
        }
        *out++ = s * inv;
      }
  }
}

void cdn_avgpool_backward(float *din, const float *dout, int P, int H, int W, int K, int S, int pad)
{
  int   OH = out_len(H, K, S, pad), OW = out_len(W, K, S, pad);
  float inv = 1.0f / (K * K);
  memset(din, 0, sizeof(float) * (size_t)P * H * W);
  for (int p = 0; p < P; p++) {
    float *dst = din + (size_t)p * H * W;
    for (int oh = 0; oh < OH; oh++)
      for (int ow = 0; ow < OW; ow++) {
        float g = *dout++ * inv;
        for (int ki = 0; ki < K; ki++) {
          int ih = oh * S + ki - pad;
          if (ih < 0 || ih >= H) continue;
          for (int kj = 0; kj < K; kj++) {
            int iw = ow * S + kj - pad;
            if (iw >= 0 && iw < W) dst[ih * W + iw] += g;
          }
        }
      }
  }
}

void cdn_gap_forward(float *out, const float *in, int P, int HW)
{
  for (int p = 0; p < P; p++) {
    double s = 0;
    for (int i = 0; i < HW; i++) s += in[(size_t)p * HW + i];
    out[p] = (float)(s / HW);
  }
}

void cdn_gap_backward(float *din, const float *dout, int P, int HW)
{
  for (int p = 0; p < P; p++)
    for (int i = 0; i < HW; i++) din[(size_t)p * HW + i] = dout[p] / HW;
}

/* ---- the oneDNN engine: its pooling primitives, but our own backward for tiling max-pools ---- */

/* A max-pool whose windows tile its input (kernel == stride, no padding), as LeNet's and VGG's. */
static int tiles(const cdn_layer_desc_t *ld)
{
  return ld->op == CDN_OP_MAXPOOL2D && ld->kernel == ld->stride && ld->padding == 0;
}

#if defined(__AVX512F__) && defined(__AVX512VL__)
  #include <immintrin.h>
/* maxpool_nhwc_backward for 2x2 windows, 8 channels at a time under lane masks: the four
   gradients of a window are stored directly, the first element equal to the max (or the first,
   if none is: a NaN) getting the window's gradient and the others zero; rows and columns no
   window covers are zeroed apart. The same selections as the generic loop: identical results. */
static void maxpool2_nhwc_backward(float *din, const float *dout, const float *in, const float *out, int B, int C,
                                   int H, int W, int relu)
{
  int    OH = H / 2, OW = W / 2;
  size_t rs = (size_t)W * C; /* floats per input row */
  if (H % 2 || W % 2) memset(din, 0, sizeof(float) * (size_t)B * H * W * C);
  for (int b = 0; b < B; b++)
    for (int oh = 0; oh < OH; oh++)
      for (int ow = 0; ow < OW; ow++) {
        size_t       o = (((size_t)b * OH + oh) * OW + ow) * C, k = ((size_t)b * H + 2 * oh) * rs + (size_t)2 * ow * C;
        const float *x0 = in + k, *x1 = x0 + rs;
        float       *d0 = din + k, *d1 = d0 + rs;
        for (int c = 0; c < C; c += 8) {
          __mmask8 l = (__mmask8)(C - c >= 8 ? 0xff : (1u << (C - c)) - 1);
          __m256   m = _mm256_maskz_loadu_ps(l, out + o + c), v = _mm256_maskz_loadu_ps(l, dout + o + c);
          __mmask8 e00 = _mm256_cmp_ps_mask(_mm256_maskz_loadu_ps(l, x0 + c), m, _CMP_EQ_OQ);
          __mmask8 e01 = _mm256_cmp_ps_mask(_mm256_maskz_loadu_ps(l, x0 + C + c), m, _CMP_EQ_OQ);
          __mmask8 e10 = _mm256_cmp_ps_mask(_mm256_maskz_loadu_ps(l, x1 + c), m, _CMP_EQ_OQ);
          __mmask8 e11 = _mm256_cmp_ps_mask(_mm256_maskz_loadu_ps(l, x1 + C + c), m, _CMP_EQ_OQ);
          e00 |= (__mmask8)~(e01 | e10 | e11);
          e01 &= (__mmask8)~e00, e10 &= (__mmask8)~(e00 | e01), e11 &= (__mmask8)~(e00 | e01 | e10);
          if (relu) v = _mm256_maskz_mov_ps(_mm256_cmp_ps_mask(m, _mm256_setzero_ps(), _CMP_GT_OQ), v);
          _mm256_mask_storeu_ps(d0 + c, l, _mm256_maskz_mov_ps(e00, v));
          _mm256_mask_storeu_ps(d0 + C + c, l, _mm256_maskz_mov_ps(e01, v));
          _mm256_mask_storeu_ps(d1 + c, l, _mm256_maskz_mov_ps(e10, v));
          _mm256_mask_storeu_ps(d1 + C + c, l, _mm256_maskz_mov_ps(e11, v));
        }
      }
}
#endif

/* Backward of a max-pool whose windows tile the input (kernel == stride, no padding) on NHWC, with
   no workspace: each window's gradient goes to its first element equal to the max (the element
   forward picked: oneDNN and PyTorch both keep the first of equal values); every other input
   element gets zero. oneDNN 2.6's own backward took 10x its forward at LeNet's 6 channels.
   relu: also the backward of the ReLU whose output `in` is (din is then the ReLU's input
   gradient): a window whose max is not positive passes no gradient. */
static void maxpool_nhwc_backward(float *din, const float *dout, const float *in, const float *out, int B, int C, int H,
                               int W, int K, int relu)
{
  int OH = H / K, OW = W / K;
#if defined(__AVX512F__) && defined(__AVX512VL__)
  if (K == 2) { /* LeNet's: every input element written once, under masks, no memset */
    maxpool2_nhwc_backward(din, dout, in, out, B, C, H, W, relu);
    return;
  }
#endif
  /* zero everything first (rows and columns no window covers in floor mode included), then one
     store per window and channel. Scanning the window backwards with a select finds the first
     element equal to the max without a branch or a per-element store: the earlier form, a flag
     per channel and a store per element, ran at ~5 ns per element (measured, C = 6). */
  memset(din, 0, sizeof(float) * (size_t)B * H * W * C);
  for (int b = 0; b < B; b++) {
    const float *x  = in + (size_t)b * H * W * C;
    float       *dx = din + (size_t)b * H * W * C;
    for (int oh = 0; oh < OH; oh++)
      for (int ow = 0; ow < OW; ow++) {
        size_t       o = (((size_t)b * OH + oh) * OW + ow) * C, k0 = ((size_t)oh * K * W + ow * K) * C;
        const float *m = out + o, *g = dout + o;
        for (int c = 0; c < C; c++) {
          size_t at = k0 + c;
          for (int ki = K - 1; ki >= 0; ki--)
            for (int kj = K - 1; kj >= 0; kj--) {
              size_t k = k0 + ((size_t)ki * W + kj) * C + c;
              at       = x[k] == m[c] ? k : at;
            }
          dx[at] = !relu || m[c] > 0 ? g[c] : 0.0f;
        }
      }
  }
}

static PetscErrorCode pool_plan(cdn_net_t *net, int i, int B, cdn_dnn_layer_t *pl)
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
  void                   *wsb = NULL, *din = cdn_dnn_grad_in(net, i);

  PetscFunctionBeginUser;
  cdn_dnn_md4(&src, B, ld->in_c, ld->in_h, ld->in_w, cdn_dnn_tag(d));
  cdn_dnn_md4(&dst, B, ld->out_c, ld->out_h, ld->out_w, cdn_dnn_tag(d));
  /* tiling max-pools (LeNet's) run our backward, which needs no workspace, so forward need not keep one */
  DNNL_CALL("pooling", dnnl_pooling_forward_desc_init(&pd, tiles(ld) ? dnnl_forward_inference : dnnl_forward_training,
                                                      alg, &src, &dst, strides, kernel, pad, pad));
  DNNL_CALL("pooling", dnnl_primitive_desc_create(&pl->fwd.pd, &pd, d->attr, d->eng, NULL));
  ws = dnnl_primitive_desc_query_md(pl->fwd.pd, dnnl_query_workspace_md, 0);
  if (ws && dnnl_memory_desc_get_size(ws)) PetscCall(cdn_dnn_buf(d, dnnl_memory_desc_get_size(ws), &wsb));
  PetscCall(cdn_dnn_arg(d, &pl->fwd, DNNL_ARG_SRC, &src, net->layer[ld->src].out, layer_name));
  PetscCall(cdn_dnn_arg(d, &pl->fwd, DNNL_ARG_DST, &dst, l->out, layer_name));
  if (wsb) PetscCall(cdn_dnn_arg(d, &pl->fwd, DNNL_ARG_WORKSPACE, ws, wsb, layer_name));

  if (tiles(ld)) PetscFunctionReturn(0);
  DNNL_CALL("pooling backward", dnnl_pooling_backward_desc_init(&pd, alg, &src, &dst, strides, kernel, pad, pad));
  DNNL_CALL("pooling backward", dnnl_primitive_desc_create(&pl->bwd.pd, &pd, d->attr, d->eng, pl->fwd.pd));
  PetscCall(cdn_dnn_arg(d, &pl->bwd, DNNL_ARG_DIFF_DST, &dst, l->dout, layer_name));
  PetscCall(cdn_dnn_arg(d, &pl->bwd, DNNL_ARG_DIFF_SRC, &src, din, layer_name));
  if (wsb) PetscCall(cdn_dnn_arg(d, &pl->bwd, DNNL_ARG_WORKSPACE, ws, wsb, layer_name));
  PetscFunctionReturn(0);
}

/* A tiling max-pool reading a blocked ReLU does the ReLU's backward too, straight into the ReLU's
   input gradient, so the ReLU's output gradient is never written: when the pool is the ReLU's
   sole reader, the ReLU reads a layer, and the ReLU's input gradient is not routed through the
   scratch buffer. */
static void pool_fuse(cdn_net_t *net, int i)
{
  const cdn_layer_desc_t *ld = &net->desc.layer[i];
  int                     s  = ld->src;
  if (tiles(ld) && s >= 0 && net->desc.layer[s].op == CDN_OP_RELU && net->dnn->blocked[s] && net->dnn->readers[s] == 1 &&
      net->desc.layer[s].src >= 0 && !net->dnn->to_scratch[s])
    net->layer[s].fused = i;
}

static void pool_run_fwd(const cdn_dnn_step_t *s, int i) { cdn_dnn_run(s->net->dnn, &s->plan->l[i].fwd, "pooling"); }

static int pool_run_bwd(const cdn_dnn_step_t *s, int i, float *din)
{
  cdn_net_t              *net = s->net;
  cdn_layer_t            *l   = &net->layer[i];
  const cdn_layer_desc_t *ld  = l->d;
  const float            *in  = cdn_dnn_src(net, i);
  /* nChw16c is NHWC with B * C/16 items of 16 channels, as far as a pool is concerned */
  int                     k = cdn_dnn_cblock(net->dnn, ld->in_c), items = s->B * (ld->in_c / k);
  if (tiles(ld) && net->layer[ld->src].fused == i) /* the ReLU's backward too */
    maxpool_nhwc_backward(net->layer[net->desc.layer[ld->src].src].dout, l->dout, in, l->out, items, k, ld->in_h,
                          ld->in_w, ld->kernel, 1);
  else if (tiles(ld)) maxpool_nhwc_backward(din, l->dout, in, l->out, items, k, ld->in_h, ld->in_w, ld->kernel, 0);
  else cdn_dnn_run(net->dnn, &s->plan->l[i].bwd, "pooling backward");
  return 0;
}

/* ---- the operations' tables ---- */

static int pool_shape(cdn_layer_desc_t *d)
{
  if (d->kernel < 1 || d->stride < 1 || d->padding < 0 || 2 * d->padding > d->kernel) return 0;
  d->out_c = d->in_c;
  if (d->in_h + 2 * d->padding < d->kernel || d->in_w + 2 * d->padding < d->kernel) return 0;
  d->out_h = out_len(d->in_h, d->kernel, d->stride, d->padding);
  d->out_w = out_len(d->in_w, d->kernel, d->stride, d->padding);
  return 1;
}
/* the argmax: the reference kernels' only (the engine keeps its own workspace, if any) */
static size_t max_work(const cdn_layer_desc_t *d, int B, int reference)
{
  return reference ? sizeof(int) * (size_t)B * cdn_layer_out_size(d) : 0;
}
static void   max_fwd(cdn_layer_t *l, const float *in, int B, PetscBool train, cdn_rng_t *rng)
{
  const cdn_layer_desc_t *d = l->d;
  cdn_maxpool_forward(l->out, l->work, in, d->in_c * B, d->in_h, d->in_w, d->kernel, d->stride, d->padding);
}
static void max_bwd(cdn_layer_t *l, const float *in, float *din, int B)
{
  const cdn_layer_desc_t *d = l->d;
  if (din) cdn_maxpool_backward(din, l->dout, l->work, d->in_c * B, d->in_h, d->in_w, d->kernel, d->stride, d->padding);
}
const cdn_layer_ops_t cdn_maxpool_op = {
  .op = CDN_OP_MAXPOOL2D, .inputs = 1, .nhwc_in = 1, .blocks16 = 1, .out_shape = pool_shape, .work_bytes = max_work, .forward = max_fwd,
  .backward = max_bwd, .fuse = pool_fuse, .plan = pool_plan, .run_forward = pool_run_fwd, .run_backward = pool_run_bwd};

static void avg_fwd(cdn_layer_t *l, const float *in, int B, PetscBool train, cdn_rng_t *rng)
{
  const cdn_layer_desc_t *d = l->d;
  cdn_avgpool_forward(l->out, in, d->in_c * B, d->in_h, d->in_w, d->kernel, d->stride, d->padding);
}
static void avg_bwd(cdn_layer_t *l, const float *in, float *din, int B)
{
  const cdn_layer_desc_t *d = l->d;
  if (din) cdn_avgpool_backward(din, l->dout, d->in_c * B, d->in_h, d->in_w, d->kernel, d->stride, d->padding);
}
const cdn_layer_ops_t cdn_avgpool_op = {
  .op = CDN_OP_AVGPOOL2D, .inputs = 1, .nhwc_in = 1, .blocks16 = 1, .out_shape = pool_shape, .work_bytes = cdn_no_work,
  .forward = avg_fwd, .backward = avg_bwd, .plan = pool_plan, .run_forward = pool_run_fwd, .run_backward = pool_run_bwd};

static int gap_shape(cdn_layer_desc_t *d)
{
  d->out_c = d->in_c, d->out_h = d->out_w = 1;
  return d->in_h > 0 && d->in_w > 0;
}
static void gap_fwd(cdn_layer_t *l, const float *in, int B, PetscBool train, cdn_rng_t *rng)
{
  cdn_gap_forward(l->out, in, l->d->in_c * B, l->d->in_h * l->d->in_w);
}
static void gap_bwd(cdn_layer_t *l, const float *in, float *din, int B)
{
  if (din) cdn_gap_backward(din, l->dout, l->d->in_c * B, l->d->in_h * l->d->in_w);
}
const cdn_layer_ops_t cdn_gap_op = {
  .op = CDN_OP_GLOBALAVGPOOL, .inputs = 1, .nhwc_in = 1, .blocks16 = 1, .out_shape = gap_shape, .work_bytes = cdn_no_work,
  .forward = gap_fwd, .backward = gap_bwd, .plan = pool_plan, .run_forward = pool_run_fwd, .run_backward = pool_run_bwd};
