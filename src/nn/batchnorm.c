/* BatchNorm as PyTorch's BatchNorm2d: training normalises with the batch's mean and biased
   variance and moves the running statistics by momentum (with the unbiased variance); evaluation
   uses the running statistics. Sums are in double, in a fixed order, so results do not depend on
   anything but the data. The reference kernels work on channel-major [C][B][HW]; the oneDNN
   engine runs the kernels below on its blocked layout (not oneDNN's: statistics must skip a padded batch tail). */
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

/* ---- the oneDNN engine: our own kernels on its blocked layout, as the statistics must skip the
   padded tail (over B items of which the first n are real) ----
   The layout (dnn.h) is [B][C/k][HW][k]: a run of HW rows of k channels (k = C on NHWC, 16 on
   nChw16c) starts at every multiple of HW*k floats, channel block q % (C/k) of item q / (C/k).
   Each channel's sums run over items, then pixels. */

#if defined(__AVX512F__)
  #include <immintrin.h>
/* Runs of 16 channels (k = 16: nChw16c, or NHWC with 16 channels), one row a vector: the sums of a run stay in registers (two rows at a
   time, each with its own accumulators) and are added to the channel's totals when the run ends;
   the generic loops keep every total in memory, a load and a store per row, which made the
   backward 1.5x slower on ResNet (perf). Elementwise results are the generic loops' bits. */
static inline __m512d lo_pd(__m512 v) { return _mm512_cvtps_pd(_mm512_castps512_ps256(v)); }
static inline __m512d hi_pd(__m512 v)
{
  return _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)));
}

/* s[16] += a run's sums: a[0], a[1] (channels 0-7, 8-15) of the even rows, a[2], a[3] of the odd */
static inline void add_run(double *s, const __m512d *a)
{
  _mm512_storeu_pd(s, _mm512_add_pd(_mm512_loadu_pd(s), _mm512_add_pd(a[0], a[2])));
  _mm512_storeu_pd(s + 8, _mm512_add_pd(_mm512_loadu_pd(s + 8), _mm512_add_pd(a[1], a[3])));
}

/* s += (x - k0) and s2 += (x - k0)^2 over a run of HW rows */
static void stats_run16(double *s, double *s2, const float *x, const double *k0, int HW)
{
  const __m512d kl = _mm512_loadu_pd(k0), kh = _mm512_loadu_pd(k0 + 8);
  __m512d       a[4], q[4];
  for (int j = 0; j < 4; j++) a[j] = q[j] = _mm512_setzero_pd();
  for (int r = 0; r < HW; r += 2) {
    for (int u = 0; u < 2 && r + u < HW; u++) {
      __m512  v = _mm512_loadu_ps(x + 16 * (size_t)(r + u));
      __m512d l = _mm512_sub_pd(lo_pd(v), kl), h = _mm512_sub_pd(hi_pd(v), kh);
      a[2 * u] = _mm512_add_pd(a[2 * u], l), a[2 * u + 1] = _mm512_add_pd(a[2 * u + 1], h);
      q[2 * u] = _mm512_fmadd_pd(l, l, q[2 * u]), q[2 * u + 1] = _mm512_fmadd_pd(h, h, q[2 * u + 1]);
    }
  }
  add_run(s, a), add_run(s2, q);
}

/* The gradient g of one row: dy, or with the fused ReLU rd where fmaf(x, a, b) > 0 (relu_row). */
static inline __m512 grad16(const float *dy, const float *rd, __m512 x, __m512 a, __m512 b)
{
  if (!rd) return _mm512_loadu_ps(dy);
  return _mm512_maskz_loadu_ps(_mm512_cmp_ps_mask(_mm512_fmadd_ps(x, a, b), _mm512_setzero_ps(), _CMP_GT_OQ), rd);
}

/* sb += g and sg += g * ((x - mean) * invstd) over a run */
static void grad_sums_run16(double *sb, double *sg, const float *x, const float *dy, const float *rd,
                            const float *mean, const float *invstd, const float *a, const float *b, int HW)
{
  const __m512 m = _mm512_loadu_ps(mean), is = _mm512_loadu_ps(invstd);
  const __m512 va = rd ? _mm512_loadu_ps(a) : m, vb = rd ? _mm512_loadu_ps(b) : m; /* a, b: only with rd */
  __m512d      u[4], w[4];
  for (int j = 0; j < 4; j++) u[j] = w[j] = _mm512_setzero_pd();
  for (int r = 0; r < HW; r += 2)
    for (int t = 0; t < 2 && r + t < HW; t++) {
      size_t o  = 16 * (size_t)(r + t);
      __m512 xv = _mm512_loadu_ps(x + o), g = grad16(dy + o, rd ? rd + o : NULL, xv, va, vb);
      __m512 p  = _mm512_mul_ps(g, _mm512_mul_ps(_mm512_sub_ps(xv, m), is));
      u[2 * t] = _mm512_add_pd(u[2 * t], lo_pd(g)), u[2 * t + 1] = _mm512_add_pd(u[2 * t + 1], hi_pd(g));
      w[2 * t] = _mm512_add_pd(w[2 * t], lo_pd(p)), w[2 * t + 1] = _mm512_add_pd(w[2 * t + 1], hi_pd(p));
    }
  add_run(sb, u), add_run(sg, w);
}

