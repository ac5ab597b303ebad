/* A training step on the oneDNN engine: the same walk as the reference (train.c), with NHWC
   layers executing their bound primitives over the plan's B items and head layers (after the
   flatten) running the reference kernels over the n real items. ReLU and add are elementwise and
   run over all B items; BatchNorm is ours, on NHWC, because its statistics must skip the padded
   tail. */
#include <math.h>
#include <string.h>
#include "cnndyn/nn.h"
#include "conv_small.h"
#include "dnn.h"

/* One pass for the statistics: sums of x - k and its square in double, k being each channel's
   first value, which keeps the difference of squares well conditioned (the mean is rarely far
   from any one sample in channel units). The earlier two passes (mean, then squared deviations)
   read the activation twice more, and BatchNorm was memory bound (perf: a third of its time in
   each pass). relu: out is the ReLU's output (route_relus in dnn.c). */
void cdn_bn_nhwc_forward(float *out, float *mean, float *invstd, float *ab, double *acc, const float *in, const float *gamma,
                         const float *beta, float *run_mean, float *run_var, int C, int B, int n, int HW, float eps,
                         float momentum, PetscBool train, int relu)
{
  size_t  N = (size_t)n * HW, rows = (size_t)B * HW;
  double *s = acc, *s2 = acc + C, *k = acc + 2 * C;
  float  *a = ab, *b = ab + C;
  for (int c = 0; c < C; c++) s[c] = s2[c] = 0, k[c] = N ? in[c] : 0;
  if (train)
    for (size_t r = 0; r < N; r++)
      for (int c = 0; c < C; c++) {
        double v = in[r * C + c] - k[c];
        s[c] += v, s2[c] += v * v;
      }
  for (int c = 0; c < C; c++) {
    double m = s[c] / N, v = s2[c] / N - m * m;
    v = v > 0 ? v : 0;
    m += k[c];
    if (train) {
      run_mean[c] = (float)((1 - momentum) * run_mean[c] + momentum * m);
      run_var[c]  = (float)((1 - momentum) * run_var[c] + momentum * (N > 1 ? v * N / (N - 1) : v));
    } else m = run_mean[c], v = run_var[c];
    mean[c]   = (float)m;
    invstd[c] = (float)(1.0 / sqrt(v + eps));
  }
  for (int c = 0; c < C; c++) a[c] = gamma[c] * invstd[c], b[c] = beta[c] - mean[c] * a[c];
  if (!out) return; /* the add after it normalises (cdn_bn_add_relu_forward) */
  if (relu) /* the padded tail too, so that it stays finite */
    for (size_t r = 0; r < rows; r++)
      for (int c = 0; c < C; c++) {
        float y         = fmaf(in[r * C + c], a[c], b[c]); /* as backward's mask: bit for bit */
        out[r * C + c] = y > 0 ? y : 0;
      }
  else
    for (size_t r = 0; r < rows; r++)
      for (int c = 0; c < C; c++) out[r * C + c] = in[r * C + c] * a[c] + b[c];
}

#define BN_ROW 256 /* channels per chunk of a row */

/* The fused ReLU's gradient over one row: rd where forward's output fmaf(x, a, b) was positive. */
static inline void relu_row(float *restrict t, const float *restrict x, const float *restrict rd,
                            const float *restrict a, const float *restrict b, int w)
{
  for (int c = 0; c < w; c++) t[c] = fmaf(x[c], a[c], b[c]) > 0 ? rd[c] : 0.0f;
}

/* A BatchNorm's normalisation done by the add reading it, with the ReLU after the add:
   out = max(fmaf(x, a, b) + sc, 0), so the BatchNorm's own output is never written nor read. */
static void bn_add_relu_forward(float *restrict out, const float *restrict x, const float *restrict ab,
                                const float *restrict sc, int C, size_t rows)
{
  for (size_t r = 0; r < rows; r++)
    for (int c = 0; c < C; c++) {
      float y        = fmaf(x[r * C + c], ab[c], ab[C + c]) + sc[r * C + c];
      out[r * C + c] = y > 0 ? y : 0;
    }
}

/* relu_dout: the fused ReLU's output gradient, masked in both passes where forward's output was
   not positive, recomputed from the input and forward's scale and shift (ab) with the same fmaf.
   Storing the masked gradient, or reading the ReLU's output, cost one more activation-sized
   stream each in loops that are memory bound. */
