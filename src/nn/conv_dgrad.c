/* Convolution kernels whose vector lanes are 16 images, on AVX-512: the input gradient of a
   stride-1 convolution with 8 or fewer input channels (LeNet's conv2: 6 -> 16), and the forward
   and weight gradient of a one-channel first layer with 8 or fewer outputs (LeNet's conv1; at the
   end of the file). The input gradient first: oneDNN 2.6 vectorises it over input channels, 6 of
   16 lanes useful, 52 GFLOP/s against its forward's 128 on the same shape (one thread), and a
   fifth of a LeNet-5 training step (perf). Here every lane is useful at any channel count and the
   zero padding costs nothing (its taps are skipped by loop bounds); 0.27 ms against oneDNN's
   0.32-0.59 on LeNet's shape at batch 64 (a shared machine), 0.16 against 7.2 on 3 -> 8 channels,
   5x5, pad 2. With 12 input channels oneDNN was 2x faster: 8 is the limit.

     din[b][ih][iw][ic] = sum over valid kh, kw, oc of dout[b][ih + pad - kh][iw + pad - kw][oc] * w[oc][ic][kh][kw]

   on copies of dout and din with the image innermost ([B/16][H][W][C][16]; the batch tail is
   zero), the transposes (tr16) taking about a fifth of these kernels' time in a LeNet-5 run.
   Each lane runs the same FMA sequence in a fixed order (kh, kw, oc ascending), so the input
   gradient and the forward do not depend on the batch size or on which lane an image lands in;
   the weight gradient sums in a fixed order too (positions and blocks, then one 16-lane
   reduction), so the same batch gives the same bits. */
#include <string.h>
#include "conv_small.h"

#if defined(__AVX512F__)
  #include <immintrin.h>
  #define LN 16 /* images per vector */
  #define NA 8  /* accumulators: input channels per pass */
  #define KW 5  /* the weight gradient's largest kernel (3 or 5): KW x WO accumulators, KW taps in registers */
  #define WO 4  /* the weight gradient's output channels per pass */

static int nblocks(int B) { return (B + LN - 1) / LN; }

int cdn_conv_dgrad_fits(const cdn_layer_desc_t *d) { return d->op == CDN_OP_CONV2D && d->stride == 1 && d->in_c <= NA; }

size_t cdn_conv_dgrad_work_floats(const cdn_layer_desc_t *d, int B)
{
  size_t nb = (size_t)nblocks(B) * LN;
  return nb * d->out_h * d->out_w * d->out_c + nb * d->in_h * d->in_w * d->in_c +
         (size_t)d->kernel * d->kernel * d->out_c * d->in_c + LN;
}

/* Input channels ic0 .. ic0 + n - 1 of one input pixel in nb image blocks (their copies gs floats
   apart in g, ds in dt): each weight broadcast serves nb products, the sums starting from bias
   (NULL: zero), taking the taps in descending order when rev, and ending in max(., 0) when relu. n and nb are constants through the switch below. */
static inline __attribute__((always_inline)) void pixel(float *dst, size_t ds, const float *g, size_t gs,
                                                        const float *wr, const float *bias, int relu, int rev,
                                                        const cdn_layer_desc_t *d, int ih, int iw, int ic0,
                                                        const int n, const int nb)
{
  int    K = d->kernel, P = d->padding, OH = d->out_h, OW = d->out_w, OC = d->out_c, IC = d->in_c;
  int    khl = ih + P - (OH - 1), khh = ih + P, kwl = iw + P - (OW - 1), kwh = iw + P;
  __m512 acc[2][NA];
  if (khl < 0) khl = 0;
  if (khh > K - 1) khh = K - 1;
  if (kwl < 0) kwl = 0;
  if (kwh > K - 1) kwh = K - 1;
  for (int k = 0; k < nb; k++)
    for (int j = 0; j < n; j++) acc[k][j] = bias ? _mm512_set1_ps(bias[ic0 + j]) : _mm512_setzero_ps();
  for (int a = 0; a <= khh - khl; a++)
    for (int b = 0; b <= kwh - kwl; b++) {
      int          kh = rev ? khh - a : khl + a, kw = rev ? kwh - b : kwl + b;
      const float *gp = g + ((size_t)(ih + P - kh) * OW + (iw + P - kw)) * OC * LN;
      const float *wp = wr + (size_t)(kh * K + kw) * OC * IC + ic0;
      for (int oc = 0; oc < OC; oc++, gp += LN, wp += IC) {
        __m512 x[2];
        for (int k = 0; k < nb; k++) x[k] = _mm512_load_ps(gp + k * gs);
        for (int j = 0; j < n; j++) {
          __m512 wj = _mm512_set1_ps(wp[j]);
          for (int k = 0; k < nb; k++) acc[k][j] = _mm512_fmadd_ps(x[k], wj, acc[k][j]);
        }
      }
    }
  for (int k = 0; k < nb; k++)
    for (int j = 0; j < n; j++)
      _mm512_store_ps(dst + k * ds + (size_t)(ic0 + j) * LN,
                      relu ? _mm512_max_ps(acc[k][j], _mm512_setzero_ps()) : acc[k][j]);
}