/* dx = kc * (g - mb - (x - mean) * mg) over a run, rounded as the generic loop rounds */
static void grad_in_run16(float *dx, const float *x, const float *dy, const float *rd, const float *mean,
                          const float *kc, const float *mb, const float *mg, const float *a, const float *b, int HW)
{
  const __m512 m = _mm512_loadu_ps(mean), k = _mm512_loadu_ps(kc), vmb = _mm512_loadu_ps(mb), vmg = _mm512_loadu_ps(mg);
  const __m512 va = rd ? _mm512_loadu_ps(a) : m, vb = rd ? _mm512_loadu_ps(b) : m;
  for (size_t o = 0; o < 16 * (size_t)HW; o += 16) {
    __m512 xv = _mm512_loadu_ps(x + o), g = grad16(dy + o, rd ? rd + o : NULL, xv, va, vb);
    __m512 v  = _mm512_sub_ps(_mm512_sub_ps(g, vmb), _mm512_mul_ps(_mm512_sub_ps(xv, m), vmg));
    _mm512_storeu_ps(dx + o, _mm512_mul_ps(k, v));
  }
}
  #define BN_RUN16 1
#else
  #define BN_RUN16 0
#endif

/* One pass for the statistics: sums of x - k0 and its square in double, k0 being each channel's
   first value, which keeps the difference of squares well conditioned (the mean is rarely far
   from any one sample in channel units). The earlier two passes (mean, then squared deviations)
   read the activation twice more, and BatchNorm was memory bound (perf: a third of its time in
   each pass). relu: out is the ReLU's output (bn_fuse). acc holds 4*C doubles; ab receives the C scales and
   C shifts applied. relu: out = max(fmaf(in, scale, shift), 0). */
