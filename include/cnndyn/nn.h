#pragma once
/* Networks: layers as forward/backward pairs over one parameter block, SGD, the training loop.
   No MPI, no PETSc solvers: a network is trained by one rank, or by a team whose reduction the
   caller hands to the one training loop (cdn_train_share_t). */
#include <petscsys.h>
#include "cnndyn/data.h"
#include "cnndyn/model.h"
#include "cnndyn/util.h"

typedef enum { CDN_OPT_SGD, CDN_OPT_NESTEROV, CDN_OPT_ADAM } cdn_optimizer_t;
typedef enum { CDN_SCHED_CONSTANT, CDN_SCHED_STEP, CDN_SCHED_COSINE } cdn_schedule_t;
typedef enum { CDN_INIT_KAIMING, CDN_INIT_XAVIER, CDN_INIT_NORMAL, CDN_INIT_PYTORCH } cdn_init_t;
/* Where the fully connected head's dropout layers go (arch.c): cnndyn's before every linear layer;
   torchvision's as its AlexNet (before each hidden linear layer, none before the classifier; also
   LeNet-5) and its VGG (after each hidden ReLU, so before the classifier, none before the first);
   ResNet keeps its one dropout before fc in both (torchvision's has none: use dropout 0). */
typedef enum { CDN_DROPOUT_CNNDYN, CDN_DROPOUT_TORCHVISION } cdn_dropout_placement_t;

/* A zeroed field means the foundation's behaviour: width 1, the family's default depth, SGD,
   a constant learning rate, Kaiming-normal weights, no augmentation. */
typedef struct {
  double lr, momentum, weight_decay, dropout, init_scale;
  int    batch_size;
  double width;          /* multiplier of every layer's channel/neuron count (0: 1) */
  int    depth;          /* family-specific (docs/graph.md, "Architectures"); 0: the family's default */
  cdn_optimizer_t optimizer; /* Adam uses momentum as beta1 */
  double adam_beta2, adam_eps; /* 0: 0.999, 1e-8 */
  cdn_schedule_t schedule;
  int    epochs;         /* cosine: epochs to anneal over (T_max) */
  int    step_size;      /* step: epochs between decays (0: 30) */
  double gamma;          /* step: decay factor (0: 0.1) */
  cdn_init_t init;
  double init_std;       /* normal: standard deviation (0: 0.01) */
  cdn_dropout_placement_t dropout_placement;
  int    augment;        /* training batches: random crop (padding 4) and horizontal flip */
  float  pad_value;      /* augment: the normalised value of a black pixel */
  int    threads;        /* oneDNN (OpenMP) and BLAS threads of this rank (0: oneDNN 1, BLAS as the
                            environment set it) */
  int    reference;      /* 1: the im2col reference kernels instead of oneDNN (tests compare them) */
  int    direct_conv;    /* 1: no Winograd convolutions (conv.c, wino_fits), every conv direct as PyTorch's */
} cdn_train_config_t;

typedef struct cdn_net cdn_net_t;

/* arch: "lenet5", "alexnet", "vgg" or "resnet". Shapes are checked before anything is allocated. */
PetscErrorCode cdn_net_create(const char *arch, int in_c, int in_h, int in_w, int num_classes,
                              const cdn_train_config_t *cfg, cdn_net_t **net);
PetscErrorCode cdn_net_destroy(cdn_net_t **net); /* *net NULL afterwards; NULL is fine */
/* Weights from cfg->init (Kaiming normal, Xavier uniform, or normal) times cfg->init_scale, zero
   biases; or, init pytorch, PyTorch's defaults for Conv2d and Linear: weight and bias both
   U(-1/sqrt(fan_in), 1/sqrt(fan_in)) (kaiming_uniform with a = sqrt 5), the weight times
   cfg->init_scale. BatchNorm gamma 1 and beta 0, running statistics 0 and 1, optimiser state and
   schedule position reset. */
void cdn_net_init(cdn_net_t *net, cdn_rng_t *rng);
/* The layer stack with views into the parameters (valid while net lives). */
const cdn_model_desc_t *cdn_net_desc(const cdn_net_t *net);

