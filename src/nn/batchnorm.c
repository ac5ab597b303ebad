/* BatchNorm over channel-major activations [C][B][HW], as PyTorch's BatchNorm2d: training
   normalises with the batch's mean and biased variance and moves the running statistics by
   momentum (with the unbiased variance); evaluation uses the running statistics. Sums are in
   double, in a fixed order, so results do not depend on anything but the data. */
#include <math.h>
#include "cnndyn/nn.h"
#include "layer.h"

void cdn_batchnorm_forward(float *out, float *mean, float *invstd, const float *in, const float *gamma,
                           const float *beta, float *run_mean, float *run_var, int C, int B, int HW, float eps,
                           float momentum, PetscBool train)
{
  size_t N = (size_t)B * HW;
  for (int c = 0; c < C; c++) {
    const float *x = in + c * N;
    float       *y = out + c * N;
    double       m, v;
    if (train) {
      double s = 0, s2 = 0;
      for (size_t i = 0; i < N; i++) s += x[i];
      m = s / N;
      for (size_t i = 0; i < N; i++) s2 += (x[i] - m) * (x[i] - m);
      v = s2 / N;
      run_mean[c] = (float)((1 - momentum) * run_mean[c] + momentum * m);
      run_var[c]  = (float)((1 - momentum) * run_var[c] + momentum * (N > 1 ? s2 / (N - 1) : v));
    } else m = run_mean[c], v = run_var[c];
    mean[c]   = (float)m;
    invstd[c] = (float)(1.0 / sqrt(v + eps));
    {
      float a = gamma[c] * invstd[c], b = beta[c] - mean[c] * a;
      for (size_t i = 0; i < N; i++) y[i] = x[i] * a + b;
    }
  }
}

/* train: the statistics came from the batch, so din carries their derivative too. */
void cdn_batchnorm_backward(float *din, float *dgamma, float *dbeta, const float *dout, const float *in,
                            const float *mean, const float *invstd, const float *gamma, int C, int B, int HW,
                            PetscBool train)
{
  size_t N = (size_t)B * HW;
  for (int c = 0; c < C; c++) {
    const float *x = in + c * N, *dy = dout + c * N;
    double       sg = 0, sb = 0;
    for (size_t i = 0; i < N; i++) {
      sb += dy[i];
      sg += dy[i] * ((x[i] - mean[c]) * invstd[c]);
    }
    dgamma[c] = (float)sg;
    dbeta[c]  = (float)sb;
    if (!din) continue;
    float *dx = din + c * N, k = gamma[c] * invstd[c];
    if (train) {
      float mb = (float)(sb / N), mg = (float)(sg / N);
      for (size_t i = 0; i < N; i++) dx[i] = k * (dy[i] - mb - (x[i] - mean[c]) * invstd[c] * mg);
    } else
      for (size_t i = 0; i < N; i++) dx[i] = k * dy[i];
  }
}

/* ---- layer table ---- */

static int bn_shape(cdn_layer_desc_t *d)
{
  d->out_c = d->in_c, d->out_h = d->in_h, d->out_w = d->in_w;
  return d->in_c > 0 && d->eps > 0;
}
/* mean and invstd; then, for the oneDNN engine's NHWC kernel (dnn_run.c), the scale and shift
   forward applied (kept for the fused ReLU's mask) and per-channel sums in double */
static size_t bn_work(const cdn_layer_desc_t *d, int B) { return (4 * sizeof(float) + 4 * sizeof(double)) * (size_t)d->in_c; }
static void   bn_fwd(cdn_layer_t *l, const float *in, int B, PetscBool train, cdn_rng_t *rng)
{
  cdn_layer_desc_t *d = l->d;
  float            *w = l->work;
  l->masked         = train;
  cdn_batchnorm_forward(l->out, w, w + d->in_c, in, d->weight, d->bias, d->running_mean, d->running_var, d->in_c,
                        B, d->in_h * d->in_w, d->eps, l->momentum, train);
}
static void bn_bwd(cdn_layer_t *l, const float *in, float *din, int B)
{
  const cdn_layer_desc_t *d = l->d;
  const float            *w = l->work;
  cdn_batchnorm_backward(din, l->gw, l->gb, l->dout, in, w, w + d->in_c, d->weight, d->in_c, B, d->in_h * d->in_w,
                         l->masked);
}
const cdn_layer_ops_t cdn_batchnorm_ops = {CDN_OP_BATCHNORM, bn_shape, bn_work, bn_fwd, bn_bwd};