static void bn_blocked_forward(float *out, float *mean, float *invstd, float *ab, double *acc, const float *in,
                               const float *gamma, const float *beta, float *run_mean, float *run_var, int C, int k,
                               int B, int n, int HW, float eps, float momentum, PetscBool train, int relu)
{
  size_t  N = (size_t)n * HW, nb = (size_t)(C / k), run = (size_t)HW * k;
  double *s = acc, *s2 = acc + C, *k0 = acc + 2 * C;
  float  *a = ab, *b = ab + C;
  for (int c = 0; c < C; c++) s[c] = s2[c] = 0, k0[c] = N ? in[(size_t)(c / k) * run + c % k] : 0;
  if (train)
    for (size_t q = 0; q < (size_t)n * nb; q++) {
      const float *x = in + q * run;
      double      *sq = s + q % nb * k, *s2q = s2 + q % nb * k, *kq = k0 + q % nb * k;
#if BN_RUN16
      if (k == 16) {
        stats_run16(sq, s2q, x, kq, HW);
        continue;
      }
#endif
      for (int r = 0; r < HW; r++)
        for (int c = 0; c < k; c++) {
          double v = x[(size_t)r * k + c] - kq[c];
          sq[c] += v, s2q[c] += v * v;
        }
    }
  for (int c = 0; c < C; c++) {
    double m = s[c] / N, v = s2[c] / N - m * m;
    v = v > 0 ? v : 0;
    m += k0[c];
    if (train) {
      run_mean[c] = (float)((1 - momentum) * run_mean[c] + momentum * m);
      run_var[c]  = (float)((1 - momentum) * run_var[c] + momentum * (N > 1 ? v * N / (N - 1) : v));
    } else m = run_mean[c], v = run_var[c];
    mean[c]   = (float)m;
    invstd[c] = (float)(1.0 / sqrt(v + eps));
  }
  for (int c = 0; c < C; c++) a[c] = gamma[c] * invstd[c], b[c] = beta[c] - mean[c] * a[c];
  if (!out) return; /* the add after it normalises (add.c) */
  for (size_t q = 0; q < (size_t)B * nb; q++) { /* the padded tail too, so that it stays finite */
    const float *x = in + q * run, *aq = a + q % nb * k, *bq = b + q % nb * k;
    float       *y = out + q * run;
    if (relu)
      for (size_t r = 0; r < run; r += k)
        for (int c = 0; c < k; c++) {
          float v  = fmaf(x[r + c], aq[c], bq[c]); /* as backward's mask: bit for bit */
          y[r + c] = v > 0 ? v : 0;
        }
    else
      for (size_t r = 0; r < run; r += k)
        for (int c = 0; c < k; c++) y[r + c] = x[r + c] * aq[c] + bq[c];
  }
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
   stream each in loops that are memory bound. The masked gradient goes through a row buffer in
   L1 (GCC 12 vectorizes neither the masked load feeding a double sum nor, without restrict, a
   store among them). */
static void bn_blocked_backward(float *din, float *dgamma, float *dbeta, double *acc, const float *dout,
                                const float *in, const float *mean, const float *invstd, const float *gamma, int C,
                                int k, int B, int n, int HW, PetscBool train, const float *ab, const float *relu_dout)
{
  size_t  N = (size_t)n * HW, nb = (size_t)(C / k), run = (size_t)HW * k;
  double *sg = acc, *sb = acc + C;
  for (int c = 0; c < C; c++) sg[c] = sb[c] = 0;
  for (size_t q = 0; q < (size_t)n * nb; q++) {
#if BN_RUN16
    if (k == 16) {
      size_t c0 = q % nb * k;
      grad_sums_run16(sb + c0, sg + c0, in + q * run, dout + q * run, relu_dout ? relu_dout + q * run : NULL,
                      mean + c0, invstd + c0, ab + c0, ab + C + c0, HW);
      continue;
    }
#endif
    for (size_t r = q * run; r < (q + 1) * run; r += k)
      for (int j = 0; j < k; j += BN_ROW) {
        int                   w = k - j < BN_ROW ? k - j : BN_ROW, c0 = (int)(q % nb) * k + j;
        float                 t[BN_ROW];
        const float *restrict x = in + r + j, *restrict dy = dout + r + j;
        if (relu_dout) relu_row(t, x, relu_dout + r + j, ab + c0, ab + C + c0, w), dy = t;
        for (int c = 0; c < w; c++) {
          sb[c0 + c] += dy[c];
          sg[c0 + c] += dy[c] * ((x[c] - mean[c0 + c]) * invstd[c0 + c]);
        }
      }
  }
  for (int c = 0; c < C; c++) dgamma[c] = (float)sg[c], dbeta[c] = (float)sb[c];
  if (!din) return;
  {
    float *kc = (float *)(acc + 2 * C), *mb = kc + C, *mg = mb + C; /* past the sums, still inside acc */
    for (int c = 0; c < C; c++) {
      kc[c] = gamma[c] * invstd[c], mb[c] = train ? (float)(sb[c] / N) : 0, mg[c] = train ? (float)(sg[c] / N) : 0;
      mg[c] *= invstd[c];
    }
    for (size_t q = 0; q < (size_t)n * nb; q++) {
#if BN_RUN16
      if (k == 16) {
        size_t c0 = q % nb * k;
        grad_in_run16(din + q * run, in + q * run, dout + q * run, relu_dout ? relu_dout + q * run : NULL, mean + c0,
                      kc + c0, mb + c0, mg + c0, ab + c0, ab + C + c0, HW);
        continue;
      }
#endif
      for (size_t r = q * run; r < (q + 1) * run; r += k)
        for (int j = 0; j < k; j += BN_ROW) {
          int                   w = k - j < BN_ROW ? k - j : BN_ROW, c0 = (int)(q % nb) * k + j;
          float                 t[BN_ROW];
          const float *restrict x = in + r + j, *restrict dy = dout + r + j;
          float *restrict       dx = din + r + j;
          if (relu_dout) relu_row(t, x, relu_dout + r + j, ab + c0, ab + C + c0, w), dy = t;
          for (int c = 0; c < w; c++) dx[c] = kc[c0 + c] * (dy[c] - mb[c0 + c] - (x[c] - mean[c0 + c]) * mg[c0 + c]);
        }
    }
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
  bn_blocked_forward(out, w, w + C, w + 2 * C, (double *)l->work + 2 * C, cdn_dnn_src(net, i), ld->weight, ld->bias,
                     ld->running_mean, ld->running_var, C, cdn_dnn_cblock(net->dnn, C), s->B, s->n,
                     ld->in_h * ld->in_w, ld->eps, l->momentum, s->train, relu);
}

static int bn_run_bwd(const cdn_dnn_step_t *s, int i, float *din)
{
  cdn_net_t        *net = s->net;
  cdn_layer_t      *l = &net->layer[i], *r = relu_to_run(net, l);
  cdn_layer_desc_t *ld = l->d;
  const float      *w = l->work;
  int               C = ld->in_c;
  bn_blocked_backward(din, l->gw, l->gb, (double *)l->work + 2 * C, l->dout, cdn_dnn_src(net, i), w, w + C,
                      ld->weight, C, cdn_dnn_cblock(net->dnn, C), s->B, s->n, ld->in_h * ld->in_w, l->masked,
                      r ? w + 2 * C : NULL, r ? r->dout : NULL);
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
/* mean and invstd; then, for the oneDNN engine's kernels, the scale and shift
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
  .op = CDN_OP_BATCHNORM, .inputs = 1, .nhwc_in = 1, .blocks16 = 1, .fused_bwd = 1, .out_shape = bn_shape, .setup = bn_setup,
  .reset = bn_reset, .work_bytes = bn_work, .forward = bn_fwd, .backward = bn_bwd, .fuse = bn_fuse,
  .run_forward = bn_run_fwd, .run_backward = bn_run_bwd};
