/* Max and average pooling with any kernel, stride and padding (PyTorch's floor mode: trailing rows
   that do not fill a window are dropped), and global average pooling. Max-pool keeps the argmax so
   that backward is a scatter; padding never wins a max, and a NaN window picks its first element
   instead of reading junk. Average pooling counts padding in the divisor (PyTorch's default
   count_include_pad), so every window divides by K*K. */
#include <float.h>
#include <string.h>
#include "cnndyn/nn.h"
#include "layer.h"

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

/* ---- layer tables ---- */

static int pool_shape(cdn_layer_desc_t *d)
{
  if (d->kernel < 1 || d->stride < 1 || d->padding < 0 || 2 * d->padding > d->kernel) return 0;
  d->out_c = d->in_c;
  if (d->in_h + 2 * d->padding < d->kernel || d->in_w + 2 * d->padding < d->kernel) return 0;
  d->out_h = out_len(d->in_h, d->kernel, d->stride, d->padding);
  d->out_w = out_len(d->in_w, d->kernel, d->stride, d->padding);
  return 1;
}
static size_t max_work(const cdn_layer_desc_t *d, int B) { return sizeof(int) * (size_t)B * cdn_layer_out_size(d); }
static size_t no_work(const cdn_layer_desc_t *d, int B) { return 0; }
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
const cdn_layer_ops_t cdn_maxpool_ops = {CDN_OP_MAXPOOL2D, pool_shape, max_work, max_fwd, max_bwd};

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
const cdn_layer_ops_t cdn_avgpool_ops = {CDN_OP_AVGPOOL2D, pool_shape, no_work, avg_fwd, avg_bwd};

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
const cdn_layer_ops_t cdn_gap_ops = {CDN_OP_GLOBALAVGPOOL, gap_shape, no_work, gap_fwd, gap_bwd};
