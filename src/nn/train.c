/* The training step (forward, backward, SGD) and the epoch loops. Nothing here allocates per
   step; a non-finite loss ends the epoch so a diverged model costs nothing more. */
#include <math.h>
#include <string.h>
#include "cnndyn/nn.h"
#include "net.h"

/* NCHW -> [C][B][H][W]; with one channel the two layouts are the same bytes. */
static const float *channel_major(cdn_net_t *net, const float *x, int n)
{
  int C = net->desc.in_c, HW = net->desc.in_h * net->desc.in_w;
  if (C == 1) return x;
  for (int b = 0; b < n; b++)
    for (int c = 0; c < C; c++) memcpy(net->xc + ((size_t)c * n + b) * HW, x + ((size_t)b * C + c) * HW, sizeof(float) * HW);
  return net->xc;
}

double cdn_net_forward_backward(cdn_net_t *net, const float *x, const int *y, int n, PetscBool train, PetscBool grads,
                                cdn_rng_t *rng, int *correct)
{
  const float *x0 = channel_major(net, x, n), *in = x0;
  cdn_layer_t *last = &net->layer[net->nl - 1];
  double       loss;

  for (int i = 0; i < net->nl; i++) {
    net->layer[i].ops->forward(&net->layer[i], in, n, train, rng);
    in = net->layer[i].out;
  }
  loss = cdn_softmax_xent(grads ? last->dout : NULL, correct, last->out, y, n, net->desc.num_classes);
  if (!grads || !isfinite(loss)) return loss;
  for (int i = net->nl - 1; i >= 0; i--) {
    cdn_layer_t *l = &net->layer[i];
    l->ops->backward(l, i ? net->layer[i - 1].out : x0, i ? net->layer[i - 1].dout : NULL, n);
  }
  return loss;
}

void cdn_net_sgd_step(cdn_net_t *net)
{
  float  lr = (float)net->cfg.lr, mu = (float)net->cfg.momentum, wd = (float)net->cfg.weight_decay;
  float *w = net->param, *g = net->grad, *m = net->mom;
  for (int i = 0; i < net->nparam; i++) {
    m[i] = mu * m[i] + g[i] + wd * w[i];
    w[i] -= lr * m[i];
  }
}

static PetscErrorCode check_set(const cdn_net_t *net, const cdn_images_t *set)
{
  PetscFunctionBeginUser;
  PetscCheck(set->c == net->desc.in_c && set->h == net->desc.in_h && set->w == net->desc.in_w, PETSC_COMM_SELF,
             CDN_ERR_INPUT, "%s: images are %d x %d x %d, the network expects %d x %d x %d", net->desc.arch, set->c,
             set->h, set->w, net->desc.in_c, net->desc.in_h, net->desc.in_w);
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_net_train_epoch(cdn_net_t *net, const cdn_data_t *data, const cdn_images_t *set, cdn_rng_t *rng,
                                   double *mean_loss)
{
  int   *order, bs = net->cfg.batch_size;
  double sum = 0;

  PetscFunctionBeginUser;
  PetscCall(check_set(net, set));
  PetscCall(PetscMalloc1(set->n + 1, &order));
  for (int i = 0; i < set->n; i++) order[i] = i;
  cdn_rng_shuffle(rng, order, set->n);
  for (int s = 0; s < set->n; s += bs) {
    int    nb = set->n - s < bs ? set->n - s : bs;
    double loss;
    cdn_batch_fill(data, set, order + s, nb, net->x, net->y);
    loss = cdn_net_forward_backward(net, net->x, net->y, nb, PETSC_TRUE, PETSC_TRUE, rng, NULL);
    if (!isfinite(loss)) { /* diverged: the caller records it; the weights are not touched again */
      sum = NAN;
      break;
    }
    cdn_net_sgd_step(net);
    sum += loss * nb;
  }
  PetscCall(PetscFree(order));
  *mean_loss = set->n ? sum / set->n : 0;
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
    hits += c;
  }
  PetscCall(PetscFree(index));
  *loss     = set->n ? sum / set->n : NAN;
  *accuracy = set->n ? (double)hits / set->n : NAN;
  PetscFunctionReturn(0);
}