void cdn_bn_nhwc_backward(float *din, float *dgamma, float *dbeta, double *acc, const float *dout, const float *in,
                          const float *mean, const float *invstd, const float *gamma, int C, int B, int n, int HW,
                          PetscBool train, const float *ab, const float *relu_dout)
{
  size_t  N = (size_t)n * HW;
  double *sg = acc, *sb = acc + C;
  for (int c = 0; c < C; c++) sg[c] = sb[c] = 0;
  if (relu_dout) /* the masked gradient goes through a row buffer in L1 (GCC 12 vectorizes neither
                    the masked load feeding a double sum nor, without restrict, a store among them) */
    for (size_t r = 0; r < N; r++)
      for (int c0 = 0; c0 < C; c0 += BN_ROW) {
        int                   w = C - c0 < BN_ROW ? C - c0 : BN_ROW;
        float                 t[BN_ROW];
        const float *restrict x = in + r * C + c0;
        relu_row(t, x, relu_dout + r * C + c0, ab + c0, ab + C + c0, w);
        for (int c = 0; c < w; c++) {
          sb[c0 + c] += t[c];
          sg[c0 + c] += t[c] * ((x[c] - mean[c0 + c]) * invstd[c0 + c]);
        }
      }
  else
    for (size_t r = 0; r < N; r++)
      for (int c = 0; c < C; c++) {
        float dy = dout[r * C + c];
        sb[c] += dy;
        sg[c] += dy * ((in[r * C + c] - mean[c]) * invstd[c]);
      }
  for (int c = 0; c < C; c++) dgamma[c] = (float)sg[c], dbeta[c] = (float)sb[c];
  if (!din) return;
  {
    float *k = (float *)(acc + 2 * C), *mb = k + C, *mg = mb + C; /* past the sums, still inside acc */
    for (int c = 0; c < C; c++) {
      k[c] = gamma[c] * invstd[c], mb[c] = train ? (float)(sb[c] / N) : 0, mg[c] = train ? (float)(sg[c] / N) : 0;
      mg[c] *= invstd[c];
    }
    if (relu_dout)
      for (size_t r = 0; r < N; r++)
        for (int c0 = 0; c0 < C; c0 += BN_ROW) {
          int                   w = C - c0 < BN_ROW ? C - c0 : BN_ROW;
          float                 t[BN_ROW];
          const float *restrict x = in + r * C + c0;
          float *restrict       dx = din + r * C + c0;
          relu_row(t, x, relu_dout + r * C + c0, ab + c0, ab + C + c0, w);
          for (int c = 0; c < w; c++) dx[c] = k[c0 + c] * (t[c] - mb[c0 + c] - (x[c] - mean[c0 + c]) * mg[c0 + c]);
        }
    else
      for (size_t r = 0; r < N; r++)
        for (int c = 0; c < C; c++)
          din[r * C + c] = k[c] * (dout[r * C + c] - mb[c] - (in[r * C + c] - mean[c]) * mg[c]);
    memset(din + N * C, 0, sizeof(float) * ((size_t)B * HW - N) * C); /* padded items: no gradient */
  }
}

#if defined(__AVX512F__) && defined(__AVX512VL__)
  #include <immintrin.h>
/* cdn_maxpool_nhwc_backward for 2x2 windows, 8 channels at a time under lane masks: the four
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

void cdn_maxpool_nhwc_backward(float *din, const float *dout, const float *in, const float *out, int B, int C, int H,
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

/* Guard mode (dnn.h): did the last primitive write into any buffer's guard bytes? */
static int guard_broken(const cdn_dnn_t *d)
{
  for (int k = 0; k < d->nbufs; k++) {
    const unsigned char *g = (const unsigned char *)d->bufs[k] + d->buf_bytes[k];
    size_t               n = (d->buf_bytes[k] + 63) / 64 * 64 + CDN_DNN_GUARD - d->buf_bytes[k];
    for (size_t i = 0; i < n; i++)
      if (g[i] != CDN_DNN_GUARD_BYTE) return 1;
  }
  return 0;
}

static void run(cdn_dnn_t *d, cdn_dnn_op_t *op, const char *what)
{
  dnnl_status_t s;
  if (!op->p || d->status != dnnl_success) return;
  s = dnnl_primitive_execute(op->p, d->stream, op->nargs, op->args);
  if (s == dnnl_success) s = dnnl_stream_wait(d->stream);
  if (s == dnnl_success && d->guard && guard_broken(d)) s = dnnl_runtime_error, what = "write past a buffer (guard mode)";
  if (s != dnnl_success) d->status = s, d->failed = what;
}