/* dst row i (16 floats, rows dstride apart) = column i of the 16 x 16 block whose row j is src + j
   * sstride: the transposes between NHWC and image lanes, 16 loads, 64 shuffles and 16 stores for
   256 floats (gathers, 16 cache lines each, took 40% of the kernel's time on LeNet's conv1). */
/* (GCC 12 turns the 16 stores, when they are contiguous, into a spill and a memcpy: 5% of a
   LeNet-5 run, perf; the attribute keeps them stores) */
__attribute__((optimize("no-tree-loop-distribute-patterns"))) static void tr16(float *dst, size_t dstride,
                                                                                const float *src, size_t sstride)
{
  __m512 r[16], t[16];
  for (int j = 0; j < 16; j++) r[j] = _mm512_loadu_ps(src + j * sstride);
  for (int i = 0; i < 8; i++) {
    t[2 * i]     = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  for (int i = 0; i < 4; i++) {
    r[4 * i + 0] = _mm512_shuffle_ps(t[4 * i + 0], t[4 * i + 2], 0x44);
    r[4 * i + 1] = _mm512_shuffle_ps(t[4 * i + 0], t[4 * i + 2], 0xEE);
    r[4 * i + 2] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0x44);
    r[4 * i + 3] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0xEE);
  }
  for (int i = 0; i < 2; i++)
    for (int j = 0; j < 4; j++) {
      t[8 * i + j]     = _mm512_shuffle_f32x4(r[8 * i + j], r[8 * i + j + 4], 0x88);
      t[8 * i + j + 4] = _mm512_shuffle_f32x4(r[8 * i + j], r[8 * i + j + 4], 0xDD);
    }
  for (int j = 0; j < 8; j++) {
    r[j]     = _mm512_shuffle_f32x4(t[j], t[j + 8], 0x88);
    r[j + 8] = _mm512_shuffle_f32x4(t[j], t[j + 8], 0xDD);
  }
  for (int i = 0; i < 16; i++) _mm512_storeu_ps(dst + i * dstride, r[i]);
}

/* B items of po floats each -> g, image innermost ([B/16][po][16]; a partial block's by masked
   gathers, its missing items zero). */
static void to_lanes(float *g, const float *src, int B, size_t po)
{
  for (int nb = 0; nb < nblocks(B); nb++) {
    int          n  = B - nb * LN < LN ? B - nb * LN : LN;
    __mmask16    m  = (__mmask16)((1u << n) - 1);
    __m512i      ix = _mm512_mullo_epi32(_mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
                                         _mm512_set1_epi32((int)po));
    const float *s  = src + (size_t)nb * LN * po;
    float       *t  = g + (size_t)nb * LN * po;
    size_t       k  = 0;
    if (n == LN)
      for (; k + LN <= po; k += LN) tr16(t + k * LN, LN, s + k, po);
    for (; k < po; k++) _mm512_store_ps(t + k * LN, _mm512_mask_i32gather_ps(_mm512_setzero_ps(), m, ix, s + k, 4));
  }
}

