#pragma once
/* Private to nn: the oneDNN engine. Every activation before the flatten lives in NHWC, so
   consecutive conv, pool, BatchNorm, ReLU and add layers never convert. NHWC rather than oneDNN's
   nChw16c: with a channel count that is not a multiple of 16 (LeNet's 6) oneDNN 2.6 has only its
   reference convolution for nChw16c (1000x slower, measured), while NHWC gets its brgconv/jit
   kernels at every width, within a few percent of nChw16c at 16, 32 and 64 channels (the
   Winograd convolutions, which exist only on nChw16c, reorder their own tensors around each
   call); the input batch is reordered from NCHW once and the
   flatten reorders back to PyTorch's order. Master weights stay in PyTorch layouts in the parameter block:
   each forward reorders conv weights into the primitive's layout and each backward reorders the
   weight gradient back (a few thousand floats per layer, far below the convolution's cost).

   Primitives are bound to fixed buffers for fixed batch sizes ("plans": the training batch and the
   evaluation batch), all created with the network. A smaller batch runs in the next larger plan
   with its tail padded: the input tail is zeroed, BatchNorm takes statistics over the real items
   only, and the loss gives the tail a zero gradient, so padded items add exactly nothing to any
   parameter gradient. */
#include <dnnl.h>
#include "net.h"

#define CDN_DNN_MAX_PLANS 2
#define CDN_DNN_ARGS      8
#define CDN_DNN_GUARD      4096 /* bytes of guard pattern after each buffer in guard mode */
#define CDN_DNN_GUARD_BYTE 0xA5
#define CDN_DNN_LAYER_OPS 10 /* the cdn_dnn_op_t of a cdn_dnn_layer_t */

typedef struct { /* a primitive with its arguments bound once */
  dnnl_primitive_t      p;
  dnnl_primitive_desc_t pd; /* kept until the shared scratchpad exists, then freed */
  int                   nargs;
  dnnl_exec_arg_t       args[CDN_DNN_ARGS];
} cdn_dnn_op_t;

typedef struct {
  cdn_dnn_op_t fwd;        /* conv, pool: the primitive; flatten: blocked -> plain reorder */
  cdn_dnn_op_t bwd;        /* conv: backward data; pool: backward; flatten: plain -> blocked */
  cdn_dnn_op_t bwd_w;      /* conv: backward weights (and bias) */
  cdn_dnn_op_t w_fwd, w_bwd, dw; /* conv: weight reorders (p NULL when the layouts agree) */
  /* conv on Winograd (dnn.c, wino_fits): its primitives run on nChw16c copies in d->wino; these
     reorder the NHWC input, output, output gradient and input gradient (p NULL otherwise) */
  cdn_dnn_op_t src_blk, dst_nhwc, ddst_blk, dsrc_nhwc;
  float       *conv1; /* conv: work buffer when conv_small.c's kernels run it instead (no primitives) */
} cdn_dnn_layer_t;

typedef struct {
  int             B;
  cdn_dnn_op_t    in; /* the NCHW batch -> NHWC (net->xc); p NULL with one channel, where they agree */
  cdn_dnn_layer_t l[CDN_MAX_LAYERS];
} cdn_dnn_plan_t;