double cdn_dnn_forward_backward(cdn_net_t *net, const float *x, const int *y, int n, PetscBool train, PetscBool grads,
                                cdn_rng_t *rng, int *correct)
{
  cdn_dnn_t      *d    = net->dnn;
  cdn_dnn_plan_t *plan = &d->plan[0];
  cdn_layer_t    *last = &net->layer[net->nl - 1];
  size_t          insz = (size_t)net->desc.in_c * net->desc.in_h * net->desc.in_w;
  char            written[CDN_MAX_LAYERS] = {0};
  double          loss;
  int             B;

  if (n > plan->B && d->nplan > 1) plan = &d->plan[1];
  B = plan->B;
  if (x != net->x) memcpy(net->x, x, sizeof(float) * n * insz);
  if (n < B) memset(net->x + n * insz, 0, sizeof(float) * (B - n) * insz);
  run(d, &plan->in, "input reorder");

  for (int i = 0; i < net->nl; i++) {
    cdn_layer_t      *l  = &net->layer[i];
    cdn_layer_desc_t *ld = l->d;
    cdn_dnn_layer_t  *pl = &plan->l[i];
    const float      *in = ld->src < 0 ? net->x : net->layer[ld->src].out;
    size_t            m  = (size_t)B * d->floats[i];
    int               blk = d->blocked[i];
    int               relu_next = i + 1 < net->nl && (d->relu_in_bn[i + 1] || d->relu_in_add[i + 1]);
    switch (ld->op) {
    case CDN_OP_CONV2D:
      if (pl->conv1) {
        int relu = i + 1 < net->nl && d->relu_in_conv[i + 1];
        cdn_conv1_forward(relu ? net->layer[i + 1].out : l->out, in, ld, B, relu, pl->conv1);
      } else {
        run(d, &pl->w_fwd, "weight reorder"), run(d, &pl->src_blk, "Winograd input reorder");
        run(d, &pl->fwd, "convolution"), run(d, &pl->dst_nhwc, "Winograd output reorder");
      }
      break;
    case CDN_OP_MAXPOOL2D:
    case CDN_OP_AVGPOOL2D:
    case CDN_OP_GLOBALAVGPOOL: run(d, &pl->fwd, "pooling"); break;
    case CDN_OP_FLATTEN: run(d, &pl->fwd, "flatten"); break;
    case CDN_OP_BATCHNORM:
      l->masked = train;
      cdn_bn_nhwc_forward(d->bn_in_add[i] ? NULL : relu_next ? net->layer[i + 1].out : l->out, l->work, (float *)l->work + ld->in_c,
                          (float *)l->work + 2 * ld->in_c, (double *)l->work + 2 * ld->in_c, in, ld->weight,
                          ld->bias, ld->running_mean, ld->running_var, ld->in_c, B, n, ld->in_h * ld->in_w, ld->eps,
                          l->momentum, train, relu_next);
      break;
    case CDN_OP_RELU:
      if (d->relu_in_conv[i] || d->relu_in_bn[i] || d->relu_in_add[i]) break; /* the layer before wrote l->out */
      if (blk) cdn_relu_forward(l->out, in, (int)m);
      else l->ops->forward(l, in, n, train, rng);
      break;
    case CDN_OP_ADD:
      if (d->bn_in_add[ld->src]) {
        cdn_layer_t *bn = &net->layer[ld->src];
        bn_add_relu_forward(net->layer[i + 1].out, net->layer[bn->d->src].out, (const float *)bn->work + 2 * ld->in_c,
                            l->in2, ld->in_c, (size_t)B * ld->in_h * ld->in_w);
      } else if (relu_next) cdn_add_relu_forward(net->layer[i + 1].out, in, l->in2, (int)m);
      else cdn_add_forward(l->out, in, l->in2, (int)m);
      break;
    default: l->ops->forward(l, in, n, train, rng);
    }
  }
  loss = cdn_softmax_xent(grads ? last->dout : NULL, correct, last->out, y, n, net->desc.num_classes);
  if (d->status != dnnl_success) return NAN;
  if (!grads || !isfinite(loss)) return loss;

  for (int i = net->nl - 1; i >= 0; i--) {
    cdn_layer_t      *l  = &net->layer[i];
    cdn_layer_desc_t *ld = l->d;
    cdn_dnn_layer_t  *pl = &plan->l[i];
    int               s = ld->src, blk = d->blocked[i];
    const float      *in  = s < 0 ? net->x : net->layer[s].out;
    float            *din = s < 0 ? NULL : d->to_scratch[i] ? net->scratch : net->layer[s].dout;
    size_t            m   = s < 0 ? 0 : (size_t)(d->blocked[s] ? B : n) * d->floats[s];
    /* the fused ReLU after this layer, unless a max-pool already did its backward */
    cdn_layer_t      *r   = i + 1 < net->nl && (d->relu_in_bn[i + 1] || d->relu_in_add[i + 1]) && !d->relu_in_pool[i + 1]
                              ? &net->layer[i + 1] : NULL;
    switch (ld->op) {
    case CDN_OP_CONV2D:
      if (pl->conv1) { /* the first layer: no input gradient */
        cdn_conv1_backward_weights(l->gw, ld->bias ? l->gb : NULL, l->dout, in, ld, B, pl->conv1);
        break;
      }
      run(d, &pl->ddst_blk, "Winograd gradient reorder");
      if (din) {
        run(d, &pl->w_bwd, "weight reorder"), run(d, &pl->bwd, "convolution backward data");
        run(d, &pl->dsrc_nhwc, "Winograd gradient reorder");
      }
      run(d, &pl->src_blk, "Winograd input reorder"); /* forward's copy is gone: later layers reused d->wino */
      run(d, &pl->bwd_w, "convolution backward weights"), run(d, &pl->dw, "weight gradient reorder");
      break;
    case CDN_OP_MAXPOOL2D:
    case CDN_OP_AVGPOOL2D:
    case CDN_OP_GLOBALAVGPOOL:
      if (d->own_pool[i] && d->relu_in_pool[s]) /* the ReLU's backward too: straight into its input's gradient */
        cdn_maxpool_nhwc_backward(net->layer[net->desc.layer[s].src].dout, l->dout, in, l->out, B, ld->in_c, ld->in_h,
                                  ld->in_w, ld->kernel, 1);
      else if (d->own_pool[i])
        cdn_maxpool_nhwc_backward(din, l->dout, in, l->out, B, ld->in_c, ld->in_h, ld->in_w, ld->kernel, 0);
      else run(d, &pl->bwd, "pooling backward");
      break;
    case CDN_OP_FLATTEN: /* the padded rows get no gradient */
      if (n < B) memset(l->dout + (size_t)n * ld->out_c, 0, sizeof(float) * (size_t)(B - n) * ld->out_c);
      run(d, &pl->bwd, "flatten backward");
      break;
    case CDN_OP_BATCHNORM:
      cdn_bn_nhwc_backward(din, l->gw, l->gb, (double *)l->work + 2 * ld->in_c, l->dout, in, l->work,
                           (const float *)l->work + ld->in_c, ld->weight, ld->in_c, B, n, ld->in_h * ld->in_w, l->masked,
                           r ? (const float *)l->work + 2 * ld->in_c : NULL, r ? r->dout : NULL);
      break;
    case CDN_OP_RELU:
      if (d->relu_in_pool[i] || d->relu_in_bn[i] || d->relu_in_add[i]) break; /* a neighbour did this */
      if (blk) cdn_relu_backward(din, l->dout, l->out, (int)m);
      else l->ops->backward(l, in, din, n);
      break;
    case CDN_OP_ADD:
      if (r) cdn_add_relu_backward(din, net->layer[ld->src2].dout, written[ld->src2], r->dout, r->out, (int)m);
      else memcpy(din, l->dout, sizeof(float) * m);
      break;
    default: l->ops->backward(l, in, din, n);
    }
    if (s >= 0 && written[s])
      for (size_t k = 0; k < m; k++) net->layer[s].dout[k] += net->scratch[k];
    if (s >= 0) written[s] = 1;
    if (ld->op == CDN_OP_ADD && r) written[ld->src2] = 1; /* given above */
    else if (ld->op == CDN_OP_ADD && ld->src2 >= 0) {
      float *d2 = net->layer[ld->src2].dout;
      if (written[ld->src2])
        for (size_t k = 0; k < m; k++) d2[k] += l->dout[k];
      else memcpy(d2, l->dout, sizeof(float) * m);
      written[ld->src2] = 1;
    }
  }
  return d->status != dnnl_success ? NAN : loss;
}
