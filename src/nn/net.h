#pragma once
/* Private to nn: the network object. */
#include <stdint.h>
#include "layer.h"

struct cdn_net {
  cdn_model_desc_t   desc;
  cdn_train_config_t cfg;
  int                nl, maxb, nparam, nstats;
  cdn_layer_t        layer[CDN_MAX_LAYERS];
  float             *param, *grad, *mom; /* parallel blocks: an optimiser step is one loop */
  float             *mom2;               /* Adam's second moments (NULL for SGD) */
  float             *stats;              /* BatchNorm running statistics */
  int64_t            step;               /* optimiser steps taken (Adam's bias correction) */
  int                epoch;              /* epochs trained: the schedule position */
  float             *buf;                /* every activation, gradient and workspace */
  float             *x, *xc;             /* batch as NCHW, and as [C][B][H][W] when C > 1 */
  float             *scratch;            /* a gradient for a layer whose output feeds two layers */
  /* guard mode (dnn.h, -cnndyn_test_dnn_guard): CDN_DNN_GUARD bytes of pattern follow every
     buffer carved from buf; guard_at lists where (nguard of them) */
  PetscBool          guard;
  char             **guard_at;
  int                nguard;
  int               *y;
  struct cdn_dnn    *dnn;                /* the oneDNN engine (NULL: the reference kernels) */
  char               err[160];           /* why the layer stack did not fit its input */
};

/* Appends a layer reading the output of layer src (-1: the input); kernel, stride, padding for
   conv and pool, width for conv and linear, p for dropout. Returns its index, or -1 with net->err
   set when the input does not fit. bias: conv and linear only. */
int cdn_net_add(cdn_net_t *net, cdn_op_t op, const char *name, int src, int width, int kernel, int stride,
                int padding, float p, int bias);
/* Fills net->desc.layer with arch's stack (desc.in_*, num_classes and cfg already set). */
PetscErrorCode cdn_arch_build(cdn_net_t *net, const char *arch);
/* cdn_net_forward_backward on the reference kernels, in its two halves (forward with the loss and,
   when grads, its gradient; then backward on the same x and n), so that test_engine can give the
   reference the engine's choices at max-pools and ReLUs between them. */
double cdn_net_reference_forward(cdn_net_t *net, const float *x, const int *y, int n, PetscBool train, PetscBool grads,
                                 cdn_rng_t *rng, int *correct);
void   cdn_net_reference_backward(cdn_net_t *net, const float *x, int n);