/* Several ranks training one network together (a team, src/run/team.c). nn calls no MPI: the team
   supplies reduce. Every member draws the data order and augmentation from the same training
   stream and computes the gradient of its contiguous slice of each minibatch of nb items, items
   [nb*member/size, nb*(member+1)/size). */
typedef struct {
  int        member, size;
  cdn_rng_t *dropout; /* this member's dropout masks (the training stream must stay alike on all) */
  /* Called after backward and before the optimiser step, on every member, also with n = 0 (the
     gradient block then holds stale values): grad holds the mean gradient over this member's n
     items and *loss their summed loss. It must leave in grad the mean gradient over all nb items
     and in *loss their summed loss, the same on every member (a non-finite *loss may leave grad
     as it is: the epoch stops there). */
  PetscErrorCode (*reduce)(void *ctx, float *grad, int count, int n, int nb, double *loss);
  void *ctx;
} cdn_train_share_t;

/* One pass over set in an order drawn from rng, at the learning rate the schedule gives this epoch
   (each call is one epoch of the schedule), minibatches of cfg->batch_size (last one partial),
   augmented when cfg->augment. share is NULL for a rank alone, else this team member's part.
   mean_loss is the mean training loss; NaN or Inf means the model diverged. */
PetscErrorCode cdn_net_train_epoch(cdn_net_t *net, const cdn_data_t *data, const cdn_images_t *set,
                                   cdn_rng_t *rng, const cdn_train_share_t *share, double *mean_loss);
/* Mean loss and accuracy on set (dropout off). Both are NaN for an empty set (validation_size 0). */
PetscErrorCode cdn_net_evaluate(cdn_net_t *net, const cdn_data_t *data, const cdn_images_t *set,
                                double *loss, double *accuracy);

/* ---- checkpoint state ------------------------------------------------------------------------
   Everything a network needs to continue training bit-identically after a restart: parameters and
   optimiser state (and, as layers gain them, running statistics and step counts). The format is
   private to nn and versioned; load checks that it fits this network and says so otherwise. */
size_t         cdn_net_state_bytes(const cdn_net_t *net);
void           cdn_net_state_save(const cdn_net_t *net, void *buf);
PetscErrorCode cdn_net_state_load(cdn_net_t *net, const void *buf, size_t bytes);

/* ---- lower level: one step, parameters, for tests and later optimisers ----------------------- */

/* The parameter block, its gradients and momentum (all count floats, layer by layer, each layer's
   weight then bias, in PyTorch layouts). */
void cdn_net_params(cdn_net_t *net, float **param, float **grad, float **momentum, int *count);
/* The logits [n][classes] of the last forward pass (valid until the next one). */
const float *cdn_net_logits(const cdn_net_t *net);
/* Largest batch the workspaces hold (max of cfg->batch_size and the evaluation batch). */
int cdn_net_max_batch(const cdn_net_t *net);
/* Forward pass on n <= max_batch items x (NCHW, normalised) with labels y; when grads is true also
   the backward pass, leaving d(mean loss)/d(param) in the gradient block. train turns dropout on
   (masks drawn from rng). Returns the mean loss (NaN/Inf when diverged); correct may be NULL. */
double cdn_net_forward_backward(cdn_net_t *net, const float *x, const int *y, int n, PetscBool train,
                                PetscBool grads, cdn_rng_t *rng, int *correct);
/* One step of cfg->optimizer at learning rate lr, in PyTorch's semantics (weight decay is added to
   the gradient, also for Adam): SGD buf = momentum*buf + g, w -= lr*buf; Nesterov w -= lr*(g +
   momentum*buf); Adam with bias correction. Training takes lr from cdn_schedule_lr. */
void cdn_net_step(cdn_net_t *net, double lr);
/* The learning rate of epoch e (0-based) under the schedule. */
double cdn_schedule_lr(const cdn_train_config_t *cfg, int epoch);
/* Running statistics of every BatchNorm layer (mean then variance per layer; count floats). */
void cdn_net_stats(cdn_net_t *net, float **stats, int *count);
