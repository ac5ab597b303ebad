/* Direct convolution of a first layer with one input channel (conv_small.h), stride 1. oneDNN
   reaches ~15 GFLOP/s on LeNet's conv1 (1 -> 6 channels): its kernels vectorise
   over channels, and 1 input and 6 output channels fill few lanes. Here the vectors run along an
   output row in NHWC order instead, lane p = ow * OC + oc, so every lane is useful for any OC:

     out[oh][p] = bias[p % OC] + sum_{ki,kj} xe[oh + ki][p + kj * OC] * wpat[ki][kj][p % L]

   where xe is the image with each pixel repeated OC times (so the input of lane p shifted by kj
   pixels is simply kj * OC floats further) and wpat[ki][kj] is the weight pattern of the lanes,
   periodic in L = lcm(8, OC) floats. The weight gradient is the same product summed over rows
   and images into one accumulator vector per (tap, lane pattern position), folded into channels
   at the end. Sums run in a fixed order (no threads), and explicit FMAs: the project's -std=c11
   disables contraction, so plain a * b + c would not use the FMA units. */
#include <math.h>
#include <string.h>
#include "conv_small.h"

#define VL 8         /* floats per vector */
#define G  6         /* vectors per group: independent accumulators, enough to hide FMA latency */
#define GF (G * VL)  /* floats per group; the lane pattern period L must divide it */

#if defined(__AVX2__) && defined(__FMA__)
  #include <immintrin.h>
typedef __m256 v8;
static inline v8   ld8(const float *p) { return _mm256_loadu_ps(p); }
static inline void st8(float *p, v8 a) { _mm256_storeu_ps(p, a); }
static inline v8   fma8(v8 a, v8 b, v8 c) { return _mm256_fmadd_ps(a, b, c); }
static inline v8   add8(v8 a, v8 b) { return _mm256_add_ps(a, b); }
static inline v8   relu8(v8 a) { return _mm256_max_ps(a, _mm256_setzero_ps()); }
#else /* the same arithmetic lane by lane: identical results */
typedef struct {
  float f[VL];
} v8;
static inline v8 ld8(const float *p)
{
  v8 a;
  memcpy(a.f, p, sizeof a.f);
  return a;
}
static inline void st8(float *p, v8 a) { memcpy(p, a.f, sizeof a.f); }
static inline v8   fma8(v8 a, v8 b, v8 c)
{
  for (int r = 0; r < VL; r++) c.f[r] = fmaf(a.f[r], b.f[r], c.f[r]);
  return c;
}
static inline v8 add8(v8 a, v8 b)
{
  for (int r = 0; r < VL; r++) a.f[r] += b.f[r];
  return a;
}
static inline v8 relu8(v8 a)
{
  for (int r = 0; r < VL; r++) a.f[r] = a.f[r] > 0 ? a.f[r] : 0;
  return a;
}
#endif

static int lcm8(int oc)
{
  int l = VL;
  while (l % oc) l += VL;
  return l;
}

int cdn_conv1_fits(const cdn_layer_desc_t *d)
{
  return d->op == CDN_OP_CONV2D && d->src < 0 && d->in_c == 1 && d->stride == 1 &&
         d->out_c <= GF && GF % lcm8(d->out_c) == 0 && (d->out_w * d->out_c) % VL == 0;
}

/* The work buffer: xe (the padded image's rows, XS floats each, then one vector of slack for the
   last row's loads; the padding stays zero: expand writes only inside it),
   wpat (K*K*L), bpat (L), and the weight gradient's accumulators (K*K + 1 groups: taps, bias). */
static int row_stride(const cdn_layer_desc_t *d) { return (d->in_w + 2 * d->padding) * d->out_c + VL; }
static int rows(const cdn_layer_desc_t *d) { return d->in_h + 2 * d->padding; }

size_t cdn_conv1_work_floats(const cdn_layer_desc_t *d)
{
  int    K = d->kernel, L = lcm8(d->out_c);
  return (size_t)rows(d) * row_stride(d) + VL + (size_t)K * K * L + L + (size_t)K * K * L + GF;
}

/* One image into xe, each pixel repeated OC times, inside the zero padding. With AVX2 a vector of
   xe is a permutation of 8 consecutive pixels, whose pattern repeats every L floats (L / OC
   pixels); the row's last floats (and those whose 8-pixel loads would run past the image: in its
   last row, or in earlier ones when a row is narrower than 8 pixels) are written lane by lane. Either way a copy: results do not depend on the path. */
