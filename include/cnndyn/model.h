#pragma once
/* A network's layer stack as other stages see it: what snapshots store, what graphs are built
   from. Parameter tensors are in PyTorch layouts: conv weight [out][in][kh][kw], linear weight
   [out][in], bias [out]. The nn module fills one of these with views into its parameter block;
   the snapshot reader fills one with memory it owns. */

#define CDN_MAX_LAYERS 128 /* ResNet-32 has 111 */
#define CDN_NAME_LEN   32

/* The architecture families cnndyn builds (src/nn/arch.c), in the order jobs/README.md lists
   them: the one list the job spec, the run CSV reader and saved predictors check names against. */
#define CDN_ARCH_COUNT 4
extern const char *const cdn_arch_names[CDN_ARCH_COUNT]; /* "lenet5", "alexnet", "vgg", "resnet" */
int cdn_arch_index(const char *name);                     /* its index there, or -1 */
int cdn_arch_known(const char *name);                     /* 1 if name is one of them */
/* Whether family arch takes depth (0: its default); if not, rule (n bytes) says what it takes,
   e.g. "resnet takes 6n+2 layers (8, 14, 20, 26, 32)". The job spec and the builders both ask. */
int cdn_arch_depth_ok(const char *arch, int depth, char *rule, size_t n);
/* A set of them as files write it: the names in name order, comma-separated ("lenet5,vgg"); mask
   bit a stands for cdn_arch_names[a]. Writing an empty set gives "". Reading gives the mask, or -1
   when list is not such a text (an unknown name, a repeat, another order, an empty item). */
void cdn_arch_list_write(unsigned mask, char *buf, size_t len);
int  cdn_arch_in_name_order(int i); /* the index in cdn_arch_names of the i-th name in name order */
int  cdn_arch_list_read(const char *list);

/* The one list of operations: X(ENUM, its "type" in model.json, the suffix of its table
   cdn_SUFFIX_op in src/nn). Adding an operation takes a line here, its own file in src/nn (the
   table), the architecture builder (src/nn/arch.c) and the graph walker (src/graph/plan.c,
   unrolled.c); nothing else. Notes: BATCHNORM is per channel (weight = gamma, bias = beta,
   running_mean, running_var, eps); AVGPOOL2D has kernel, stride, padding; GLOBALAVGPOOL maps
   C x H x W to C x 1 x 1; ADD is the residual sum of the outputs of layers src and src2 (same
   shape). */
#define CDN_OPS(X)                                \
  X(CONV2D, "conv2d", conv2d)                     \
  X(LINEAR, "linear", linear)                     \
  X(RELU, "relu", relu)                           \
  X(MAXPOOL2D, "maxpool2d", maxpool)              \
  X(DROPOUT, "dropout", dropout)                  \
  X(FLATTEN, "flatten", flatten)                  \
  X(BATCHNORM, "batchnorm", batchnorm)            \
  X(AVGPOOL2D, "avgpool2d", avgpool)              \
  X(GLOBALAVGPOOL, "globalavgpool", gap)          \
  X(ADD, "add", add)

typedef enum {
#define CDN_OP_ENUM(E, NAME, NN) CDN_OP_##E,
  CDN_OPS(CDN_OP_ENUM)
#undef CDN_OP_ENUM
} cdn_op_t;
#define CDN_OP_ONE(E, NAME, NN) +1
#define CDN_OP_COUNT (0 CDN_OPS(CDN_OP_ONE)) /* the list's length */

/* Layers are listed in an order where every layer comes after its inputs. A layer's input is the
   output of layer src (-1: the network's input); sequential stacks have src = index - 1. A
   residual block is a main path, a shortcut whose first layer has src = the block's input layer
   (a 1x1 projection conv and its BatchNorm, or nothing for an identity shortcut), and an ADD with
   src = the main path's last layer and src2 = the shortcut's last layer (or the block's input). */
typedef struct {
  cdn_op_t op;
  char     name[CDN_NAME_LEN]; /* "conv1", "fc2", "relu3": unique in the stack */
  int      src, src2;          /* input layer indices (src2: ADD only) */
  int      in_c, out_c;        /* conv: channels; linear: features; others: channels kept */
  int      in_h, in_w;         /* spatial size of this layer's input (1x1 after flatten) */
  int      out_h, out_w;
  int      kernel, stride, padding; /* conv and pool */
  float    p;                  /* dropout probability */
  float   *weight;             /* NULL for layers without parameters */
  float   *bias;               /* NULL for a conv or linear layer without bias */
  float   *running_mean;       /* BATCHNORM only */
  float   *running_var;
  float    eps;                /* BATCHNORM only */
} cdn_layer_desc_t;

typedef struct {
  char             arch[CDN_NAME_LEN]; /* "lenet5" */
  int              in_c, in_h, in_w;
  int              num_classes;
  int              nlayers;
  cdn_layer_desc_t layer[CDN_MAX_LAYERS];
} cdn_model_desc_t;

/* In 64 bits: a network too big to build must still be measured right by the size guard (an
   outside review's alexnet at width 64 overflowed int and was refused with a nonsense size). */
static inline long long cdn_layer_weight_count(const cdn_layer_desc_t *l)
{
  if (l->op == CDN_OP_CONV2D) return (long long)l->out_c * l->in_c * l->kernel * l->kernel;
  if (l->op == CDN_OP_LINEAR) return (long long)l->out_c * l->in_c;
  return 0;
}
/* Layers whose weights are edges of the graph. */
static inline int cdn_layer_has_params(const cdn_layer_desc_t *l)
{
  return l->op == CDN_OP_CONV2D || l->op == CDN_OP_LINEAR;
}
