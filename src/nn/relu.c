/* ReLU; backward reads the output (positive exactly where the input was). */
#include "cnndyn/nn.h"
#include "layer.h"

void cdn_relu_forward(float *out, const float *in, int n)
{
  for (int i = 0; i < n; i++) out[i] = in[i] > 0 ? in[i] : 0;
}

void cdn_relu_backward(float *din, const float *dout, const float *out, int n)
{
  for (int i = 0; i < n; i++) din[i] = out[i] > 0 ? dout[i] : 0;
}

/* ---- layer table ---- */

static int relu_shape(cdn_layer_desc_t *d)
{
  d->out_c = d->in_c, d->out_h = d->in_h, d->out_w = d->in_w;
  return 1;
}
static size_t relu_work(const cdn_layer_desc_t *d, int B) { return 0; }
static void   relu_fwd(cdn_layer_t *l, const float *in, int B, PetscBool train, cdn_rng_t *rng)
{
  cdn_relu_forward(l->out, in, B * cdn_layer_out_size(l->d));
}
static void relu_bwd(cdn_layer_t *l, const float *in, float *din, int B)
{
  if (din) cdn_relu_backward(din, l->dout, l->out, B * cdn_layer_out_size(l->d));
}
const cdn_layer_ops_t cdn_relu_ops = {CDN_OP_RELU, relu_shape, relu_work, relu_fwd, relu_bwd};
