/* BatchNorm as PyTorch's BatchNorm2d: training normalises with the batch's mean and biased
   variance and moves the running statistics by momentum (with the unbiased variance); evaluation
   uses the running statistics. Sums are in double, in a fixed order, so results do not depend on
   anything but the data. The reference kernels work on channel-major [C][B][HW]; the oneDNN
   engine runs the NHWC kernels below (not oneDNN's: statistics must skip a padded batch tail). */
#include <math.h>
#include <string.h>
#include "dnn.h"
#include "reference.h"

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

/* ---- the oneDNN engine: our own kernels on NHWC, as the statistics must skip the padded tail
   (over B items of which the first n are real) ---- */

/* One pass for the statistics: sums of x - k and its square in double, k being each channel's
   first value, which keeps the difference of squares well conditioned (the mean is rarely far
   from any one sample in channel units). The earlier two passes (mean, then squared deviations)
   read the activation twice more, and BatchNorm was memory bound (perf: a third of its time in
   each pass). relu: out is the ReLU's output (bn_fuse). acc holds 4*C doubles; ab receives the C scales and
   C shifts applied. relu: out = max(fmaf(in, scale, shift), 0). */
static void bn_nhwc_forward(float *out, float *mean, float *invstd, float *ab, double *acc, const float *in,
                            const float *gamma, const float *beta, float *run_mean, float *run_var, int C, int B, int n,
                            int HW, float eps, float momentum, PetscBool train, int relu)
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
  if (!out) return; /* the add after it normalises (add.c) */
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


/* relu_dout: the fused ReLU's output gradient, masked in both passes where forward's output was
   not positive, recomputed from the input and forward's scale and shift (ab) with the same fmaf.
   Storing the masked gradient, or reading the ReLU's output, cost one more activation-sized
   stream each in loops that are memory bound. */
static void bn_nhwc_backward(float *din, float *dgamma, float *dbeta, double *acc, const float *dout, const float *in,
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

/* A ReLU that is its sole reader: the BatchNorm writes the ReLU's output and runs its backward.
   (An add reading it alone may instead take its normalisation: add.c, add_fuse.) */
static void bn_fuse(cdn_net_t *net, int i) { net->layer[i].fused = cdn_dnn_relu_after(net, i); }

/* The fused ReLU whose backward this BatchNorm runs: its reader when a ReLU no max-pool did. */
static cdn_layer_t *relu_to_run(cdn_net_t *net, const cdn_layer_t *l)
{
  cdn_layer_t *r = l->fused >= 0 ? &net->layer[l->fused] : NULL;
  return r && r->d->op == CDN_OP_RELU && r->fused < 0 ? r : NULL;
}

static void bn_run_fwd(const cdn_dnn_step_t *s, int i)
{
  cdn_net_t        *net = s->net;
  cdn_layer_t      *l = &net->layer[i], *f = l->fused >= 0 ? &net->layer[l->fused] : NULL;
  cdn_layer_desc_t *ld = l->d;
  int               relu = f && f->d->op == CDN_OP_RELU, C = ld->in_c;
  float            *w = l->work, *out = !f ? l->out : relu ? f->out : NULL; /* NULL: the add normalises */
  l->masked = s->train;
  bn_nhwc_forward(out, w, w + C, w + 2 * C, (double *)l->work + 2 * C, cdn_dnn_src(net, i), ld->weight, ld->bias,
                  ld->running_mean, ld->running_var, C, s->B, s->n, ld->in_h * ld->in_w, ld->eps, l->momentum, s->train,
                  relu);
}

static int bn_run_bwd(const cdn_dnn_step_t *s, int i, float *din)
{
  cdn_net_t        *net = s->net;
  cdn_layer_t      *l = &net->layer[i], *r = relu_to_run(net, l);
  cdn_layer_desc_t *ld = l->d;
  const float      *w = l->work;
  int               C = ld->in_c;
  bn_nhwc_backward(din, l->gw, l->gb, (double *)l->work + 2 * C, l->dout, cdn_dnn_src(net, i), w, w + C, ld->weight, C,
                   s->B, s->n, ld->in_h * ld->in_w, l->masked, r ? w + 2 * C : NULL, r ? r->dout : NULL);
  return 0;
}

const float *cdn_bn_scale_shift(const cdn_layer_t *bn) { return (const float *)bn->work + 2 * bn->d->in_c; }

/* ---- the operation's table ---- */

static int bn_shape(cdn_layer_desc_t *d)
{
  if (!(d->eps > 0)) d->eps = 1e-5f; /* PyTorch's default */
  d->out_c = d->in_c, d->out_h = d->in_h, d->out_w = d->in_w;
  return d->in_c > 0;
}
/* mean and invstd; then, for the oneDNN engine's NHWC kernel, the scale and shift
   forward applied (kept for the fused ReLU's mask) and per-channel sums in double */
static size_t bn_work(const cdn_layer_desc_t *d, int B, int reference)
{
  return (4 * sizeof(float) + 4 * sizeof(double)) * (size_t)d->in_c;
}
static void bn_fwd(cdn_layer_t *l, const float *in, int B, PetscBool train, cdn_rng_t *rng)
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
static void bn_setup(cdn_layer_t *l, int bias)
{
  l->nw = l->nb = l->d->in_c, l->nstats = 2 * l->d->in_c, l->momentum = 0.1f; /* gamma, beta; mean, variance */
}
static void bn_reset(cdn_layer_t *l)
{
  cdn_layer_desc_t *d = l->d;
  for (int c = 0; c < d->in_c; c++) d->weight[c] = 1, d->running_mean[c] = 0, d->running_var[c] = 1;
}

const cdn_layer_ops_t cdn_batchnorm_op = {
  .op = CDN_OP_BATCHNORM, .inputs = 1, .nhwc_in = 1, .fused_bwd = 1, .out_shape = bn_shape, .setup = bn_setup,
  .reset = bn_reset, .work_bytes = bn_work, .forward = bn_fwd, .backward = bn_bwd, .fuse = bn_fuse,
  .run_forward = bn_run_fwd, .run_backward = bn_run_bwd};