/* The work buffer: g, dt, then wr (the weights as wr[kh][kw][oc][ic], filled by the caller). */
static float *weights_at(const cdn_layer_desc_t *d, int B, float *work)
{
  size_t po = (size_t)d->out_h * d->out_w * d->out_c, pi = (size_t)d->in_h * d->in_w * d->in_c;
  return (float *)(((size_t)work + 63) / 64 * 64) + (size_t)nblocks(B) * LN * (po + pi);
}

/* din = the sum above over wr, in d's roles (dout: out_*, din: in_*), from bias, then ReLU'd when relu. */
static void lanes_run(float *din, const float *dout, const cdn_layer_desc_t *d, int B, float *work, const float *bias,
                      int relu, int rev)
{
  int    H = d->in_h, W = d->in_w, IC = d->in_c, OC = d->out_c, NB = nblocks(B);
  size_t po = (size_t)d->out_h * d->out_w * OC, pi = (size_t)H * W * IC; /* floats per item */
  float *g  = (float *)(((size_t)work + 63) / 64 * 64), *dt = g + NB * LN * po, *wr = dt + NB * LN * pi;
  to_lanes(g, dout, B, po);
  for (int nb = 0; nb < NB; nb += 2) { /* two image blocks at a time, the last alone if NB is odd */
    const float *gb = g + (size_t)nb * LN * po;
    size_t       gs = LN * po, ds = LN * pi;
    for (int ih = 0; ih < H; ih++)
      for (int iw = 0; iw < W; iw++) {
        float *dst = dt + (size_t)nb * LN * pi + ((size_t)ih * W + iw) * IC * LN;
        for (int ic0 = 0; ic0 < IC; ic0 += NA) {
          int n = IC - ic0 < NA ? IC - ic0 : NA;
  #define PIXEL(N)                                                                                             \
    nb + 1 < NB ? pixel(dst, ds, gb, gs, wr, bias, relu, rev, d, ih, iw, ic0, N, 2)                                \
                : pixel(dst, ds, gb, gs, wr, bias, relu, rev, d, ih, iw, ic0, N, 1)
          switch (n) {
          case 1: PIXEL(1); break;
          case 2: PIXEL(2); break;
          case 3: PIXEL(3); break;
          case 4: PIXEL(4); break;
          case 5: PIXEL(5); break;
          case 6: PIXEL(6); break;
          case 7: PIXEL(7); break;
          default: PIXEL(8); break;
          }
  #undef PIXEL
        }
      }
  }
  { /* dt -> din: whole blocks by tr16, the tail's items by gathers of 16 floats */
    __m512i ix = _mm512_mullo_epi32(_mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
                                    _mm512_set1_epi32(LN));
    int full = B / LN * LN;
    for (int b = 0; b < full; b += LN) {
      size_t k = 0;
      for (; k + LN <= pi; k += LN) tr16(din + (size_t)b * pi + k, pi, dt + (size_t)b * pi + k * LN, LN);
      for (int i = 0; i < LN; i++)
        for (size_t q = k; q < pi; q++) din[(size_t)(b + i) * pi + q] = dt[(size_t)b * pi + q * LN + i];
    }
    for (int b = full; b < B; b++) {
      const float *s = dt + (size_t)(b / LN) * LN * pi + b % LN;
      float       *t = din + (size_t)b * pi;
      size_t       k = 0;
      for (; k + LN <= pi; k += LN) _mm512_storeu_ps(t + k, _mm512_i32gather_ps(ix, s + k * LN, 4));
      for (; k < pi; k++) t[k] = s[k * LN];
    }
  }
}

void cdn_conv_dgrad(float *din, const float *dout, const float *w, const cdn_layer_desc_t *d, int B, float *work)
{
  int    IC = d->in_c, OC = d->out_c, K = d->kernel;
  float *wr = weights_at(d, B, work);
  for (int oc = 0; oc < OC; oc++) /* w[oc][ic][kh][kw] -> wr[kh][kw][oc][ic] */
    for (int ic = 0; ic < IC; ic++)
      for (int k = 0; k < K * K; k++) wr[((size_t)k * OC + oc) * IC + ic] = w[((size_t)oc * IC + ic) * K * K + k];
  lanes_run(din, dout, d, B, work, NULL, 0, 0);
}

