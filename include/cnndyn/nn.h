#pragma once
/* Networks: layers as forward/backward pairs over one parameter block, SGD, the training loop.
   No MPI, no PETSc solvers: a network is trained by exactly one rank. */
#include <petscsys.h>
#include "cnndyn/data.h"
#include "cnndyn/model.h"
#include "cnndyn/util.h"

typedef struct {
  double lr, momentum, weight_decay, dropout, init_scale;
  int    batch_size;
} cdn_train_config_t;

typedef struct cdn_net cdn_net_t;

/* arch: "lenet5". Shapes are checked before anything is allocated. */
PetscErrorCode cdn_net_create(const char *arch, int in_c, int in_h, int in_w, int num_classes,
                              const cdn_train_config_t *cfg, cdn_net_t **net);
void           cdn_net_destroy(cdn_net_t **net);
/* Kaiming-normal weights times cfg->init_scale, zero biases, zero momentum. */
void cdn_net_init(cdn_net_t *net, cdn_rng_t *rng);
/* The layer stack with views into the parameters (valid while net lives). */
const cdn_model_desc_t *cdn_net_desc(const cdn_net_t *net);

/* One pass over set in an order drawn from rng, minibatches of cfg->batch_size (last one partial).
   mean_loss is the mean training loss; NaN or Inf means the model diverged. */
PetscErrorCode cdn_net_train_epoch(cdn_net_t *net, const cdn_data_t *data, const cdn_images_t *set,
                                   cdn_rng_t *rng, double *mean_loss);
/* Mean loss and accuracy on set (dropout off). */
PetscErrorCode cdn_net_evaluate(cdn_net_t *net, const cdn_data_t *data, const cdn_images_t *set,
                                double *loss, double *accuracy);
