/* The one-input-channel convolution kernels (src/nn/conv_small.c) against a direct double
   precision sum: forward (with and without the fused ReLU), weight and bias gradients, for
   output channel counts with every lane pattern period (8, 16, 24, 48), padding 0 to 2, 3x3 and
   5x5 kernels, and rows that end in a partial group; plus the shapes they must refuse. Each check
   is relative to the sum of the absolute terms, at float accuracy. The work buffer is reused
   across calls, as the engine does. */
#include <stdlib.h>
#include "check.h"
#include "../src/nn/conv_small.h"

static float frand(unsigned *s) { return (float)((*s = *s * 1103515245u + 12345u) >> 8 & 0xffff) / 32768.0f - 1.0f; }

static void shape(int OC, int H, int K, int P)
{
  cdn_layer_desc_t d = {.op = CDN_OP_CONV2D, .src = -1, .in_c = 1, .out_c = OC, .in_h = H, .in_w = H, .kernel = K,
                        .stride = 1, .padding = P};
  int      B = 3, OH = H + 2 * P - K + 1, worst = 0;
  size_t   no = (size_t)B * OH * OH * OC;
  unsigned seed = 7u + OC * 131u + H * 17u + K;
  float   *x = malloc(sizeof(float) * B * H * H), *w = malloc(sizeof(float) * OC * K * K), *bias = malloc(sizeof(float) * OC);
  float   *out = malloc(sizeof(float) * no), *dout = malloc(sizeof(float) * no), *gw = malloc(sizeof(float) * OC * K * K);
  float   *gb = malloc(sizeof(float) * OC), *work;
  d.out_h = d.out_w = OH, d.weight = w, d.bias = bias;
  CHECK(cdn_conv1_fits(&d));
  work = calloc(cdn_conv1_work_floats(&d), sizeof(float));
  for (int i = 0; i < B * H * H; i++) x[i] = frand(&seed);
  for (int i = 0; i < OC * K * K; i++) w[i] = frand(&seed);
  for (int i = 0; i < OC; i++) bias[i] = frand(&seed);
  for (size_t i = 0; i < no; i++) dout[i] = frand(&seed);
  for (int relu = 0; relu < 2; relu++) {
    cdn_conv1_forward(out, x, &d, B, relu, work);
    for (int b = 0; b < B; b++)
      for (int oh = 0; oh < OH; oh++)
        for (int ow = 0; ow < OH; ow++)
          for (int c = 0; c < OC; c++) {
            double s = bias[c], a = fabs(bias[c]);
            for (int ki = 0; ki < K; ki++)
              for (int kj = 0; kj < K; kj++) {
                int ih = oh + ki - P, iw = ow + kj - P;
                if (ih < 0 || iw < 0 || ih >= H || iw >= H) continue;
                s += (double)x[(b * H + ih) * H + iw] * w[c * K * K + ki * K + kj];
                a += fabs((double)x[(b * H + ih) * H + iw] * w[c * K * K + ki * K + kj]);
              }
            if (relu && s < 0) s = 0;
            if (!(fabs(out[((size_t)(b * OH + oh) * OH + ow) * OC + c] - s) <= 1e-6 * a)) worst++;
          }
  }
  cdn_conv1_backward_weights(gw, gb, dout, x, &d, B, work);
  for (int c = 0; c < OC; c++) {
    double sb = 0, ab = 0;
    for (int ki = 0; ki < K; ki++)
      for (int kj = 0; kj < K; kj++) {
        double s = 0, a = 0;
        for (int b = 0; b < B; b++)
          for (int oh = 0; oh < OH; oh++)
            for (int ow = 0; ow < OH; ow++) {
              int    ih = oh + ki - P, iw = ow + kj - P;
              double g  = dout[((size_t)(b * OH + oh) * OH + ow) * OC + c];
              if (ki == 0 && kj == 0) sb += g, ab += fabs(g);
              if (ih < 0 || iw < 0 || ih >= H || iw >= H) continue;
              s += g * x[(b * H + ih) * H + iw], a += fabs(g * x[(b * H + ih) * H + iw]);
            }
        if (!(fabs(gw[c * K * K + ki * K + kj] - s) <= 1e-6 * a)) worst++;
      }
    if (!(fabs(gb[c] - sb) <= 1e-6 * ab)) worst++;
  }
  printf("OC %2d H %2d K %d P %d: %d values off\n", OC, H, K, P, worst);
  CHECK(worst == 0);
  free(x), free(w), free(bias), free(out), free(dout), free(gw), free(gb), free(work);
}

int main(void)
{
  cdn_layer_desc_t no = {.op = CDN_OP_CONV2D, .src = -1, .in_c = 1, .out_c = 6, .in_h = 27, .in_w = 27, .out_h = 23,
                         .out_w = 23, .kernel = 5, .stride = 1};
  shape(6, 28, 5, 2);  /* LeNet: 28 x 6 floats a row, 3 full groups and a partial one */
  shape(6, 28, 5, 0);  /* 24 x 6: exactly 3 groups */
  shape(6, 28, 7, 3);  /* kernel rows in two passes of taps (5 + 2) */
  shape(3, 32, 5, 2);  /* period 24 */
  shape(12, 28, 5, 2); /* width 2 */
  shape(16, 10, 3, 1); /* period 16 */
  shape(1, 16, 5, 2);  /* period 8, one channel */
  shape(2, 12, 5, 0);
  shape(24, 7, 3, 1);  /* period 24, 7 x 24 floats a row */
  shape(48, 6, 3, 1);  /* period 48 */
  CHECK(!cdn_conv1_fits(&no)); /* 23 x 6 floats a row: not whole vectors */
  no.out_c = 5, no.in_h = no.in_w = 28, no.out_h = no.out_w = 24;
  CHECK(!cdn_conv1_fits(&no)); /* period 40 does not divide a group */
  no.out_c = 6, no.stride = 2, no.out_h = no.out_w = 12;
  CHECK(!cdn_conv1_fits(&no));
  no.stride = 1, no.in_c = 3, no.out_h = no.out_w = 24;
  CHECK(!cdn_conv1_fits(&no));
  return check_failures;
}
