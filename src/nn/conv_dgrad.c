/* The input gradient of a stride-1 convolution with 8 or fewer input channels (LeNet's conv2:
   6 -> 16), on AVX-512. oneDNN 2.6 vectorises that backward over input channels: 6 of 16 lanes
   useful, 52 GFLOP/s against its forward's 128 on the same shape (one thread), and a fifth of a
   LeNet-5 training step (perf). Here the lanes are 16 images instead, so every lane is useful at
   any channel count and the zero padding costs nothing (its taps are skipped by loop bounds); 0.27
   ms against oneDNN's 0.32-0.59 on LeNet's shape at batch 64 (a shared machine), 0.16 against 7.2
   on 3 -> 8 channels, 5x5, pad 2. With 12 input channels oneDNN was 2x faster: 8 is the limit.

     din[b][ih][iw][ic] = sum over valid kh, kw, oc of dout[b][ih + pad - kh][iw + pad - kw][oc] * w[oc][ic][kh][kw]

   on copies of dout and din with the image innermost ([B/16][H][W][C][16]; the batch tail is
   zero), the transposes costing a few percent of the products. Each lane runs the same FMA
   sequence in a fixed order (kh, kw, oc ascending), so results do not depend on the batch size
   or on which lane an image lands in. */
#include "conv_small.h"

#if defined(__AVX512F__)
  #include <immintrin.h>
  #define LN 16 /* images per vector */
  #define NA 8  /* accumulators: input channels per pass */

static int nblocks(int B) { return (B + LN - 1) / LN; }

int cdn_conv_dgrad_fits(const cdn_layer_desc_t *d) { return d->op == CDN_OP_CONV2D && d->stride == 1 && d->in_c <= NA; }

size_t cdn_conv_dgrad_work_floats(const cdn_layer_desc_t *d, int B)
{
  size_t nb = (size_t)nblocks(B) * LN;
  return nb * d->out_h * d->out_w * d->out_c + nb * d->in_h * d->in_w * d->in_c +
         (size_t)d->kernel * d->kernel * d->out_c * d->in_c + LN;
}

/* Input channels ic0 .. ic0 + n - 1 of one input pixel; n a constant through the switch below. */
static inline __attribute__((always_inline)) void pixel(float *dst, const float *g, const float *wr,
                                                        const cdn_layer_desc_t *d, int ih, int iw, int ic0,
                                                        const int n)
{
  int    K = d->kernel, P = d->padding, OH = d->out_h, OW = d->out_w, OC = d->out_c, IC = d->in_c;
  int    khl = ih + P - (OH - 1), khh = ih + P, kwl = iw + P - (OW - 1), kwh = iw + P;
  __m512 acc[NA];
  if (khl < 0) khl = 0;
  if (khh > K - 1) khh = K - 1;
  if (kwl < 0) kwl = 0;
  if (kwh > K - 1) kwh = K - 1;
  for (int j = 0; j < n; j++) acc[j] = _mm512_setzero_ps();
  for (int kh = khl; kh <= khh; kh++)
    for (int kw = kwl; kw <= kwh; kw++) {
      const float *gp = g + ((size_t)(ih + P - kh) * OW + (iw + P - kw)) * OC * LN;
      const float *wp = wr + (size_t)(kh * K + kw) * OC * IC + ic0;
      for (int oc = 0; oc < OC; oc++, gp += LN, wp += IC) {
        __m512 x = _mm512_load_ps(gp);
        for (int j = 0; j < n; j++) acc[j] = _mm512_fmadd_ps(x, _mm512_set1_ps(wp[j]), acc[j]);
      }
    }
  for (int j = 0; j < n; j++) _mm512_store_ps(dst + (size_t)(ic0 + j) * LN, acc[j]);
}

void cdn_conv_dgrad(float *din, const float *dout, const float *w, const cdn_layer_desc_t *d, int B, float *work)
{
  int    H = d->in_h, W = d->in_w, IC = d->in_c, OC = d->out_c, K = d->kernel, NB = nblocks(B);
  size_t po = (size_t)d->out_h * d->out_w * OC, pi = (size_t)H * W * IC; /* floats per item */
  float *g  = (float *)(((size_t)work + 63) / 64 * 64), *dt = g + NB * LN * po, *wr = dt + NB * LN * pi;

  for (int oc = 0; oc < OC; oc++) /* w[oc][ic][kh][kw] -> wr[kh][kw][oc][ic] */
    for (int ic = 0; ic < IC; ic++)
      for (int k = 0; k < K * K; k++) wr[((size_t)k * OC + oc) * IC + ic] = w[((size_t)oc * IC + ic) * K * K + k];
  for (int nb = 0; nb < NB; nb++) { /* dout -> g, image innermost: one gather per float of an item */
    int          n  = B - nb * LN < LN ? B - nb * LN : LN;
    __mmask16    m  = (__mmask16)((1u << n) - 1);
    __m512i      ix = _mm512_mullo_epi32(_mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
                                         _mm512_set1_epi32((int)po));
    const float *s  = dout + (size_t)nb * LN * po;
    float       *t  = g + (size_t)nb * LN * po;
    for (size_t k = 0; k < po; k++)
      _mm512_store_ps(t + k * LN, _mm512_mask_i32gather_ps(_mm512_setzero_ps(), m, ix, s + k, 4));
  }
  for (int nb = 0; nb < NB; nb++) {
    const float *gb = g + (size_t)nb * LN * po;
    for (int ih = 0; ih < H; ih++)
      for (int iw = 0; iw < W; iw++) {
        float *dst = dt + (size_t)nb * LN * pi + ((size_t)ih * W + iw) * IC * LN;
        for (int ic0 = 0; ic0 < IC; ic0 += NA) switch (IC - ic0 < NA ? IC - ic0 : NA) {
          case 1: pixel(dst, gb, wr, d, ih, iw, ic0, 1); break;
          case 2: pixel(dst, gb, wr, d, ih, iw, ic0, 2); break;
          case 3: pixel(dst, gb, wr, d, ih, iw, ic0, 3); break;
          case 4: pixel(dst, gb, wr, d, ih, iw, ic0, 4); break;
          case 5: pixel(dst, gb, wr, d, ih, iw, ic0, 5); break;
          case 6: pixel(dst, gb, wr, d, ih, iw, ic0, 6); break;
          case 7: pixel(dst, gb, wr, d, ih, iw, ic0, 7); break;
          default: pixel(dst, gb, wr, d, ih, iw, ic0, 8); break;
          }
      }
  }
  { /* dt -> din: 16 floats of an item per gather */
    __m512i ix = _mm512_mullo_epi32(_mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
                                    _mm512_set1_epi32(LN));
    for (int b = 0; b < B; b++) {
      const float *s = dt + (size_t)(b / LN) * LN * pi + b % LN;
      float       *t = din + (size_t)b * pi;
      size_t       k = 0;
      for (; k + LN <= pi; k += LN) _mm512_storeu_ps(t + k, _mm512_i32gather_ps(ix, s + k * LN, 4));
      for (; k < pi; k++) t[k] = s[k * LN];
    }
  }
}
#else /* without AVX-512 the engine keeps oneDNN's backward (conv.c asks fits first) */
int    cdn_conv_dgrad_fits(const cdn_layer_desc_t *d) { return 0; }
size_t cdn_conv_dgrad_work_floats(const cdn_layer_desc_t *d, int B) { return 0; }
void   cdn_conv_dgrad(float *din, const float *dout, const float *w, const cdn_layer_desc_t *d, int B, float *work) {}
#endif
