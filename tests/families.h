#pragma once
/* Hand-built layer stacks of each family's shape (LeNet-5, a small AlexNet, a small VGG with
   BatchNorm, a tiny ResNet with an identity and a projection shortcut), with zeroed weights
   (calloc), BatchNorm gamma 1, running_var 1, eps 1e-5, for graph and snapshot tests. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cnndyn/model.h"

/* Appends a layer reading layer src (-1: the input); shapes follow from src's output. */
static inline int fam_push(cdn_model_desc_t *d, cdn_op_t op, const char *name, int src, int out_c, int k, int stride, int pad)
{
  cdn_layer_desc_t *l = &d->layer[d->nlayers];
  int               c = src < 0 ? d->in_c : d->layer[src].out_c, h = src < 0 ? d->in_h : d->layer[src].out_h;
  int               w = src < 0 ? d->in_w : d->layer[src].out_w;
  memset(l, 0, sizeof *l);
  snprintf(l->name, sizeof l->name, "%s", name);
  l->op = op, l->src = src, l->src2 = -1, l->in_c = c, l->in_h = h, l->in_w = w;
  l->out_c = c, l->out_h = h, l->out_w = w, l->kernel = k, l->stride = stride, l->padding = pad;
  if (op == CDN_OP_CONV2D || op == CDN_OP_MAXPOOL2D || op == CDN_OP_AVGPOOL2D) {
    l->out_h = (h + 2 * pad - k) / stride + 1, l->out_w = (w + 2 * pad - k) / stride + 1;
    if (op == CDN_OP_CONV2D) l->out_c = out_c;
  }
  if (op == CDN_OP_GLOBALAVGPOOL) l->out_h = l->out_w = 1;
  if (op == CDN_OP_FLATTEN) l->out_c = c * h * w, l->out_h = l->out_w = 1;
  if (op == CDN_OP_LINEAR) l->in_c = c * h * w, l->out_c = out_c, l->in_h = l->in_w = 1, l->out_h = l->out_w = 1;
  if (cdn_layer_has_params(l)) {
    l->weight = calloc(cdn_layer_weight_count(l), sizeof(float));
    l->bias   = calloc(l->out_c, sizeof(float));
  }
  if (op == CDN_OP_BATCHNORM) {
    l->weight       = calloc(c, sizeof(float));
    l->bias         = calloc(c, sizeof(float));
    l->running_mean = calloc(c, sizeof(float));
    l->running_var  = calloc(c, sizeof(float));
    l->eps          = 1e-5f;
    for (int i = 0; i < c; i++) l->weight[i] = l->running_var[i] = 1;
  }
  return d->nlayers++;
}
#define FAM(op, name, out_c, k, s, p) fam_push(d, op, name, d->nlayers - 1, out_c, k, s, p)

static inline void fam_begin(cdn_model_desc_t *d, const char *arch, int c, int hw, int classes)
{
  memset(d, 0, sizeof *d);
  snprintf(d->arch, sizeof d->arch, "%s", arch);
  d->in_c = c, d->in_h = d->in_w = hw, d->num_classes = classes;
}

static inline void fam_free(cdn_model_desc_t *d)
{
  for (int k = 0; k < d->nlayers; k++) {
    cdn_layer_desc_t *l = &d->layer[k];
    free(l->weight), free(l->bias), free(l->running_mean), free(l->running_var);
  }
}

static inline void fam_lenet(cdn_model_desc_t *d)
{
  fam_begin(d, "lenet5", 1, 28, 10);
  FAM(CDN_OP_CONV2D, "conv1", 6, 5, 1, 2), FAM(CDN_OP_RELU, "relu1", 0, 0, 0, 0);
  FAM(CDN_OP_MAXPOOL2D, "pool1", 0, 2, 2, 0), FAM(CDN_OP_CONV2D, "conv2", 16, 5, 1, 0);
  FAM(CDN_OP_RELU, "relu2", 0, 0, 0, 0), FAM(CDN_OP_MAXPOOL2D, "pool2", 0, 2, 2, 0);
  FAM(CDN_OP_FLATTEN, "flatten", 0, 0, 0, 0), FAM(CDN_OP_LINEAR, "fc1", 120, 0, 0, 0);
  FAM(CDN_OP_RELU, "relu3", 0, 0, 0, 0), FAM(CDN_OP_LINEAR, "fc2", 84, 0, 0, 0);
  FAM(CDN_OP_RELU, "relu4", 0, 0, 0, 0), FAM(CDN_OP_LINEAR, "fc3", 10, 0, 0, 0);
}

