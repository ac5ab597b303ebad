/* Optimisers and learning-rate schedules, in PyTorch's semantics so that a recipe means the same
   here as there (tests/test_torch_ref.c holds us to it). Weight decay is L2 added to the gradient,
   for every parameter (BatchNorm's gamma and beta too), as torch.optim does by default. */
#include <math.h>
#include "cnndyn/nn.h"
#include "net.h"

double cdn_schedule_lr(const cdn_train_config_t *cfg, int epoch)
{
  switch (cfg->schedule) {
  case CDN_SCHED_STEP: {
    int    every = cfg->step_size > 0 ? cfg->step_size : 30;
    double gamma = cfg->gamma > 0 ? cfg->gamma : 0.1;
    return cfg->lr * pow(gamma, epoch / every);
  }
  case CDN_SCHED_COSINE: /* CosineAnnealingLR with eta_min 0, stepped once per epoch */
    if (cfg->epochs <= 0) return cfg->lr;
    return cfg->lr * 0.5 * (1 + cos(M_PI * (double)epoch / cfg->epochs));
  default: return cfg->lr;
  }
}

void cdn_net_step(cdn_net_t *net, double lr_d)
{
  const cdn_train_config_t *c  = &net->cfg;
  float                     lr = (float)lr_d, mu = (float)c->momentum, wd = (float)c->weight_decay;
  float                    *w = net->param, *g = net->grad, *m = net->mom;
  int                       n = net->nparam;

  net->step++;
  if (c->optimizer == CDN_OPT_ADAM) {
    float  b2 = (float)(c->adam_beta2 > 0 ? c->adam_beta2 : 0.999), eps = (float)(c->adam_eps > 0 ? c->adam_eps : 1e-8);
    float *v = net->mom2;
    /* torch.optim.Adam: w -= lr/bc1 * m / (sqrt(v)/sqrt(bc2) + eps) */
    double bc1 = 1 - pow(mu, (double)net->step), bc2 = 1 - pow(b2, (double)net->step);
    float  step = (float)(lr_d / bc1), rs = (float)(1.0 / sqrt(bc2));
    for (int i = 0; i < n; i++) {
      float gi = g[i] + wd * w[i];
      m[i]     = mu * m[i] + (1 - mu) * gi;
      v[i]     = b2 * v[i] + (1 - b2) * gi * gi;
      w[i] -= step * m[i] / (sqrtf(v[i]) * rs + eps);
    }
  } else if (c->optimizer == CDN_OPT_NESTEROV) {
    for (int i = 0; i < n; i++) {
      float gi = g[i] + wd * w[i];
      m[i]     = mu * m[i] + gi;
      w[i] -= lr * (gi + mu * m[i]);
    }
  } else {
    for (int i = 0; i < n; i++) {
      m[i] = mu * m[i] + g[i] + wd * w[i];
      w[i] -= lr * m[i];
    }
  }
}
