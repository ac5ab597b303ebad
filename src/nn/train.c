/* The training step (forward, backward, optimiser) and the epoch loops. Nothing here allocates per
   step; a non-finite loss ends the epoch so a diverged model costs nothing more. */
#include <math.h>
#include <string.h>
#include <dnnl_debug.h>
#include "cnndyn/nn.h"
#include "dnn.h"

/* NCHW -> [C][B][H][W]; with one channel the two layouts are the same bytes. */
static const float *channel_major(cdn_net_t *net, const float *x, int n)
{
  int C = net->desc.in_c, HW = net->desc.in_h * net->desc.in_w;
  if (C == 1) return x;
  for (int b = 0; b < n; b++)
    for (int c = 0; c < C; c++) memcpy(net->xc + ((size_t)c * n + b) * HW, x + ((size_t)b * C + c) * HW, sizeof(float) * HW);
  return net->xc;
}

/* The reference kernels. Layers run in stack order, each reading the output of its src. */
double cdn_net_reference_forward(cdn_net_t *net, const float *x, const int *y, int n, PetscBool train, PetscBool grads,
                                 cdn_rng_t *rng, int *correct)
{
  const float *x0   = channel_major(net, x, n);
  cdn_layer_t *last = &net->layer[net->nl - 1];
  for (int i = 0; i < net->nl; i++) {
    int src = net->desc.layer[i].src;
    net->layer[i].ops->forward(&net->layer[i], src < 0 ? x0 : net->layer[src].out, n, train, rng);
  }
  return cdn_softmax_xent(grads ? last->dout : NULL, correct, last->out, y, n, net->desc.num_classes);
}

/* Backward runs in reverse; a layer whose output feeds two layers (a residual block's input)
   receives the second gradient through the scratch buffer and a sum, since every backward kernel
   overwrites its din. */
void cdn_net_reference_backward(cdn_net_t *net, const float *x, int n)
{
  const float *x0 = net->desc.in_c == 1 ? x : net->xc; /* forward's channel-major copy */
  char         written[CDN_MAX_LAYERS] = {0};
  for (int i = net->nl - 1; i >= 0; i--) {
    cdn_layer_t            *l = &net->layer[i];
    const cdn_layer_desc_t *d = l->d;
    int                     s = d->src, m = n * cdn_layer_in_size(d);
    float                  *din = s < 0 ? NULL : written[s] ? net->scratch : net->layer[s].dout;
    l->ops->backward(l, s < 0 ? x0 : net->layer[s].out, din, n);
    if (s >= 0 && written[s])
      for (int k = 0; k < m; k++) net->layer[s].dout[k] += net->scratch[k];
    if (s >= 0) written[s] = 1;
    if (l->ops->inputs == 2 && d->src2 >= 0) cdn_grad_give(net->layer[d->src2].dout, l->dout, (size_t)m, written, d->src2);
  }
}

double cdn_net_forward_backward(cdn_net_t *net, const float *x, const int *y, int n, PetscBool train, PetscBool grads,
                                cdn_rng_t *rng, int *correct)
{
  double loss;
  if (net->dnn) return cdn_dnn_forward_backward(net, x, y, n, train, grads, rng, correct);
  loss = cdn_net_reference_forward(net, x, y, n, train, grads, rng, correct);
  if (grads && isfinite(loss)) cdn_net_reference_backward(net, x, n);
  return loss;
}

/* A oneDNN execution failure is kept by the engine (the step returns NaN) and raised here. */
static PetscErrorCode check_engine(const cdn_net_t *net)
{
  PetscFunctionBeginUser;
  PetscCheck(!net->dnn || net->dnn->status == dnnl_success, PETSC_COMM_SELF, PETSC_ERR_LIB, "%s: oneDNN %s failed: %s",
             net->desc.arch, net->dnn->failed, dnnl_status2str(net->dnn->status));
  PetscFunctionReturn(0);
}

static PetscErrorCode check_set(const cdn_net_t *net, const cdn_images_t *set)
{
  PetscFunctionBeginUser;
  PetscCheck(set->c == net->desc.in_c && set->h == net->desc.in_h && set->w == net->desc.in_w, PETSC_COMM_SELF,
             CDN_ERR_INPUT, "%s: images are %d x %d x %d, the network expects %d x %d x %d", net->desc.arch, set->c,
             set->h, set->w, net->desc.in_c, net->desc.in_h, net->desc.in_w);
  PetscFunctionReturn(0);
}

