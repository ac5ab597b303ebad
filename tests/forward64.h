#pragma once
/* A double-precision forward pass of a layer stack, for finite-difference gradient checks that do
   not depend on float32 rounding or on the instruction set oneDNN picks.

   Why: a central difference of the float32 loss has no good step. With eps = 1e-3 perturbations
   cross ReLU and max-pool kinks; with eps = 1e-5 the loss's rounding (about 1e-7 of the loss,
   amplified by the network) is a few per cent of a small directional derivative. The families test
   failed that way on one AVX-512 CPU (a BatchNorm weight: analytic 0.1053, numeric 0.1108, while
   the engine and the reference kernels agreed on the analytic value to six digits). In double
   precision a step of 1e-6 is far from both troubles, so the check can be tight.

   The pass follows the engine's semantics: NCHW, convolution with zero padding, max pooling over
   in-bounds values, average pooling dividing by K*K (padding counted), BatchNorm on the batch's
   mean and biased variance in training mode (running statistics otherwise), inverted dropout
   with masks drawn exactly as the engine draws them (one uniform per element of each dropout
   layer, in layer order), mean softmax cross-entropy. Parameters come from double copies
   (f64_params) so a perturbation is exact; the network's own float parameters are never touched. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "cnndyn/model.h"
#include "cnndyn/util.h"

typedef struct {
  double *w[CDN_MAX_LAYERS], *b[CDN_MAX_LAYERS]; /* weight (gamma) and bias (beta), NULL if none */
  int     nw[CDN_MAX_LAYERS], nb[CDN_MAX_LAYERS];
} f64_params_t;

static inline int f64_layer_weights(const cdn_layer_desc_t *l)
{
  return l->op == CDN_OP_BATCHNORM ? l->in_c : cdn_layer_weight_count(l);
}

static inline void f64_params_from(f64_params_t *p, const cdn_model_desc_t *m)
{
  memset(p, 0, sizeof *p);
  for (int i = 0; i < m->nlayers; i++) {
    const cdn_layer_desc_t *l = &m->layer[i];
    if (l->weight) {
      p->nw[i] = f64_layer_weights(l), p->w[i] = malloc(sizeof(double) * p->nw[i]);
      for (int k = 0; k < p->nw[i]; k++) p->w[i][k] = l->weight[k];
    }
    if (l->bias) {
      p->nb[i] = l->out_c, p->b[i] = malloc(sizeof(double) * p->nb[i]);
      for (int k = 0; k < p->nb[i]; k++) p->b[i][k] = l->bias[k];
    }
  }
}

static inline void f64_params_free(f64_params_t *p)
{
  for (int i = 0; i < CDN_MAX_LAYERS; i++) free(p->w[i]), free(p->b[i]);
}

static inline size_t f64_out_size(const cdn_layer_desc_t *l) { return (size_t)l->out_c * l->out_h * l->out_w; }

static void f64_conv(double *y, const double *x, const cdn_layer_desc_t *l, const double *w, const double *b, int B)
{
  int C = l->in_c, H = l->in_h, W = l->in_w, O = l->out_c, P = l->out_h, Q = l->out_w, K = l->kernel;
  for (int n = 0; n < B; n++)
    for (int o = 0; o < O; o++)
      for (int p = 0; p < P; p++)
        for (int q = 0; q < Q; q++) {
          double s = b ? b[o] : 0;
          for (int c = 0; c < C; c++)
            for (int i = 0; i < K; i++) {
              int h = p * l->stride - l->padding + i;
              if (h < 0 || h >= H) continue;
              for (int j = 0; j < K; j++) {
                int v = q * l->stride - l->padding + j;
                if (v >= 0 && v < W) s += w[((o * C + c) * K + i) * K + j] * x[((n * C + c) * H + h) * W + v];
              }
            }
          y[((n * O + o) * P + p) * Q + q] = s;
        }
}

static void f64_pool(double *y, const double *x, const cdn_layer_desc_t *l, int B)
{
  int C = l->in_c, H = l->in_h, W = l->in_w, P = l->out_h, Q = l->out_w, K = l->kernel, mx = l->op == CDN_OP_MAXPOOL2D;
  for (int nc = 0; nc < B * C; nc++)
    for (int p = 0; p < P; p++)
      for (int q = 0; q < Q; q++) {
        double s = mx ? -INFINITY : 0;
        for (int i = 0; i < K; i++)
          for (int j = 0; j < K; j++) {
            int h = p * l->stride - l->padding + i, v = q * l->stride - l->padding + j;
            if (h < 0 || h >= H || v < 0 || v >= W) continue;
            double a = x[((size_t)nc * H + h) * W + v];
            s        = mx ? fmax(s, a) : s + a;
          }
        y[((size_t)nc * P + p) * Q + q] = mx ? s : s / (K * K);
      }
}