static void expand(float *xe, const float *x, const cdn_layer_desc_t *d)
{
  int H = d->in_h, W = d->in_w, OC = d->out_c, XS = row_stride(d), P = d->padding, L = lcm8(OC), NL = L / VL;
  int n = W * OC; /* floats per row */
#if defined(__AVX2__) && defined(__FMA__)
  __m256i idx[GF / VL];
  int     base[GF / VL];
  for (int s = 0; s < NL; s++) {
    int lane[VL];
    base[s] = s * VL / OC;
    for (int r = 0; r < VL; r++) lane[r] = (s * VL + r) / OC - base[s];
    idx[s] = _mm256_loadu_si256((const __m256i *)lane);
  }
#endif
  for (int i = 0; i < H; i++) {
    float       *r  = xe + (size_t)(i + P) * XS + P * OC;
    const float *xi = x + (size_t)i * W;
    int          f  = 0;
#if defined(__AVX2__) && defined(__FMA__)
    for (int k = 0, go = 1; go && f + VL <= n; k += L / OC)
      for (int s = 0; s < NL && f + VL <= n; s++, f += VL) {
        if ((size_t)i * W + k + base[s] + VL > (size_t)H * W) { /* the load would leave the image */
          go = 0;
          break;
        }
        _mm256_storeu_ps(r + f, _mm256_permutevar8x32_ps(_mm256_loadu_ps(xi + k + base[s]), idx[s]));
      }
#endif
    for (int j = f / OC, c = f % OC; f < n; f++, c = c + 1 < OC ? c + 1 : 0, j += !c) r[f] = xi[j];
  }
}

/* The kernels below take the lane pattern period L (8, 16, 24 or 48) as a constant, through
   the switches that call them: (g * VL) % L then folds, so the weight vectors of a group are
   loaded once for the vectors sharing them. */
#define ALWAYS_INLINE static inline __attribute__((always_inline))

/* One input row's K taps into G accumulators (the first ng exist): acc[g] += x[kj * OC + g * VL] *
   w[kj][g * VL % L], kj ascending. */
ALWAYS_INLINE void taps1(v8 *a, const float *x, const float *w, int K, int OC, const int L, const int ng)
{
  for (int kj = 0; kj < K; kj++)
    for (int g = 0; g < G; g++)
      if (g < ng) a[g] = fma8(ld8(x + kj * OC + g * VL), ld8(w + kj * L + (g * VL) % L), a[g]);
}

/* The same input row for two output rows at once: its taps wa into a, wc into c. */
ALWAYS_INLINE void taps2(v8 *a, v8 *c, const float *x, const float *wa, const float *wc, int K, int OC, const int L,
                         const int ng)
{
  for (int kj = 0; kj < K; kj++)
    for (int g = 0; g < G; g++)
      if (g < ng) {
        v8 xv = ld8(x + kj * OC + g * VL);
        a[g]  = fma8(xv, ld8(wa + kj * L + (g * VL) % L), a[g]);
        c[g]  = fma8(xv, ld8(wc + kj * L + (g * VL) % L), c[g]);
      }
}

/* Output rows oh and oh + 1 (two = 0: oh alone) from offset p0 (a multiple of GF) of a row on,
   of which the first ng vectors exist. Each input row loaded serves both output rows (tap ki for
   oh, ki - 1 for oh + 1); every output still sums bias, then taps in (ki, kj) order. With ng
   constant the tests on g fold away and the accumulators stay in registers. */
ALWAYS_INLINE void forward_rows(float *o, int nf, const float *xr, const float *wpat, const float *bpat, int K, int XS,
                                int OC, const int L, const int ng, int two, int relu)
{
  v8 a[G], c[G];
  for (int g = 0; g < G; g++) a[g] = c[g] = ld8(bpat + (g * VL) % L);
  if (!two)
    for (int r = 0; r < K; r++) taps1(a, xr + (size_t)r * XS, wpat + (size_t)r * K * L, K, OC, L, ng);
  else {
    taps1(a, xr, wpat, K, OC, L, ng);
    for (int r = 1; r < K; r++)
      taps2(a, c, xr + (size_t)r * XS, wpat + (size_t)r * K * L, wpat + (size_t)(r - 1) * K * L, K, OC, L, ng);
    taps1(c, xr + (size_t)K * XS, wpat + (size_t)(K - 1) * K * L, K, OC, L, ng);
  }
  for (int g = 0; g < G; g++)
    if (g < ng) {
      st8(o + g * VL, relu ? relu8(a[g]) : a[g]);
      if (two) st8(o + nf + g * VL, relu ? relu8(c[g]) : c[g]);
    }
}

