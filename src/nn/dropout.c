/* Inverted dropout: survivors are scaled by 1/(1-p) during training so evaluation is the identity. */
#include <string.h>
#include "layer.h"

void cdn_dropout_mask(float *mask, int n, double p, cdn_rng_t *rng)
{
  float keep = (float)(1.0 / (1.0 - p));
  for (int i = 0; i < n; i++) mask[i] = cdn_rng_uniform(rng) < p ? 0.0f : keep;
}

void cdn_dropout_forward(float *out, const float *in, const float *mask, int n)
{
  for (int i = 0; i < n; i++) out[i] = in[i] * mask[i];
}

void cdn_dropout_backward(float *din, const float *dout, const float *mask, int n)
{
  for (int i = 0; i < n; i++) din[i] = dout[i] * mask[i];
}

/* ---- the operation's table (the engine runs these kernels too, after the flatten) ---- */

static int drop_shape(cdn_layer_desc_t *d)
{
  d->out_c = d->in_c, d->out_h = d->in_h, d->out_w = d->in_w;
  return d->p >= 0 && d->p < 1;
}
static size_t drop_work(const cdn_layer_desc_t *d, int B, int reference)
{
  return sizeof(float) * (size_t)B * cdn_layer_out_size(d);
}
static void   drop_fwd(cdn_layer_t *l, const float *in, int B, PetscBool train, cdn_rng_t *rng)
{
  int n     = B * cdn_layer_out_size(l->d);
  l->masked = train && l->d->p > 0;
  if (l->masked) {
    cdn_dropout_mask(l->work, n, l->d->p, rng);
    cdn_dropout_forward(l->out, in, l->work, n);
  } else memcpy(l->out, in, sizeof(float) * n);
}
static void drop_bwd(cdn_layer_t *l, const float *in, float *din, int B)
{
  int n = B * cdn_layer_out_size(l->d);
  if (!din) return;
  if (l->masked) cdn_dropout_backward(din, l->dout, l->work, n);
  else memcpy(din, l->dout, sizeof(float) * n);
}
/* the engine: after the flatten only, where masks are drawn in PyTorch's element order */
const cdn_layer_ops_t cdn_dropout_op = {.op = CDN_OP_DROPOUT, .inputs = 1, .nhwc_in = -1, .out_shape = drop_shape,
                                        .work_bytes = drop_work, .forward = drop_fwd, .backward = drop_bwd};
