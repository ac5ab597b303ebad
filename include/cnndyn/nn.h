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
  int    direct_conv;    /* 1: no Winograd convolutions (dnn.c, wino_fits), every conv direct as PyTorch's */
} cdn_train_config_t;

typedef struct cdn_net cdn_net_t;

/* arch: "lenet5", "alexnet", "vgg" or "resnet". Shapes are checked before anything is allocated. */
PetscErrorCode cdn_net_create(const char *arch, int in_c, int in_h, int in_w, int num_classes,
                              const cdn_train_config_t *cfg, cdn_net_t **net);
void           cdn_net_destroy(cdn_net_t **net);
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

/* ---- layer kernels over plain float arrays --------------------------------------------------
   Spatial activations are channel-major over the batch, [C][B][H][W], so that a convolution of a
   whole batch is one GEMM; flatten turns them into [B][C*H*W] (PyTorch's order per item). Backward
   kernels overwrite (not accumulate) their outputs; din may be NULL when not needed. */

/* out[O][B][OH][OW], col[C*K*K][B*OH*OW] (kept for backward), in[C][B][H][W], w[O][C][K][K], b[O]
   or NULL (no bias); OH = (H + 2*pad - K) / S + 1. */
void cdn_conv2d_forward(float *out, float *col, const float *in, const float *w, const float *b, int B, int C,
                        int H, int W, int O, int K, int S, int pad);
/* col is what forward left; dcol is a workspace of the same size and may be col itself. */
void cdn_conv2d_backward(float *din, float *dw, float *db, float *dcol, const float *dout, const float *col,
                         const float *w, int B, int C, int H, int W, int O, int K, int S, int pad);
/* K x K pooling with stride S and padding pad over P = C*B planes, OH = (H + 2*pad - K) / S + 1;
   arg holds the index into in of each maximum; average pooling divides by K*K (padding counted). */
void cdn_maxpool_forward(float *out, int *arg, const float *in, int P, int H, int W, int K, int S, int pad);
void cdn_maxpool_backward(float *din, const float *dout, const int *arg, int P, int H, int W, int K, int S, int pad);
void cdn_avgpool_forward(float *out, const float *in, int P, int H, int W, int K, int S, int pad);
void cdn_avgpool_backward(float *din, const float *dout, int P, int H, int W, int K, int S, int pad);
/* global average pooling: in[P][HW] -> out[P] */
void cdn_gap_forward(float *out, const float *in, int P, int HW);
void cdn_gap_backward(float *din, const float *dout, int P, int HW);
/* BatchNorm over in[C][B][HW]; mean and invstd[C] are kept for backward; train uses (and updates
   the running statistics from) the batch, otherwise the running statistics are used. */
void cdn_batchnorm_forward(float *out, float *mean, float *invstd, const float *in, const float *gamma,
                           const float *beta, float *run_mean, float *run_var, int C, int B, int HW, float eps,
                           float momentum, PetscBool train);
void cdn_batchnorm_backward(float *din, float *dgamma, float *dbeta, const float *dout, const float *in,
                            const float *mean, const float *invstd, const float *gamma, int C, int B, int HW,
                            PetscBool train);
void cdn_add_forward(float *out, const float *a, const float *b, int n);
/* add followed by the ReLU that is its sole reader, in one pass each way: out = max(a + b, 0);
   backward gives the masked gradient (dout where out > 0) to din and to d2, which it adds to
   when accumulate. */
void cdn_add_relu_forward(float *out, const float *a, const float *b, int n);
void cdn_add_relu_backward(float *din, float *d2, int accumulate, const float *dout, const float *out, int n);
/* 2x2 max-pool, stride 2, over P = C*B planes: in[P][H][W] -> out[P][H/2][W/2]; arg[P*(H/2)*(W/2)]
   holds the index into in of each maximum. */
void cdn_maxpool2_forward(float *out, int *arg, const float *in, int P, int H, int W);
void cdn_maxpool2_backward(float *din, const float *dout, const int *arg, int P, int H, int W);
/* elementwise over n */
void cdn_relu_forward(float *out, const float *in, int n);
void cdn_relu_backward(float *din, const float *dout, const float *out, int n);
/* inverted dropout: mask[i] = 0 with probability p, else 1/(1-p) */
void cdn_dropout_mask(float *mask, int n, double p, cdn_rng_t *rng);
void cdn_dropout_forward(float *out, const float *in, const float *mask, int n);
void cdn_dropout_backward(float *din, const float *dout, const float *mask, int n);
/* in[C][B][HW] -> out[B][C*HW] and back */
void cdn_flatten_forward(float *out, const float *in, int B, int C, int HW);
void cdn_flatten_backward(float *din, const float *dout, int B, int C, int HW);
/* out[B][nout] = in[B][nin] w[nout][nin]^T + b[nout] */
void cdn_linear_forward(float *out, const float *in, const float *w, const float *b, int B, int nin, int nout);
void cdn_linear_backward(float *din, float *dw, float *db, const float *dout, const float *in, const float *w, int B,
                         int nin, int nout);
/* Mean softmax cross-entropy of logits[B][K] against y; dlogits (may be NULL) gets its gradient,
   correct (may be NULL) the number of items whose largest logit is the label. */
double cdn_softmax_xent(float *dlogits, int *correct, const float *logits, const int *y, int B, int K);
