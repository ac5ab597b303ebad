/* ReLU; backward reads the output (positive exactly where the input was). On the engine's blocked
   activations (NHWC or nChw16c: elementwise, the layout does not matter) a neighbour usually does its work (layer.h, fused): the conv, BatchNorm or add
   before it writes its output, and a tiling max-pool after it (or that BatchNorm or add) runs its
   backward. */
#include "dnn.h"

void cdn_relu_forward(float *out, const float *in, int n)
{
  for (int i = 0; i < n; i++) out[i] = in[i] > 0 ? in[i] : 0;
}

void cdn_relu_backward(float *din, const float *dout, const float *out, int n)
{
  for (int i = 0; i < n; i++) din[i] = out[i] > 0 ? dout[i] : 0;
}

/* ---- the oneDNN engine ---- */

/* The layer before did the forward: it fused this ReLU. */
static int done_by_src(const cdn_net_t *net, int i)
{
  int s = net->desc.layer[i].src;
  return s >= 0 && net->layer[s].fused == i;
}

/* Blocked: over all B items (the padded tail stays finite); after the flatten: the n real ones. */
static void relu_run_fwd(const cdn_dnn_step_t *s, int i)
{
  cdn_net_t   *net = s->net;
  cdn_layer_t *l   = &net->layer[i];
  if (done_by_src(net, i)) return;
  if (net->dnn->blocked[i]) cdn_relu_forward(l->out, cdn_dnn_src(net, i), (int)((size_t)s->B * net->dnn->floats[i]));
  else l->ops->forward(l, cdn_dnn_src(net, i), s->n, s->train, s->rng);
}

static int relu_run_bwd(const cdn_dnn_step_t *s, int i, float *din)
{
  cdn_net_t   *net = s->net;
  cdn_layer_t *l   = &net->layer[i];
  int          src = l->d->src;
  if (l->fused >= 0 || (done_by_src(net, i) && net->layer[src].ops->fused_bwd)) return 0; /* a neighbour did it */
  if (net->dnn->blocked[i]) cdn_relu_backward(din, l->dout, l->out, (int)((size_t)s->B * net->dnn->floats[src]));
  else l->ops->backward(l, cdn_dnn_src(net, i), din, s->n);
  return 0;
}

/* ---- the operation's table ---- */

static void relu_fwd(cdn_layer_t *l, const float *in, int B, PetscBool train, cdn_rng_t *rng)
{
  cdn_relu_forward(l->out, in, B * cdn_layer_out_size(l->d));
}
static void relu_bwd(cdn_layer_t *l, const float *in, float *din, int B)
{
  if (din) cdn_relu_backward(din, l->dout, l->out, B * cdn_layer_out_size(l->d));
}
const cdn_layer_ops_t cdn_relu_op = {.op = CDN_OP_RELU, .inputs = 1, .blocks16 = 1, .out_shape = cdn_same_shape,
                                     .work_bytes = cdn_no_work, .forward = relu_fwd, .backward = relu_bwd,
                                     .run_forward = relu_run_fwd, .run_backward = relu_run_bwd};
