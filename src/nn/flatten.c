/* Flatten turns the spatial layout into one row per item, [B][C*HW], in the order PyTorch's
   flatten gives an NCHW tensor, so fc1's weights keep PyTorch's meaning: from channel-major
   [C][B][HW] (the reference), or from the engine's blocked layout by a oneDNN reorder. */
#include <string.h>
#include "dnn.h"
#include "reference.h"

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

/* ---- the oneDNN engine: blocked -> NCHW, and back for the gradient ---- */

static PetscErrorCode flat_plan(cdn_net_t *net, int i, int B, cdn_dnn_layer_t *pl)
{
  cdn_layer_t            *l = &net->layer[i];
  const cdn_layer_desc_t *ld = l->d;
  dnnl_memory_desc_t      blk, flat;

  PetscFunctionBeginUser;
  cdn_dnn_md4(&blk, B, ld->in_c, ld->in_h, ld->in_w, cdn_dnn_tag(net->dnn));
  cdn_dnn_md4(&flat, B, ld->in_c, ld->in_h, ld->in_w, dnnl_nchw);
  PetscCall(cdn_dnn_reorder(net->dnn, &pl->fwd, &blk, net->layer[ld->src].out, &flat, l->out, ld->name));
  PetscCall(cdn_dnn_reorder(net->dnn, &pl->bwd, &flat, l->dout, &blk, cdn_dnn_grad_in(net, i), ld->name));
  PetscFunctionReturn(0);
}

static void flat_run_fwd(const cdn_dnn_step_t *s, int i) { cdn_dnn_run(s->net->dnn, &s->plan->l[i].fwd, "flatten"); }

static int flat_run_bwd(const cdn_dnn_step_t *s, int i, float *din)
{
  cdn_layer_t *l = &s->net->layer[i];
  if (s->n < s->B) /* the padded rows get no gradient */
    memset(l->dout + (size_t)s->n * l->d->out_c, 0, sizeof(float) * (size_t)(s->B - s->n) * l->d->out_c);
  cdn_dnn_run(s->net->dnn, &s->plan->l[i].bwd, "flatten backward");
  return 0;
}

/* ---- the operation's table ---- */

static int flat_shape(cdn_layer_desc_t *d)
{
  d->out_c = cdn_layer_in_size(d), d->out_h = d->out_w = 1;
  return d->out_c > 0;
}
static void flat_fwd(cdn_layer_t *l, const float *in, int B, PetscBool train, cdn_rng_t *rng)
{
  cdn_flatten_forward(l->out, in, B, l->d->in_c, l->d->in_h * l->d->in_w);
}
static void flat_bwd(cdn_layer_t *l, const float *in, float *din, int B)
{
  if (din) cdn_flatten_backward(din, l->dout, B, l->d->in_c, l->d->in_h * l->d->in_w);
}
const cdn_layer_ops_t cdn_flatten_op = {
  .op = CDN_OP_FLATTEN, .inputs = 1, .nhwc_in = 1, .ends_nhwc = 1, .blocks16 = 1, .out_shape = flat_shape, .work_bytes = cdn_no_work,
  .forward = flat_fwd, .backward = flat_bwd, .plan = flat_plan, .run_forward = flat_run_fwd, .run_backward = flat_run_bwd};
