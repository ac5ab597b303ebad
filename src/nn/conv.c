/* 2-D convolution (stride, zero padding, optional bias) as im2col + one sgemm for the whole batch:
   with activations stored [C][B][H][W] the GEMM's N dimension is B*OH*OW, large enough for
   OpenBLAS to run near peak even when O is 6. */
#include <cblas.h>
#include <string.h>
#include "cnndyn/nn.h"
#include "layer.h"

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

/* ---- layer table ---- */

static int conv_shape(cdn_layer_desc_t *d)
{
  if (d->kernel < 1 || d->stride < 1 || d->padding < 0 || d->out_c < 1) return 0;
  d->out_h = out_len(d->in_h, d->kernel, d->stride, d->padding);
  d->out_w = out_len(d->in_w, d->kernel, d->stride, d->padding);
  return d->in_h + 2 * d->padding >= d->kernel && d->in_w + 2 * d->padding >= d->kernel;
}
static size_t conv_work(const cdn_layer_desc_t *d, int B)
{
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
const cdn_layer_ops_t cdn_conv2d_ops = {CDN_OP_CONV2D, conv_shape, conv_work, conv_fwd, conv_bwd};
