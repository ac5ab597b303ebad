#pragma once
/* Private to nn: an operation is its descriptor (model.h) plus one const table of functions,
   defined in the operation's own file (conv.c: cdn_conv2d_op) and listed once, in net.c. The
   table holds everything the net and the oneDNN engine need to know about the operation, so
   adding one touches its own file, the architecture builder and the graph walker.
   Shapes come from out_shape before anything is allocated; the net then gives each layer its
   output, output-gradient and workspace buffers sized for the largest batch. */
#include <stddef.h>
#include <string.h>
#include <petscsys.h>
#include "cnndyn/nn.h"

typedef struct cdn_layer     cdn_layer_t;
typedef struct cdn_dnn_step  cdn_dnn_step_t;  /* dnn.h */
typedef struct cdn_dnn_layer cdn_dnn_layer_t; /* dnn.h */

typedef struct {
  cdn_op_t op;
  int      inputs;   /* 2: also reads layer src2, whose gradient is then the output's (a sum) */
  /* the oneDNN engine's blocked layout (dnn.h: NHWC, or nChw16c): 1 its inputs must be blocked,
     -1 must not be, 0 either; starts: blocked even when reading the network's input; ends: its
     output is plain again */
  int      nhwc_in, starts_nhwc, ends_nhwc;
  int      blocks16;  /* its engine code runs on nChw16c as well as NHWC (dnn.h) */
  int      fused_bwd; /* fused with its reader (fuse), it also runs the reader's backward */
  int    (*out_shape)(cdn_layer_desc_t *d);                 /* fills out_*; 0 if the input does not fit */
  void   (*setup)(cdn_layer_t *l, int bias);                /* parameter counts; NULL: none */
  void   (*reset)(cdn_layer_t *l);                          /* deterministic initial state; NULL: none */
  size_t (*work_bytes)(const cdn_layer_desc_t *d, int B, int reference); /* scratch kept from forward to backward */
  /* the reference kernels on channel-major activations [C][B][H][W]; the engine runs them too for
     an operation without run_forward (run_backward), over the n real items */
  void (*forward)(cdn_layer_t *l, const float *in, int B, PetscBool train, cdn_rng_t *rng);
  void (*backward)(cdn_layer_t *l, const float *in, float *din, int B); /* din NULL: not needed */
  /* the oneDNN engine (each may be NULL): fuse may set this layer's fused (to its sole reader) or
     its source's (to itself), once the engine knows who reads whom; plan binds primitives for a batch of
     B; run_forward and run_backward execute one step over the plan's items. run_backward returns
     1 when it also wrote the gradient of input src2. */
  void (*fuse)(cdn_net_t *net, int i);
  PetscErrorCode (*plan)(cdn_net_t *net, int i, int B, cdn_dnn_layer_t *pl);
  void (*run_forward)(const cdn_dnn_step_t *s, int i);
  int  (*run_backward)(const cdn_dnn_step_t *s, int i, float *din);
} cdn_layer_ops_t;

struct cdn_layer {
  cdn_layer_desc_t      *d;      /* shapes, weight and bias views */
  const cdn_layer_ops_t *ops;
  int                    nw, nb;  /* parameter counts: weight (gamma) and bias (beta) */
  int                    nstats;  /* running statistics (BatchNorm: mean then variance) */
  float                 *gw, *gb; /* gradient views, parallel to d->weight, d->bias */
  float                 *out, *dout;
  const float           *in2;    /* two inputs: the output of layer src2 */
  void                  *work;
  PetscBool              masked; /* dropout: forward drew a mask; BatchNorm: forward used batch statistics */
  float                  momentum; /* BatchNorm: running statistics update */
  /* The engine's one fusion record: the layer's sole reader when the two run as one (set by the
     fuse of either), -1 otherwise. Who does what is the two operations' business (their files
     say): conv -> ReLU: the conv writes the ReLU's output; BatchNorm or add -> ReLU: the ReLU's
     forward and backward are theirs; ReLU -> tiling max-pool: the pool runs the ReLU's backward;
     BatchNorm -> add (itself fused with a ReLU): the add does the normalisation. */
  int                    fused;
};

static inline int cdn_layer_out_size(const cdn_layer_desc_t *d) { return d->out_c * d->out_h * d->out_w; }
static inline int cdn_layer_in_size(const cdn_layer_desc_t *d) { return d->in_c * d->in_h * d->in_w; }
static inline size_t cdn_no_work(const cdn_layer_desc_t *d, int B, int reference) { return 0; }
static inline int cdn_same_shape(cdn_layer_desc_t *d)
{
  d->out_c = d->in_c, d->out_h = d->in_h, d->out_w = d->in_w;
  return 1;
}

/* Hands gradient g (m floats) to a layer's output gradient d: a copy for the first reader in the
   backward walk (written[j] unset), a sum for the others. */
static inline void cdn_grad_give(float *d, const float *g, size_t m, char *written, int j)
{
  if (written[j])
    for (size_t k = 0; k < m; k++) d[k] += g[k];
  else memcpy(d, g, sizeof(float) * m);
  written[j] = 1;
}

/* ---- kernels the engine runs on plain arrays (the head after the flatten; elementwise) ------- */

void cdn_add_forward(float *out, const float *a, const float *b, int n);
/* add followed by the ReLU that is its sole reader, in one pass each way: out = max(a + b, 0);
   backward gives the masked gradient (dout where out > 0) to din and to d2, which it adds to
   when accumulate. */
void cdn_add_relu_forward(float *out, const float *a, const float *b, int n);
void cdn_add_relu_backward(float *din, float *d2, int accumulate, const float *dout, const float *out, int n);
/* elementwise over n */
void cdn_relu_forward(float *out, const float *in, int n);
void cdn_relu_backward(float *din, const float *dout, const float *out, int n);
/* inverted dropout: mask[i] = 0 with probability p, else 1/(1-p) */
void cdn_dropout_mask(float *mask, int n, double p, cdn_rng_t *rng);
void cdn_dropout_forward(float *out, const float *in, const float *mask, int n);
void cdn_dropout_backward(float *din, const float *dout, const float *mask, int n);
/* out[B][nout] = in[B][nin] w[nout][nin]^T + b[nout] */
void cdn_linear_forward(float *out, const float *in, const float *w, const float *b, int B, int nin, int nout);
void cdn_linear_backward(float *din, float *dw, float *db, const float *dout, const float *in, const float *w, int B,
                         int nin, int nout);
/* Mean softmax cross-entropy of logits[B][K] against y; dlogits (may be NULL) gets its gradient,
   correct (may be NULL) the number of items whose largest logit is the label. */
double cdn_softmax_xent(float *dlogits, int *correct, const float *logits, const int *y, int B, int K);