/* The forward of a one-channel stride-1 convolution is the same sum with the roles swapped (the
   image in dout's place, the output in din's) over the flipped kernel, padded by K - 1 - pad. Its
   taps run in descending flipped order, i.e. the kernel's own (kh, kw) ascending from the bias,
   the FMA chain conv_small.c's forward runs (its zero-padding taps add exact zeros), so both give
   the same bits and a run's initial evaluation is identical under ONEDNN_MAX_CPU_ISA=AVX2
   (tests/e2e.sh isa). */
static cdn_layer_desc_t forward_roles(const cdn_layer_desc_t *d)
{
  cdn_layer_desc_t f = {0};
  f.kernel = d->kernel, f.padding = d->kernel - 1 - d->padding;
  f.out_h = d->in_h, f.out_w = d->in_w, f.out_c = 1;
  f.in_h = d->out_h, f.in_w = d->out_w, f.in_c = d->out_c;
  return f;
}

int cdn_conv1_lanes_fits(const cdn_layer_desc_t *d)
{
  return d->op == CDN_OP_CONV2D && d->in_c == 1 && d->stride == 1 && d->out_c <= NA && d->padding < d->kernel &&
         (d->kernel == 3 || d->kernel == 5);
}

/* the forward's buffer, then the weight gradient's zero-padded image copy */
size_t cdn_conv1_lanes_work_floats(const cdn_layer_desc_t *d, int B)
{
  cdn_layer_desc_t f = forward_roles(d);
  return cdn_conv_dgrad_work_floats(&f, B) +
         (size_t)nblocks(B) * LN * (d->in_h + 2 * d->padding) * (d->in_w + 2 * d->padding) + LN;
}

void cdn_conv1_lanes_forward(float *out, const float *x, const cdn_layer_desc_t *d, int B, int relu, float *work)
{
  cdn_layer_desc_t f  = forward_roles(d);
  int              K  = d->kernel, OC = d->out_c;
  float           *wr = weights_at(&f, B, work);
  for (int oc = 0; oc < OC; oc++) /* w[oc][0][kh][kw] -> wr[K-1-kh][K-1-kw][0][oc] */
    for (int k = 0; k < K * K; k++) wr[(size_t)(K * K - 1 - k) * OC + oc] = d->weight[(size_t)oc * K * K + k];
  lanes_run(out, x, &f, B, work, d->bias, relu, 1);
}
/* One kernel row kh, output channels oc0 .. oc0 + n - 1 (n and the kernel size K constants through
   the switches below, so the accumulators and taps stay in registers):
   acc[kw][j] sums dout[oc0 + j] * image[oh + kh][ow + kw] over every position and image block,
   ab[j] the bias gradient (with kh 0). */
static inline __attribute__((always_inline)) void wgrad_row(float *gw, float *gb, const float *xp, const float *dt,
                                                            const cdn_layer_desc_t *d, int NB, int kh, int oc0,
                                                            const int n, const int K)
{
  int    OH = d->out_h, OW = d->out_w, OC = d->out_c, XW = d->in_w + 2 * d->padding;
  size_t xs = (size_t)(d->in_h + 2 * d->padding) * XW * LN, ds = (size_t)OH * OW * OC * LN; /* per block */
  __m512 acc[KW][WO], ab[WO];
  for (int j = 0; j < n; j++) {
    ab[j] = _mm512_setzero_ps();
    for (int kw = 0; kw < K; kw++) acc[kw][j] = _mm512_setzero_ps();
  }
  for (int nb = 0; nb < NB; nb++)
    for (int oh = 0; oh < OH; oh++)
      for (int ow = 0; ow < OW; ow++) {
        const float *xr = xp + nb * xs + ((size_t)(oh + kh) * XW + ow) * LN;
        const float *dp = dt + nb * ds + (((size_t)oh * OW + ow) * OC + oc0) * LN;
        __m512       x[KW];
        for (int kw = 0; kw < K; kw++) x[kw] = _mm512_load_ps(xr + kw * LN);
        for (int j = 0; j < n; j++) {
          __m512 dv = _mm512_load_ps(dp + j * LN);
          if (kh == 0 && gb) ab[j] = _mm512_add_ps(ab[j], dv);
          for (int kw = 0; kw < K; kw++) acc[kw][j] = _mm512_fmadd_ps(x[kw], dv, acc[kw][j]);
        }
      }
  for (int j = 0; j < n; j++) {
    for (int kw = 0; kw < K; kw++) gw[(size_t)(oc0 + j) * K * K + kh * K + kw] = _mm512_reduce_add_ps(acc[kw][j]);
    if (kh == 0 && gb) gb[oc0 + j] = _mm512_reduce_add_ps(ab[j]);
  }
}