ALWAYS_INLINE void forward_image(float *o, const float *xe, const float *wpat, const float *bpat, int K, int XS, int OC,
                                 int OH, int nf, const int L, int relu)
{
  for (int oh = 0; oh < OH; oh += 2) {
    int two = oh + 1 < OH, p0 = 0;
    for (; p0 + GF <= nf; p0 += GF)
      forward_rows(o + (size_t)oh * nf + p0, nf, xe + (size_t)oh * XS + p0, wpat, bpat, K, XS, OC, L, G, two, relu);
    for (int ng = 1; ng < G; ng++) /* the row's last, partial group: ng a constant in each call */
      if ((nf - p0) / VL == ng) forward_rows(o + (size_t)oh * nf + p0, nf, xe + (size_t)oh * XS + p0, wpat, bpat, K,
                                             XS, OC, L, ng, two, relu);
  }
}

/* One function per period: a switch over inlined calls differing only in the constant got
   merged back into one call with L a variable (measured: no folding, no speedup). */
#define FORWARD_L(LL)                                                                                               \
  static void forward_image_##LL(float *o, const float *xe, const float *wpat, const float *bpat, int K, int XS,   \
                                 int OC, int OH, int nf, int relu)                                                \
  {                                                                                                               \
    forward_image(o, xe, wpat, bpat, K, XS, OC, OH, nf, LL, relu);                                                 \
  }
FORWARD_L(8)
FORWARD_L(16)
FORWARD_L(24)
FORWARD_L(48)

void cdn_conv1_forward(float *out, const float *x, const cdn_layer_desc_t *d, int B, int relu, float *work)
{
  int          H = d->in_h, W = d->in_w, OC = d->out_c, K = d->kernel, OH = d->out_h, L = lcm8(OC);
  int          XS = row_stride(d), nf = d->out_w * OC;
  float       *xe = work, *wpat = xe + (size_t)rows(d) * XS + VL, *bpat = wpat + (size_t)K * K * L;
  const float *w = d->weight;

  for (int t = 0; t < K * K; t++)
    for (int r = 0; r < L; r++) wpat[t * L + r] = w[(r % OC) * K * K + t];
  for (int r = 0; r < L; r++) bpat[r] = d->bias ? d->bias[r % OC] : 0.0f;
  for (int b = 0; b < B; b++) {
    float *o = out + (size_t)b * OH * nf;
    expand(xe, x + (size_t)b * H * W, d);
    switch (L) {
    case 8: forward_image_8(o, xe, wpat, bpat, K, XS, OC, OH, nf, relu); break;
    case 16: forward_image_16(o, xe, wpat, bpat, K, XS, OC, OH, nf, relu); break;
    case 24: forward_image_24(o, xe, wpat, bpat, K, XS, OC, OH, nf, relu); break;
    default: forward_image_48(o, xe, wpat, bpat, K, XS, OC, OH, nf, relu); break;
    }
  }
}

#define KB 5 /* weight gradient: taps along a kernel row per pass, sharing each dout vector */

/* acc[t][0..L) += over every row and vector of one image: dout times the input under tap t, for
   the nj taps t = ki * K + kj0 .. + nj - 1 of a kernel row. Vector v of a row adds into pattern
   position (v * VL) % L. nj and L constants: the accumulators stay in registers. */
ALWAYS_INLINE void wgrad_taps(float *acc, const float *dimg, const float *xe, int K, int XS, int OC, int OH, int nf,
                              const int L, int ki, int kj0, const int nj)
{
  enum { NLMAX = 6 };
  const int NL = L / VL;
  float    *at = acc + (size_t)(ki * K + kj0) * L;
  v8        a[KB][NLMAX];
  for (int j = 0; j < nj; j++)
    for (int s = 0; s < NL; s++) a[j][s] = ld8(at + (size_t)j * L + s * VL);
  for (int oh = 0; oh < OH; oh++) {
    const float *dr = dimg + (size_t)oh * nf, *xr = xe + (size_t)(oh + ki) * XS + kj0 * OC;
    int          p0 = 0;
    for (; p0 + L <= nf; p0 += L)
      for (int s = 0; s < NL; s++) {
        v8 dv = ld8(dr + p0 + s * VL);
        for (int j = 0; j < nj; j++) a[j][s] = fma8(dv, ld8(xr + j * OC + p0 + s * VL), a[j][s]);
      }
    for (int s = 0; s < NL && p0 + s * VL < nf; s++) { /* the row's last, partial period */
      v8 dv = ld8(dr + p0 + s * VL);
      for (int j = 0; j < nj; j++) a[j][s] = fma8(dv, ld8(xr + j * OC + p0 + s * VL), a[j][s]);
    }
  }
  for (int j = 0; j < nj; j++)
    for (int s = 0; s < NL; s++) st8(at + (size_t)j * L + s * VL, a[j][s]);
}

