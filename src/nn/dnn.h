#pragma once
/* Private to nn: the oneDNN engine. Every activation before the flatten lives in one spatial
   layout, so consecutive conv, pool, BatchNorm, ReLU and add layers never convert: NHWC, or
   nChw16c (channels in blocks of 16: [B][C/16][H][W][16]) when the net runs Winograd
   convolutions, which exist only on nChw16c (dnn.c, use_blocks16). NHWC is the default: with a
   channel count that is not a multiple of 16 (LeNet's 6) oneDNN 2.6 has only its reference
   convolution for nChw16c (1000x slower, measured), while NHWC gets its brgconv/jit kernels at
   every width, within a few percent of nChw16c at 16, 32 and 64 channels. On NHWC a Winograd
   convolution reorders its own tensors around each call; on nChw16c it reads and writes the
   layers' buffers directly. Both layouts are [B][C/k][H][W][k], k = C or 16 (cdn_dnn_cblock),
   so our own kernels take k and serve both. The input batch is reordered from NCHW once and the
   flatten reorders back to PyTorch's order. Master weights stay in PyTorch layouts in the parameter block:
   each forward reorders conv weights into the primitive's layout and each backward reorders the
   weight gradient back (a few thousand floats per layer, far below the convolution's cost).

   Primitives are bound to fixed buffers for fixed batch sizes ("plans": the training batch and the
   evaluation batch), all created with the network. A smaller batch runs in the next larger plan
   with its tail padded: the input tail is zeroed, BatchNorm takes statistics over the real items
   only, and the loss gives the tail a zero gradient, so padded items add exactly nothing to any
   parameter gradient.

   dnn.c builds the engine and dnn_run.c walks a step; what each layer binds and runs is its
   operation's (layer.h: plan, run_forward, run_backward, fuse, in the operation's own file), and
   this header gives those files the engine's shared parts. */
#include <dnnl.h>
#include <dnnl_debug.h>
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

struct cdn_dnn_layer { /* a layer's primitives in one plan: slots each operation uses as its file says */
  cdn_dnn_op_t fwd;        /* conv, pool: the primitive; flatten: blocked -> plain reorder */
  cdn_dnn_op_t bwd;        /* conv: backward data; pool: backward; flatten: plain -> blocked */
  cdn_dnn_op_t bwd_w;      /* conv: backward weights (and bias) */
  cdn_dnn_op_t w_fwd, w_bwd, dw; /* conv: weight reorders (p NULL when the layouts agree) */
  /* conv on Winograd in an NHWC net (conv.c, cdn_conv_wino_fits): its primitives run on nChw16c
     copies in d->wino; these reorder the NHWC input, output, output gradient and input gradient
     (p NULL otherwise, and on nChw16c but for a first layer's input) */
  cdn_dnn_op_t src_blk, dst_nhwc, ddst_blk, dsrc_nhwc;
  float       *conv1; /* conv: work buffer when conv_small.c's kernels run it instead (no primitives) */
  float       *lanes; /* conv: work buffer when conv_dgrad.c's image-lane kernel runs the input gradient
                         (bwd unused) or, with conv1, the forward */
};

typedef struct {
  int             B;
  cdn_dnn_op_t    in; /* the NCHW batch -> NHWC (net->xc); p NULL with one channel, where they agree,
                         and on nChw16c, where the first convolution reads NCHW */
  cdn_dnn_layer_t l[CDN_MAX_LAYERS];
} cdn_dnn_plan_t;

typedef struct cdn_dnn cdn_dnn_t;
struct cdn_dnn {
  dnnl_engine_t  eng;
  dnnl_stream_t  stream;
  dnnl_primitive_attr_t attr; /* user scratchpad; kept while the plans are made */
  int            nplan;
  cdn_dnn_plan_t plan[CDN_DNN_MAX_PLANS];
  dnnl_memory_t *mem;      /* every memory object, to destroy */
  int            nmem, maxmem;
  void         **bufs;     /* blocked weights and pooling workspaces */
  size_t        *buf_bytes; /* each buffer's size, for the guard check */
  int            nbufs, maxbufs;
  /* Guard mode (option -cnndyn_test_dnn_guard, for tests): every buffer of ours that oneDNN writes
     (the engine's own and the net's activations, gradients and workspaces) gets CDN_DNN_GUARD
     bytes of a known pattern after it, checked after every primitive runs, so
     a kernel that writes past what its descriptor booked fails the step instead of corrupting the
     heap (oneDNN's code is not instrumented by AddressSanitizer). */
  PetscBool      guard;
  const char *const *guard_at; /* and the net's buffers (net.h) */
  int            nguard;
  void          *scratch;  /* one scratchpad shared by every primitive (they never run at once) */
  void          *wino[3];  /* on NHWC: nChw16c input, output (and its gradient), input gradient of the
                              Winograd convolution running now: no layer's copies outlive its own step */
  int            blocks16; /* the layout is nChw16c (else NHWC) */
  char           to_scratch[CDN_MAX_LAYERS]; /* layer i's input gradient goes to net->scratch */
  char           blocked[CDN_MAX_LAYERS];    /* cdn_dnn_blocked, once */
  int            readers[CDN_MAX_LAYERS];    /* layers reading layer i's output (fusions need 1) */
  size_t         floats[CDN_MAX_LAYERS];     /* cdn_dnn_out_floats, once */
  dnnl_status_t  status;   /* the first failed execution; the epoch functions raise it */
  const char    *failed;
};