void cdn_conv1_lanes_backward_weights(float *gw, float *gb, const float *dout, const float *x,
                                      const cdn_layer_desc_t *d, int B, float *work)
{
  cdn_layer_desc_t f  = forward_roles(d);
  int              H = d->in_h, W = d->in_w, P = d->padding, NB = nblocks(B), XW = W + 2 * P, XH = H + 2 * P;
  size_t           px = (size_t)H * W, po = (size_t)d->out_h * d->out_w * d->out_c;
  float *dt = (float *)(((size_t)work + 63) / 64 * 64) + (size_t)NB * LN * px; /* the forward's output region */
  float *xp = (float *)(((size_t)(work + cdn_conv_dgrad_work_floats(&f, B)) + 63) / 64 * 64);

  /* the image into xp's interior, image innermost; the border stays as the engine's buffer came,
     zero, as nothing else writes there */
  for (int nb = 0; nb < NB; nb++) {
    int       n  = B - nb * LN < LN ? B - nb * LN : LN;
    __mmask16 m  = (__mmask16)((1u << n) - 1);
    __m512i   ix = _mm512_mullo_epi32(_mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
                                      _mm512_set1_epi32((int)px));
    for (int ih = 0; ih < H; ih++) {
      const float *s = x + (size_t)nb * LN * px + (size_t)ih * W;
      float       *t = xp + (((size_t)nb * XH + ih + P) * XW + P) * LN;
      int          k = 0;
      if (n == LN)
        for (; k + LN <= W; k += LN) tr16(t + (size_t)k * LN, LN, s + k, px);
      for (; k < W; k++)
        _mm512_store_ps(t + (size_t)k * LN, _mm512_mask_i32gather_ps(_mm512_setzero_ps(), m, ix, s + k, 4));
    }
  }
  to_lanes(dt, dout, B, po);
  for (int kh = 0; kh < d->kernel; kh++)
    for (int oc0 = 0; oc0 < d->out_c; oc0 += WO) {
      int n = d->out_c - oc0 < WO ? d->out_c - oc0 : WO;
  #define ROW(N) \
    d->kernel == 3 ? wgrad_row(gw, gb, xp, dt, d, NB, kh, oc0, N, 3) : wgrad_row(gw, gb, xp, dt, d, NB, kh, oc0, N, 5)
      switch (n) {
      case 1: ROW(1); break;
      case 2: ROW(2); break;
      case 3: ROW(3); break;
      default: ROW(4); break;
      }
  #undef ROW
    }
}
#else /* without AVX-512 the engine keeps oneDNN's backward and conv_small.c's forward (conv.c asks fits first) */
int    cdn_conv1_lanes_fits(const cdn_layer_desc_t *d) { return 0; }
size_t cdn_conv1_lanes_work_floats(const cdn_layer_desc_t *d, int B) { return 0; }
void   cdn_conv1_lanes_forward(float *out, const float *x, const cdn_layer_desc_t *d, int B, int relu, float *work) {}
void   cdn_conv1_lanes_backward_weights(float *gw, float *gb, const float *dout, const float *x,
                                        const cdn_layer_desc_t *d, int B, float *work) {}
int    cdn_conv_dgrad_fits(const cdn_layer_desc_t *d) { return 0; }
size_t cdn_conv_dgrad_work_floats(const cdn_layer_desc_t *d, int B) { return 0; }
void   cdn_conv_dgrad(float *din, const float *dout, const float *w, const cdn_layer_desc_t *d, int B, float *work) {}
#endif
