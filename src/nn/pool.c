/* 2x2 max-pool, stride 2 (odd trailing rows/columns dropped, as PyTorch does). The argmax is kept
   so that backward is a scatter, and a NaN input picks the first element instead of reading junk. */
#include <string.h>
#include "cnndyn/nn.h"
#include "layer.h"

void cdn_maxpool2_forward(float *out, int *arg, const float *in, int P, int H, int W)
{
  int OH = H / 2, OW = W / 2;
  for (int p = 0; p < P; p++) {
    const float *src  = in + (size_t)p * H * W;
    int          base = p * H * W;
    for (int oh = 0; oh < OH; oh++)
      for (int ow = 0; ow < OW; ow++) {
        int   i0 = 2 * oh * W + 2 * ow, cand[3] = {i0 + 1, i0 + W, i0 + W + 1}, best = i0;
        float m  = src[i0];
        for (int k = 0; k < 3; k++)
          if (src[cand[k]] > m) m = src[cand[k]], best = cand[k];
        *out++ = m;
        *arg++ = base + best;
      }
  }
}

void cdn_maxpool2_backward(float *din, const float *dout, const int *arg, int P, int H, int W)
{
  size_t n = (size_t)P * (H / 2) * (W / 2);
  memset(din, 0, sizeof(float) * (size_t)P * H * W);
  for (size_t i = 0; i < n; i++) din[arg[i]] += dout[i];
}

/* ---- layer table ---- */

static int pool_params(const cdn_layer_desc_t *d) { return 0; }
static int pool_shape(cdn_layer_desc_t *d)
{
  d->out_c = d->in_c;
  d->out_h = d->in_h / 2;
  d->out_w = d->in_w / 2;
  return d->out_h > 0 && d->out_w > 0 && d->kernel == 2 && d->stride == 2;
}
static size_t pool_work(const cdn_layer_desc_t *d, int B) { return sizeof(int) * (size_t)B * cdn_layer_out_size(d); }
static void   pool_fwd(cdn_layer_t *l, const float *in, int B, PetscBool train, cdn_rng_t *rng)
{
  cdn_maxpool2_forward(l->out, l->work, in, l->d->in_c * B, l->d->in_h, l->d->in_w);
}
static void pool_bwd(cdn_layer_t *l, const float *in, float *din, int B)
{
  if (din) cdn_maxpool2_backward(din, l->dout, l->work, l->d->in_c * B, l->d->in_h, l->d->in_w);
}
const cdn_layer_ops_t cdn_maxpool2_ops = {CDN_OP_MAXPOOL2D, pool_params, pool_shape, pool_work, pool_fwd, pool_bwd};