static void f64_batchnorm(double *y, const double *x, const cdn_layer_desc_t *l, const double *g, const double *b,
                          int B, int train)
{
  int C = l->in_c, HW = l->in_h * l->in_w;
  for (int c = 0; c < C; c++) {
    double m = 0, v = 0;
    if (train) {
      for (int n = 0; n < B; n++)
        for (int k = 0; k < HW; k++) m += x[((size_t)n * C + c) * HW + k];
      m /= (double)B * HW;
      for (int n = 0; n < B; n++)
        for (int k = 0; k < HW; k++) v += (x[((size_t)n * C + c) * HW + k] - m) * (x[((size_t)n * C + c) * HW + k] - m);
      v /= (double)B * HW;
    } else m = l->running_mean[c], v = l->running_var[c];
    for (int n = 0; n < B; n++)
      for (int k = 0; k < HW; k++) {
        size_t e = ((size_t)n * C + c) * HW + k;
        y[e]     = g[c] * (x[e] - m) / sqrt(v + l->eps) + b[c];
      }
  }
}

/* Mean cross-entropy of n items x (NCHW, float as the engine reads it) with labels y; train turns
   BatchNorm's batch statistics and dropout (masks from rng) on. */
static double f64_loss(const cdn_model_desc_t *m, const f64_params_t *p, const float *x, const int *y, int B, int train,
                       cdn_rng_t *rng)
{
  double *out[CDN_MAX_LAYERS] = {0}, loss = 0;
  size_t  insz = (size_t)m->in_c * m->in_h * m->in_w;
  double *in0  = malloc(sizeof(double) * B * insz);
  for (size_t k = 0; k < B * insz; k++) in0[k] = x[k];
  for (int i = 0; i < m->nlayers; i++) {
    const cdn_layer_desc_t *l  = &m->layer[i];
    const double           *a  = l->src < 0 ? in0 : out[l->src];
    size_t                  n  = (size_t)B * f64_out_size(l);
    double                 *o  = out[i] = malloc(sizeof(double) * n);
    switch (l->op) {
    case CDN_OP_CONV2D: f64_conv(o, a, l, p->w[i], p->b[i], B); break;
    case CDN_OP_MAXPOOL2D:
    case CDN_OP_AVGPOOL2D: f64_pool(o, a, l, B); break;
    case CDN_OP_GLOBALAVGPOOL: {
      int HW = l->in_h * l->in_w;
      for (size_t nc = 0; nc < n; nc++) {
        double s = 0;
        for (int k = 0; k < HW; k++) s += a[nc * HW + k];
        o[nc] = s / HW;
      }
    } break;
    case CDN_OP_BATCHNORM: f64_batchnorm(o, a, l, p->w[i], p->b[i], B, train); break;
    case CDN_OP_RELU:
      for (size_t k = 0; k < n; k++) o[k] = a[k] > 0 ? a[k] : 0;
      break;
    case CDN_OP_ADD:
      for (size_t k = 0; k < n; k++) o[k] = a[k] + out[l->src2][k];
      break;
    case CDN_OP_DROPOUT: {
      float keep = (float)(1.0 / (1.0 - l->p)); /* as cdn_dropout_mask draws and scales */
      for (size_t k = 0; k < n; k++) o[k] = train && l->p > 0 ? (cdn_rng_uniform(rng) < l->p ? 0 : a[k] * keep) : a[k];
    } break;
    case CDN_OP_FLATTEN: memcpy(o, a, sizeof(double) * n); break;
    case CDN_OP_LINEAR:
      for (int s = 0; s < B; s++)
        for (int r = 0; r < l->out_c; r++) {
          double t = p->b[i] ? p->b[i][r] : 0;
          for (int c = 0; c < l->in_c; c++) t += p->w[i][(size_t)r * l->in_c + c] * a[(size_t)s * l->in_c + c];
          o[(size_t)s * l->out_c + r] = t;
        }
      break;
    }
  }
  {
    const double *z = out[m->nlayers - 1];
    int           K = m->num_classes;
    for (int s = 0; s < B; s++) {
      double mx = -INFINITY, sum = 0;
      for (int k = 0; k < K; k++) mx = fmax(mx, z[s * K + k]);
      for (int k = 0; k < K; k++) sum += exp(z[s * K + k] - mx);
      loss += mx + log(sum) - z[s * K + y[s]];
    }
  }
  for (int i = 0; i < m->nlayers; i++) free(out[i]);
  free(in0);
  return loss / B;
}