#define WGRAD_L(LL)                                                                                                 \
  static void wgrad_taps_##LL(float *acc, const float *dimg, const float *xe, int K, int XS, int OC, int OH, int nf, \
                              int ki, int kj0)                                                                    \
  {                                                                                                               \
    if (K - kj0 >= KB) wgrad_taps(acc, dimg, xe, K, XS, OC, OH, nf, LL, ki, kj0, KB);                              \
    else                                                                                                          \
      for (int nj = 1; nj < KB; nj++)                                                                             \
        if (K - kj0 == nj) wgrad_taps(acc, dimg, xe, K, XS, OC, OH, nf, LL, ki, kj0, nj);                          \
  }
WGRAD_L(8)
WGRAD_L(16)
WGRAD_L(24)
WGRAD_L(48)

/* bacc[0..GF) += one image's dout, vector v of a row into slot v % G, whose lanes' channels are
   fixed since L divides GF. */
static void bias_sums(float *bacc, const float *dimg, int OH, int nf)
{
  v8 a[G];
  for (int g = 0; g < G; g++) a[g] = ld8(bacc + g * VL);
  for (int oh = 0; oh < OH; oh++) {
    const float *dr = dimg + (size_t)oh * nf;
    int          p0 = 0;
    for (; p0 + GF <= nf; p0 += GF)
      for (int g = 0; g < G; g++) a[g] = add8(a[g], ld8(dr + p0 + g * VL));
    for (int g = 0; g < G; g++)
      if (p0 + g * VL < nf) a[g] = add8(a[g], ld8(dr + p0 + g * VL));
  }
  for (int g = 0; g < G; g++) st8(bacc + g * VL, a[g]);
}

void cdn_conv1_backward_weights(float *gw, float *gb, const float *dout, const float *x, const cdn_layer_desc_t *d,
                                int B, float *work)
{
  int    H = d->in_h, W = d->in_w, OC = d->out_c, K = d->kernel, OH = d->out_h, L = lcm8(OC);
  int    XS = row_stride(d), nf = d->out_w * OC;
  float *xe = work, *acc = xe + (size_t)rows(d) * XS + VL + (size_t)K * K * L + L, *bacc = acc + (size_t)K * K * L;

  memset(acc, 0, sizeof(float) * ((size_t)K * K * L + GF));
  for (int b = 0; b < B; b++) {
    const float *dimg = dout + (size_t)b * OH * nf;
    expand(xe, x + (size_t)b * H * W, d);
    for (int ki = 0; ki < K; ki++)
      for (int kj0 = 0; kj0 < K; kj0 += KB) switch (L) {
        case 8: wgrad_taps_8(acc, dimg, xe, K, XS, OC, OH, nf, ki, kj0); break;
        case 16: wgrad_taps_16(acc, dimg, xe, K, XS, OC, OH, nf, ki, kj0); break;
        case 24: wgrad_taps_24(acc, dimg, xe, K, XS, OC, OH, nf, ki, kj0); break;
        default: wgrad_taps_48(acc, dimg, xe, K, XS, OC, OH, nf, ki, kj0); break;
        }
    bias_sums(bacc, dimg, OH, nf);
  }
  /* fold: pattern position r holds channel r % OC (OC divides L) */
  for (int c = 0; c < OC; c++) {
    for (int t = 0; t < K * K; t++) {
      float s = 0;
      for (int r = c; r < L; r += OC) s += acc[(size_t)t * L + r];
      gw[c * K * K + t] = s;
    }
    if (gb) {
      float s = 0;
      for (int r = c; r < GF; r += OC) s += bacc[r];
      gb[c] = s;
    }
  }
}
