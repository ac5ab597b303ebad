/* Flatten turns the channel-major [C][B][HW] layout into one row per item, [B][C*HW], in the order
   PyTorch's flatten gives an NCHW tensor, so fc1's weights keep PyTorch's meaning. */
#include <string.h>
#include "cnndyn/nn.h"
#include "layer.h"

void cdn_flatten_forward(float *out, const float *in, int B, int C, int HW)
{
  for (int c = 0; c < C; c++)
    for (int b = 0; b < B; b++) memcpy(out + ((size_t)b * C + c) * HW, in + ((size_t)c * B + b) * HW, sizeof(float) * HW);
}

void cdn_flatten_backward(float *din, const float *dout, int B, int C, int HW)
{
  for (int c = 0; c < C; c++)
    for (int b = 0; b < B; b++) memcpy(din + ((size_t)c * B + b) * HW, dout + ((size_t)b * C + c) * HW, sizeof(float) * HW);
}

/* ---- layer table ---- */

static int flat_shape(cdn_layer_desc_t *d)
{
  d->out_c = cdn_layer_in_size(d), d->out_h = d->out_w = 1;
  return d->out_c > 0;
}
static size_t flat_work(const cdn_layer_desc_t *d, int B) { return 0; }
static void   flat_fwd(cdn_layer_t *l, const float *in, int B, PetscBool train, cdn_rng_t *rng)
{
  cdn_flatten_forward(l->out, in, B, l->d->in_c, l->d->in_h * l->d->in_w);
}
static void flat_bwd(cdn_layer_t *l, const float *in, float *din, int B)
{
  if (din) cdn_flatten_backward(din, l->dout, B, l->d->in_c, l->d->in_h * l->d->in_w);
}
const cdn_layer_ops_t cdn_flatten_ops = {CDN_OP_FLATTEN, flat_shape, flat_work, flat_fwd, flat_bwd};