/* One step's state, handed to each operation's run_forward and run_backward. */
struct cdn_dnn_step {
  cdn_net_t      *net;
  cdn_dnn_plan_t *plan;
  int             B, n;   /* the plan's items, of which the first n are real */
  PetscBool       train;
  cdn_rng_t      *rng;
  char           *written; /* backward: whose output gradient holds a value already */
};

#define DNNL_CALL(what, call)                                                                                     \
  do {                                                                                                            \
    dnnl_status_t s_ = (call);                                                                                    \
    PetscCheck(s_ == dnnl_success, PETSC_COMM_SELF, PETSC_ERR_LIB, "oneDNN: %s: %s (layer %s)", what,           \
               dnnl_status2str(s_), layer_name);                                                                  \
  } while (0)

/* Whether layer i's output is in the engine's spatial layout (everything before flatten); "blocked"
   below means that layout, NHWC or nChw16c. */
int            cdn_dnn_blocked(const cdn_net_t *net, int i);
/* Channels per block of a blocked C-channel activation: C on NHWC, 16 on nChw16c. */
static inline int cdn_dnn_cblock(const cdn_dnn_t *d, int C) { return d->blocks16 ? 16 : C; }
/* The oneDNN tag of the blocked layout. */
static inline dnnl_format_tag_t cdn_dnn_tag(const cdn_dnn_t *d) { return d->blocks16 ? dnnl_nChw16c : dnnl_nhwc; }
/* Where element (b, c, h, w) of blocked layer i's output sits. */
size_t         cdn_dnn_at(const cdn_net_t *net, int i, int b, int c, int h, int w);
/* Floats per item of layer i's output in the layout the engine keeps it in. */
size_t         cdn_dnn_out_floats(const cdn_net_t *net, int i);
/* How many of the engine's primitives run oneDNN's reference implementation (plain loops, 10-1000x
   slower than its jit kernels: a layout or shape oneDNN has no fast kernel for); first names the
   first one's layer. For tests: every family's shapes must get fast kernels. */
int            cdn_dnn_reference_kernels(const cdn_net_t *net, char *first, size_t len);
/* The engine is a part of the net (net->dnn), never an object of its own: cdn_dnn_create builds
   it into net, cdn_dnn_free (called by cdn_net_destroy alone) frees it and sets net->dnn NULL. */
PetscErrorCode cdn_dnn_create(cdn_net_t *net);
PetscErrorCode cdn_dnn_free(cdn_net_t *net);
double         cdn_dnn_forward_backward(cdn_net_t *net, const float *x, const int *y, int n, PetscBool train,
                                        PetscBool grads, cdn_rng_t *rng, int *correct);
/* ---- for the operations' files: planning and running ---- */

static inline const float *cdn_dnn_src(const cdn_net_t *net, int i) /* layer i's input */
{
  int s = net->desc.layer[i].src;
  return s < 0 ? net->x : net->layer[s].out;
}
/* Where layer i writes the gradient of its input: the scratch buffer when route_gradients says
   so, else its source's gradient; NULL for the network's input, which needs none. */
float         *cdn_dnn_grad_in(const cdn_net_t *net, int i);
/* Layer i + 1 when it is a ReLU reading layer i alone (the fusions' common case), else -1. */
int            cdn_dnn_relu_after(const cdn_net_t *net, int i);
void           cdn_dnn_md4(dnnl_memory_desc_t *md, int n, int c, int h, int w, dnnl_format_tag_t tag);
/* A buffer of ours (64-byte aligned, zeroed, guarded in guard mode), freed with the engine. */
PetscErrorCode cdn_dnn_buf(cdn_dnn_t *d, size_t bytes, void **out);
/* Binds an argument: a memory object over ptr with layout md. */
PetscErrorCode cdn_dnn_arg(cdn_dnn_t *d, cdn_dnn_op_t *op, int what, const dnnl_memory_desc_t *md, void *ptr,
                           const char *layer_name);
PetscErrorCode cdn_dnn_reorder(cdn_dnn_t *d, cdn_dnn_op_t *op, const dnnl_memory_desc_t *from, void *src,
                               const dnnl_memory_desc_t *to, void *dst, const char *layer_name);
/* Executes a bound primitive (nothing if p is NULL or an earlier one failed); a failure is kept in
   d->status. */
void           cdn_dnn_run(cdn_dnn_t *d, cdn_dnn_op_t *op, const char *what);
/* batchnorm.c: the C scales and C shifts a BatchNorm's last forward applied (an add normalising
   for it reads them) */
const float   *cdn_bn_scale_shift(const cdn_layer_t *bn);
/* conv.c: whether layer ld runs on Winograd in a plan of B items; the Winograd convolutions'
   shared buffers (d->wino, for reorders on NHWC) for plans of the given batch sizes */
int            cdn_conv_wino_fits(const cdn_net_t *net, const cdn_layer_desc_t *ld, int B);
PetscErrorCode cdn_conv_wino_buffers(cdn_net_t *net, const int *sizes, int nsizes);