/* 3x32x32: five convs (16 32 48 48 32), three max pools, FC 512-64-64-10 with dropout. */
static inline void fam_alexnet(cdn_model_desc_t *d)
{
  fam_begin(d, "alexnet", 3, 32, 10);
  FAM(CDN_OP_CONV2D, "conv1", 16, 5, 1, 2), FAM(CDN_OP_RELU, "relu1", 0, 0, 0, 0);
  FAM(CDN_OP_MAXPOOL2D, "pool1", 0, 2, 2, 0), FAM(CDN_OP_CONV2D, "conv2", 32, 5, 1, 2);
  FAM(CDN_OP_RELU, "relu2", 0, 0, 0, 0), FAM(CDN_OP_MAXPOOL2D, "pool2", 0, 2, 2, 0);
  FAM(CDN_OP_CONV2D, "conv3", 48, 3, 1, 1), FAM(CDN_OP_RELU, "relu3", 0, 0, 0, 0);
  FAM(CDN_OP_CONV2D, "conv4", 48, 3, 1, 1), FAM(CDN_OP_RELU, "relu4", 0, 0, 0, 0);
  FAM(CDN_OP_CONV2D, "conv5", 32, 3, 1, 1), FAM(CDN_OP_RELU, "relu5", 0, 0, 0, 0);
  FAM(CDN_OP_MAXPOOL2D, "pool3", 0, 2, 2, 0), FAM(CDN_OP_FLATTEN, "flatten", 0, 0, 0, 0);
  FAM(CDN_OP_DROPOUT, "drop1", 0, 0, 0, 0), FAM(CDN_OP_LINEAR, "fc1", 64, 0, 0, 0);
  FAM(CDN_OP_RELU, "relu6", 0, 0, 0, 0), FAM(CDN_OP_DROPOUT, "drop2", 0, 0, 0, 0);
  FAM(CDN_OP_LINEAR, "fc2", 64, 0, 0, 0), FAM(CDN_OP_RELU, "relu7", 0, 0, 0, 0);
  FAM(CDN_OP_LINEAR, "fc3", 10, 0, 0, 0);
}

/* The small VGG of the benchmarks (bench/README.md) with BatchNorm: conv 32,32,pool,64,64,pool, fc 256, on 3x32x32. */
static inline void fam_vgg(cdn_model_desc_t *d)
{
  const char *cn[4] = {"conv1", "conv2", "conv3", "conv4"}, *bn[4] = {"bn1", "bn2", "bn3", "bn4"};
  const char *rn[4] = {"relu1", "relu2", "relu3", "relu4"};
  int         width[4] = {32, 32, 64, 64};
  fam_begin(d, "vgg", 3, 32, 10);
  for (int i = 0; i < 4; i++) {
    FAM(CDN_OP_CONV2D, cn[i], width[i], 3, 1, 1), FAM(CDN_OP_BATCHNORM, bn[i], 0, 0, 0, 0);
    FAM(CDN_OP_RELU, rn[i], 0, 0, 0, 0);
    if (i % 2) FAM(CDN_OP_MAXPOOL2D, i == 1 ? "pool1" : "pool2", 0, 2, 2, 0);
  }
  FAM(CDN_OP_FLATTEN, "flatten", 0, 0, 0, 0), FAM(CDN_OP_LINEAR, "fc1", 256, 0, 0, 0);
  FAM(CDN_OP_RELU, "relu5", 0, 0, 0, 0), FAM(CDN_OP_LINEAR, "fc2", 10, 0, 0, 0);
}

/* 3x8x8: stem conv 4 + BN + ReLU; block 1 (4 -> 4, identity shortcut); block 2 (4 -> 8, stride 2,
   1x1 projection + BN on the shortcut); global average pooling; FC 8 -> 10. Returns the indices
   of the layers tests poke at through ids[]: stem bn, projection conv, projection bn, fc. */
static inline void fam_resnet(cdn_model_desc_t *d, int ids[4])
{
  fam_begin(d, "resnet", 3, 8, 10);
  FAM(CDN_OP_CONV2D, "conv1", 4, 3, 1, 1);
  ids[0]  = FAM(CDN_OP_BATCHNORM, "bn1", 0, 0, 0, 0);
  int in1 = FAM(CDN_OP_RELU, "relu1", 0, 0, 0, 0);
  FAM(CDN_OP_CONV2D, "b1.conv1", 4, 3, 1, 1), FAM(CDN_OP_BATCHNORM, "b1.bn1", 0, 0, 0, 0);
  FAM(CDN_OP_RELU, "b1.relu1", 0, 0, 0, 0), FAM(CDN_OP_CONV2D, "b1.conv2", 4, 3, 1, 1);
  int m1 = FAM(CDN_OP_BATCHNORM, "b1.bn2", 0, 0, 0, 0);
  int a1 = FAM(CDN_OP_ADD, "b1.add", 0, 0, 0, 0);
  d->layer[a1].src = m1, d->layer[a1].src2 = in1;
  int in2 = FAM(CDN_OP_RELU, "b1.relu2", 0, 0, 0, 0);
  FAM(CDN_OP_CONV2D, "b2.conv1", 8, 3, 2, 1), FAM(CDN_OP_BATCHNORM, "b2.bn1", 0, 0, 0, 0);
  FAM(CDN_OP_RELU, "b2.relu1", 0, 0, 0, 0), FAM(CDN_OP_CONV2D, "b2.conv2", 8, 3, 1, 1);
  int m2 = FAM(CDN_OP_BATCHNORM, "b2.bn2", 0, 0, 0, 0);
  ids[1] = fam_push(d, CDN_OP_CONV2D, "b2.proj", in2, 8, 1, 2, 0);
  ids[2] = FAM(CDN_OP_BATCHNORM, "b2.projbn", 0, 0, 0, 0);
  int a2 = fam_push(d, CDN_OP_ADD, "b2.add", m2, 0, 0, 0, 0);
  d->layer[a2].src2 = ids[2];
  FAM(CDN_OP_RELU, "b2.relu2", 0, 0, 0, 0), FAM(CDN_OP_GLOBALAVGPOOL, "gap", 0, 0, 0, 0);
  FAM(CDN_OP_FLATTEN, "flatten", 0, 0, 0, 0);
  ids[3] = FAM(CDN_OP_LINEAR, "fc", 10, 0, 0, 0);
}
