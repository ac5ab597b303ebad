/* Residual sum of two outputs of the same shape. Backward hands dout to both inputs: the net
   passes it on to src2 itself (layer.h, inputs), since a layer's backward has one din. */
#include <math.h>
#include <string.h>
#include "dnn.h"

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

/* ---- the oneDNN engine ---- */

/* A BatchNorm's normalisation done by the add reading it, with the ReLU after the add:
   out = max(fmaf(x, a, b) + sc, 0), so the BatchNorm's own output is never written nor read.
   The blocked layout as batchnorm.c walks it: runs of HW rows of k channels. */
static void bn_add_relu_forward(float *restrict out, const float *restrict x, const float *restrict ab,
                                const float *restrict sc, int C, int k, size_t HW, size_t items)
{
  size_t nb = (size_t)(C / k), run = HW * k;
  for (size_t q = 0; q < items * nb; q++) {
    const float *a = ab + q % nb * k, *b = a + C;
    for (size_t r = q * run; r < (q + 1) * run; r += k)
      for (int c = 0; c < k; c++) {
        float y    = fmaf(x[r + c], a[c], b[c]) + sc[r + c];
        out[r + c] = y > 0 ? y : 0;
      }
  }
}

/* A ReLU that is its sole reader (ResNet's): the add writes the ReLU's output and runs its
   backward (unless both inputs are one layer, whose gradient would then be given twice at once).
   With that ReLU, a BatchNorm that is its first input and has no other reader leaves its
   normalisation to the add: the BatchNorm only takes statistics; its backward is unchanged. */
static void add_fuse(cdn_net_t *net, int i)
{
  const cdn_layer_desc_t *ld = &net->desc.layer[i];
  int                     s  = ld->src;
  net->layer[i].fused = ld->src != ld->src2 ? cdn_dnn_relu_after(net, i) : -1;
  if (net->layer[i].fused >= 0 && s >= 0 && net->desc.layer[s].op == CDN_OP_BATCHNORM && net->dnn->readers[s] == 1)
    net->layer[s].fused = i;
}

static void add_run_fwd(const cdn_dnn_step_t *s, int i)
{
  cdn_net_t   *net = s->net;
  cdn_layer_t *l   = &net->layer[i], *src = &net->layer[l->d->src];
  size_t       m   = (size_t)s->B * net->dnn->floats[i];
  if (src->fused == i)
    bn_add_relu_forward(net->layer[l->fused].out, cdn_dnn_src(net, l->d->src), cdn_bn_scale_shift(src), l->in2,
                        l->d->in_c, cdn_dnn_cblock(net->dnn, l->d->in_c), (size_t)l->d->in_h * l->d->in_w, (size_t)s->B);
  else if (l->fused >= 0) cdn_add_relu_forward(net->layer[l->fused].out, src->out, l->in2, (int)m);
  else cdn_add_forward(l->out, src->out, l->in2, (int)m);
}

/* The fused ReLU's backward gives input src2 its gradient too (returns 1); else the net does. */
static int add_run_bwd(const cdn_dnn_step_t *s, int i, float *din)
{
  cdn_net_t   *net = s->net;
  cdn_layer_t *l   = &net->layer[i], *r = l->fused >= 0 && net->layer[l->fused].fused < 0 ? &net->layer[l->fused] : NULL;
  size_t       m   = (size_t)s->B * net->dnn->floats[l->d->src];
  if (!r) {
    memcpy(din, l->dout, sizeof(float) * m);
    return 0;
  }
  cdn_add_relu_backward(din, net->layer[l->d->src2].dout, s->written[l->d->src2], r->dout, r->out, (int)m);
  return 1;
}

/* ---- the operation's table ---- */

static void add_fwd(cdn_layer_t *l, const float *in, int B, PetscBool train, cdn_rng_t *rng)
{
  cdn_add_forward(l->out, in, l->in2, B * cdn_layer_out_size(l->d));
}
static void add_bwd(cdn_layer_t *l, const float *in, float *din, int B)
{
  if (din) memcpy(din, l->dout, sizeof(float) * B * cdn_layer_out_size(l->d));
}
/* out_shape: the architecture checks that src2 has the same shape */
const cdn_layer_ops_t cdn_add_op = {.op = CDN_OP_ADD, .inputs = 2, .nhwc_in = 1, .blocks16 = 1, .fused_bwd = 1,
                                    .out_shape = cdn_same_shape, .work_bytes = cdn_no_work, .forward = add_fwd,
                                    .backward = add_bwd, .fuse = add_fuse, .run_forward = add_run_fwd,
                                    .run_backward = add_run_bwd};
