/* Residual sum of two outputs of the same shape. Backward hands dout to both inputs: the net
   passes it on to src2 itself, since a layer's backward has one din. */
#include <string.h>
#include "cnndyn/nn.h"
#include "layer.h"

void cdn_add_forward(float *out, const float *a, const float *b, int n)
{
  for (int i = 0; i < n; i++) out[i] = a[i] + b[i];
}

void cdn_add_relu_forward(float *out, const float *a, const float *b, int n)
{
  for (int i = 0; i < n; i++) {
    float v = a[i] + b[i];
    out[i]  = v > 0 ? v : 0;
  }
}

void cdn_add_relu_backward(float *din, float *d2, int accumulate, const float *dout, const float *out, int n)
{
  if (accumulate)
    for (int i = 0; i < n; i++) {
      float g = out[i] > 0 ? dout[i] : 0.0f;
      din[i] = g, d2[i] += g;
    }
  else
    for (int i = 0; i < n; i++) {
      float g = out[i] > 0 ? dout[i] : 0.0f;
      din[i] = g, d2[i] = g;
    }
}

static int add_shape(cdn_layer_desc_t *d)
{
  d->out_c = d->in_c, d->out_h = d->in_h, d->out_w = d->in_w;
  return 1; /* the net checks that src2 has the same shape */
}
static size_t add_work(const cdn_layer_desc_t *d, int B) { return 0; }
static void   add_fwd(cdn_layer_t *l, const float *in, int B, PetscBool train, cdn_rng_t *rng)
{
  cdn_add_forward(l->out, in, l->in2, B * cdn_layer_out_size(l->d));
}
static void add_bwd(cdn_layer_t *l, const float *in, float *din, int B)
{
  if (din) memcpy(din, l->dout, sizeof(float) * B * cdn_layer_out_size(l->d));
}
const cdn_layer_ops_t cdn_add_ops = {CDN_OP_ADD, add_shape, add_work, add_fwd, add_bwd};