typedef struct cdn_dnn cdn_dnn_t;
struct cdn_dnn {
  dnnl_engine_t  eng;
  dnnl_stream_t  stream;
  int            nplan;
  cdn_dnn_plan_t plan[CDN_DNN_MAX_PLANS];
  dnnl_memory_t *mem;      /* every memory object, to destroy */
  int            nmem, maxmem;
  void         **bufs;     /* blocked weights and pooling workspaces */
  size_t        *buf_bytes; /* each buffer's size, for the guard check */
  int            nbufs, maxbufs;
  /* Guard mode (option -cnndyn_test_dnn_guard, for tests): every buffer of ours that oneDNN writes
     gets CDN_DNN_GUARD bytes of a known pattern after it, checked after every primitive runs, so
     a kernel that writes past what its descriptor booked fails the step instead of corrupting the
     heap (oneDNN's code is not instrumented by AddressSanitizer). */
  PetscBool      guard;
  void          *scratch;  /* one scratchpad shared by every primitive (they never run at once) */
  void          *wino[3];  /* nChw16c input, output (and its gradient), input gradient of the Winograd
                              convolution running now: no layer's copies outlive its own step */
  char           to_scratch[CDN_MAX_LAYERS]; /* layer i's input gradient goes to net->scratch */
  char           blocked[CDN_MAX_LAYERS];    /* cdn_dnn_blocked, once */
  char           own_pool[CDN_MAX_LAYERS];   /* max-pool whose backward is cdn_maxpool_nhwc_backward */
  /* ReLU layer i fused into a neighbour (route_relus): its forward is its conv's post-op (the conv
     writes the ReLU's output; the conv's own output buffer goes unused), and its backward is done
     by the own max-pool after it. A ReLU is fused only when it is its neighbour's sole consumer. */
  char           relu_in_conv[CDN_MAX_LAYERS];
  char           relu_in_pool[CDN_MAX_LAYERS];
  /* The same for a ReLU right after a BatchNorm or an add it is the sole reader of (ResNet): the
     BatchNorm (add) writes the ReLU's output, and its backward masks the ReLU's gradient itself. */
  char           relu_in_bn[CDN_MAX_LAYERS];
  char           relu_in_add[CDN_MAX_LAYERS];
  /* BatchNorm layer i read only by an add (as its first input) whose ReLU is fused: its forward
     only takes statistics, and the add applies them (dnn_run.c); backward is unchanged. */
  char           bn_in_add[CDN_MAX_LAYERS];
  size_t         floats[CDN_MAX_LAYERS];     /* cdn_dnn_out_floats, once */
  dnnl_status_t  status;   /* the first failed execution; the epoch functions raise it */
  const char    *failed;
};

/* Whether layer i's output is in the engine's NHWC layout (everything before flatten); "blocked"
   below means that layout. */
int            cdn_dnn_blocked(const cdn_net_t *net, int i);
/* Floats per item of layer i's output in the layout the engine keeps it in. */
size_t         cdn_dnn_out_floats(const cdn_net_t *net, int i);
PetscErrorCode cdn_dnn_create(cdn_net_t *net);
void           cdn_dnn_destroy(cdn_net_t *net);
double         cdn_dnn_forward_backward(cdn_net_t *net, const float *x, const int *y, int n, PetscBool train,
                                        PetscBool grads, cdn_rng_t *rng, int *correct);
/* BatchNorm on NHWC over B items of which the first n are real (statistics, gradients); acc holds
   4*C doubles; ab receives the C scales and C shifts applied. relu: out = max(fmaf(in, scale, shift), 0). */
void cdn_bn_nhwc_forward(float *out, float *mean, float *invstd, float *ab, double *acc, const float *in, const float *gamma,
                         const float *beta, float *run_mean, float *run_var, int C, int B, int n, int HW, float eps,
                         float momentum, PetscBool train, int relu);
/* relu_dout non-NULL: the gradient is the fused ReLU's (dout is not read), masked where forward's
   output was not positive (recomputed from in and forward's ab). */
void cdn_bn_nhwc_backward(float *din, float *dgamma, float *dbeta, double *acc, const float *dout, const float *in,
                          const float *mean, const float *invstd, const float *gamma, int C, int B, int n, int HW,
                          PetscBool train, const float *ab, const float *relu_dout);
/* Backward of a max-pool whose windows tile the input (kernel == stride, no padding) on NHWC, with
   no workspace: each window's gradient goes to its first element equal to the max (the element
   forward picked: oneDNN and PyTorch both keep the first of equal values); every other input
   element gets zero. oneDNN 2.6's own backward took 10x its forward at LeNet's 6 channels.
   relu: also the backward of the ReLU whose output `in` is (din is then the ReLU's input
   gradient): a window whose max is not positive passes no gradient. */
void cdn_maxpool_nhwc_backward(float *din, const float *dout, const float *in, const float *out, int B, int C, int H,
                               int W, int K, int relu);
