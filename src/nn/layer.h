#pragma once
/* Private to nn: a layer kind is its descriptor (model.h) plus this const table of functions.
   Shapes come from out_shape before anything is allocated; the net then gives each layer its
   output, output-gradient and workspace buffers sized for the largest batch. */
#include <stddef.h>
#include "cnndyn/nn.h"

typedef struct cdn_layer cdn_layer_t;

typedef struct {
  cdn_op_t op;
  int    (*out_shape)(cdn_layer_desc_t *d);               /* fills out_*; 0 if the input does not fit */
  size_t (*work_bytes)(const cdn_layer_desc_t *d, int B); /* scratch kept from forward to backward */
  void   (*forward)(cdn_layer_t *l, const float *in, int B, PetscBool train, cdn_rng_t *rng);
  void   (*backward)(cdn_layer_t *l, const float *in, float *din, int B); /* din NULL: not needed */
} cdn_layer_ops_t;

struct cdn_layer {
  cdn_layer_desc_t      *d;      /* shapes, weight and bias views */
  const cdn_layer_ops_t *ops;
  int                    nw, nb;  /* parameter counts: weight (gamma) and bias (beta) */
  float                 *gw, *gb; /* gradient views, parallel to d->weight, d->bias */
  float                 *out, *dout;
  const float           *in2;    /* ADD: the output of layer src2 */
  void                  *work;
  PetscBool              masked; /* dropout: forward drew a mask; BatchNorm: forward used batch statistics */
  float                  momentum; /* BatchNorm: running statistics update */
};

static inline int cdn_layer_out_size(const cdn_layer_desc_t *d) { return d->out_c * d->out_h * d->out_w; }
static inline int cdn_layer_in_size(const cdn_layer_desc_t *d) { return d->in_c * d->in_h * d->in_w; }

extern const cdn_layer_ops_t cdn_conv2d_ops, cdn_maxpool_ops, cdn_avgpool_ops, cdn_gap_ops, cdn_relu_ops,
  cdn_dropout_ops, cdn_flatten_ops, cdn_linear_ops, cdn_batchnorm_ops, cdn_add_ops;