static int params_finite(const cdn_net_t *net)
{
  float acc = 0; /* NaN or Inf anywhere makes the product with zero NaN */
  for (int i = 0; i < net->nparam; i++) acc += 0.0f * net->param[i];
  return acc == 0.0f;
}

/* The one epoch loop, for a rank alone and for a team member (share): every member draws the same
   order and augmentation from rng and fills the whole minibatch, so a team computes the steps of a
   rank alone; each member then runs only its slice, and share->reduce turns the slices' gradients
   and losses into the minibatch's before the step. The engine check follows the reduction: a
   member whose engine failed has a NaN loss, which stops every member at the same minibatch. */
PetscErrorCode cdn_net_train_epoch(cdn_net_t *net, const cdn_data_t *data, const cdn_images_t *set, cdn_rng_t *rng,
                                   const cdn_train_share_t *share, double *mean_loss)
{
  int       *order, bs = net->cfg.batch_size;
  double     sum = 0, lr = cdn_schedule_lr(&net->cfg, net->epoch);
  const int  item = set->c * set->h * set->w;
  cdn_rng_t *drop = share ? share->dropout : rng;

  PetscFunctionBeginUser;
  PetscCall(check_set(net, set));
  PetscCall(PetscMalloc1(set->n + 1, &order));
  for (int i = 0; i < set->n; i++) order[i] = i;
  cdn_rng_shuffle(rng, order, set->n);
  for (int s = 0; s < set->n; s += bs) {
    int    nb = set->n - s < bs ? set->n - s : bs, lo = 0, n = nb;
    double loss = 0; /* summed over this rank's items, then (share) over the minibatch */
    if (share) {
      lo = (int)((long)nb * share->member / share->size);
      n  = (int)((long)nb * (share->member + 1) / share->size) - lo;
    }
    cdn_batch_fill(data, set, order + s, nb, net->x, net->y);
    if (net->cfg.augment) cdn_augment_crop_flip(net->x, nb, set->c, set->h, set->w, 4, net->cfg.pad_value, rng);
    if (n > 0)
      loss = cdn_net_forward_backward(net, net->x + (size_t)lo * item, net->y + lo, n, PETSC_TRUE, PETSC_TRUE, drop,
                                      NULL) * n;
    if (share) PetscCall(share->reduce(share->ctx, net->grad, net->nparam, n, nb, &loss));
    PetscCall(check_engine(net));
    if (!isfinite(loss)) { /* diverged: the caller records it; the weights are not touched again */
      sum = NAN;
      break;
    }
    cdn_net_step(net, lr);
    sum += loss;
  }
  net->epoch++;
  PetscCall(PetscFree(order));
  *mean_loss = set->n ? sum / set->n : 0;
  /* ReLU and max-pool turn NaN into a number, so a network whose weights went NaN can still report
     a finite loss at chance accuracy: the parameters themselves decide divergence too. */
  if (isfinite(*mean_loss) && !params_finite(net)) *mean_loss = NAN;
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_net_evaluate(cdn_net_t *net, const cdn_data_t *data, const cdn_images_t *set, double *loss,
                                double *accuracy)
{
  int   *index, hits = 0, bs = net->maxb;
  double sum = 0;

  PetscFunctionBeginUser;
  PetscCall(check_set(net, set));
  PetscCall(PetscMalloc1(bs, &index));
  for (int s = 0; s < set->n; s += bs) {
    int nb = set->n - s < bs ? set->n - s : bs, c;
    for (int i = 0; i < nb; i++) index[i] = s + i;
    cdn_batch_fill(data, set, index, nb, net->x, net->y);
    sum += nb * cdn_net_forward_backward(net, net->x, net->y, nb, PETSC_FALSE, PETSC_FALSE, NULL, &c);
    PetscCall(check_engine(net));
    hits += c;
  }
  PetscCall(PetscFree(index));
  *loss     = set->n ? sum / set->n : NAN;
  *accuracy = set->n ? (double)hits / set->n : NAN;
  PetscFunctionReturn(0);
}
