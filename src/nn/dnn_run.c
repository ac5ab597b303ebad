/* A training step on the oneDNN engine: the same walk as the reference (train.c), each layer
   running its operation's run_forward and run_backward (blocked layers execute their bound
   primitives or their own kernels over the plan's B items) or, without them, its reference
   kernels over the n real items (the head after the flatten). */
#include <math.h>
#include <string.h>
#include "cnndyn/nn.h"
#include "dnn.h"

/* Does any of the n guard bytes at g differ from the pattern? */
static int pattern_broken(const void *g, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (((const unsigned char *)g)[i] != CDN_DNN_GUARD_BYTE) return 1;
  return 0;
}

/* Guard mode (dnn.h): did the last primitive write into any buffer's guard bytes (the engine's
   own buffers', then the net's)? */
static int guard_broken(const cdn_dnn_t *d)
{
  for (int k = 0; k < d->nbufs; k++)
    if (pattern_broken((const char *)d->bufs[k] + d->buf_bytes[k],
                       (d->buf_bytes[k] + 63) / 64 * 64 + CDN_DNN_GUARD - d->buf_bytes[k]))
      return 1;
  for (int k = 0; k < d->nguard; k++)
    if (pattern_broken(d->guard_at[k], CDN_DNN_GUARD)) return 1;
  return 0;
}

void cdn_dnn_run(cdn_dnn_t *d, cdn_dnn_op_t *op, const char *what)
{
  dnnl_status_t s;
  if (!op->p || d->status != dnnl_success) return;
  s = dnnl_primitive_execute(op->p, d->stream, op->nargs, op->args);
  if (s == dnnl_success) s = dnnl_stream_wait(d->stream);
  if (s == dnnl_success && d->guard && guard_broken(d)) s = dnnl_runtime_error, what = "write past a buffer (guard mode)";
  if (s != dnnl_success) d->status = s, d->failed = what;
}


double cdn_dnn_forward_backward(cdn_net_t *net, const float *x, const int *y, int n, PetscBool train, PetscBool grads,
                                cdn_rng_t *rng, int *correct)
{
  cdn_dnn_t      *d    = net->dnn;
  cdn_layer_t    *last = &net->layer[net->nl - 1];
  size_t          insz = (size_t)net->desc.in_c * net->desc.in_h * net->desc.in_w;
  char            written[CDN_MAX_LAYERS] = {0};
  cdn_dnn_step_t  s    = {net, &d->plan[0], 0, n, train, rng, written};
  double          loss;

  if (n > s.plan->B && d->nplan > 1) s.plan = &d->plan[1];
  s.B = s.plan->B;
  if (x != net->x) memmove(net->x, x, sizeof(float) * n * insz); /* a team member's slice of net->x: may overlap */
  if (n < s.B) memset(net->x + n * insz, 0, sizeof(float) * (s.B - n) * insz);
  cdn_dnn_run(d, &s.plan->in, "input reorder");

  for (int i = 0; i < net->nl; i++) {
    cdn_layer_t *l = &net->layer[i];
    if (l->ops->run_forward) l->ops->run_forward(&s, i);
    else l->ops->forward(l, cdn_dnn_src(net, i), n, train, rng);
  }
  loss = cdn_softmax_xent(grads ? last->dout : NULL, correct, last->out, y, n, net->desc.num_classes);
  if (d->status != dnnl_success) return NAN;
  if (!grads || !isfinite(loss)) return loss;

  for (int i = net->nl - 1; i >= 0; i--) {
    cdn_layer_t      *l  = &net->layer[i];
    cdn_layer_desc_t *ld = l->d;
    int               src = ld->src, gave2 = 0;
    float            *din = src < 0 ? NULL : d->to_scratch[i] ? net->scratch : net->layer[src].dout;
    size_t            m   = src < 0 ? 0 : (size_t)(d->blocked[src] ? s.B : n) * d->floats[src];
    if (l->ops->run_backward) gave2 = l->ops->run_backward(&s, i, din);
    else l->ops->backward(l, cdn_dnn_src(net, i), din, n);
    if (src >= 0 && written[src])
      for (size_t k = 0; k < m; k++) net->layer[src].dout[k] += net->scratch[k];
    if (src >= 0) written[src] = 1;
    if (l->ops->inputs == 2 && gave2) written[ld->src2] = 1;
    else if (l->ops->inputs == 2 && ld->src2 >= 0) cdn_grad_give(net->layer[ld->src2].dout, l->dout, m, written, ld->src2);
  }
  return d->status != dnnl_success ? NAN : loss;
}
