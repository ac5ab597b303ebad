/* Training-time augmentation for small images, done in place on a normalised batch so nothing is
   allocated per batch: a random crop from the image padded by pad on every side (padding takes
   fill, the normalised value of a black pixel, as torchvision pads raw pixels with 0), then a
   horizontal flip with probability 1/2. Draws come from the training stream, three per image. */
#include <string.h>
#include "cnndyn/data.h"

void cdn_augment_crop_flip(float *x, int n, int c, int h, int w, int pad, float fill, cdn_rng_t *rng)
{
  float tmp[CDN_AUGMENT_MAX_WIDTH];
  if (w > CDN_AUGMENT_MAX_WIDTH) return; /* refused at network creation; never half-done */
  for (int i = 0; i < n; i++) {
    int dy = (int)cdn_rng_below(rng, 2 * pad + 1) - pad, dx = (int)cdn_rng_below(rng, 2 * pad + 1) - pad;
    int flip = (int)cdn_rng_below(rng, 2);
    for (int ch = 0; ch < c; ch++) {
      float *img = x + ((size_t)i * c + ch) * h * w;
      /* output row r reads source row r + dy: walk so that no source row is overwritten first */
      for (int k = 0; k < h; k++) {
        int r = dy >= 0 ? k : h - 1 - k, sr = r + dy;
        if (sr < 0 || sr >= h) {
          for (int j = 0; j < w; j++) img[r * w + j] = fill;
          continue;
        }
        memcpy(tmp, img + sr * w, sizeof(float) * w);
        for (int j = 0; j < w; j++) {
          int sc = (flip ? w - 1 - j : j) + dx;
          img[r * w + j] = sc >= 0 && sc < w ? tmp[sc] : fill;
        }
      }
    }
  }
}
