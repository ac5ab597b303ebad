#pragma once
/* Private to nn: a direct convolution for a network's first layer when it reads one channel
   (grey images: LeNet's conv1), replacing oneDNN's forward and weight gradient there (its input
   gradient is never needed). conv_small.c says how it works. On AVX-512 conv_dgrad.c's image-lane
   kernels (below) take such a layer when they fit. */
#include <stddef.h>
#include "layer.h"

/* Whether layer d is such a layer and its shape fits the kernels. */
int    cdn_conv1_fits(const cdn_layer_desc_t *d);
/* Floats of work buffer the kernels need for layer d (any batch size). */
size_t cdn_conv1_work_floats(const cdn_layer_desc_t *d);
/* out (NHWC, B items) = conv(x (B grey images), d's weight and bias), then max(., 0) when relu. */
void   cdn_conv1_forward(float *out, const float *x, const cdn_layer_desc_t *d, int B, int relu, float *work);
/* gw (PyTorch's OIHW) and gb (if d has a bias) from the output gradient dout (NHWC) over B items:
   overwritten, as oneDNN does. */
void   cdn_conv1_backward_weights(float *gw, float *gb, const float *dout, const float *x, const cdn_layer_desc_t *d,
                                  int B, float *work);

/* conv_dgrad.c: the input gradient of a stride-1 convolution with 8 or fewer input channels,
   vectorised over images (AVX-512 builds only: fits is 0 otherwise). din (NHWC, B items) from dout
   (NHWC) and w (OIHW), overwritten; work holds cdn_conv_dgrad_work_floats(d, B) floats. */
int    cdn_conv_dgrad_fits(const cdn_layer_desc_t *d);
size_t cdn_conv_dgrad_work_floats(const cdn_layer_desc_t *d, int B);
void   cdn_conv_dgrad(float *din, const float *dout, const float *w, const cdn_layer_desc_t *d, int B, float *work);
/* The forward of a one-channel first layer (cdn_conv1_fits) with 8 or fewer outputs and a 3 x 3 or
   5 x 5 kernel by the same image-lane kernel, bias and ReLU included (AVX-512 builds only); work holds
   cdn_conv1_lanes_work_floats(d, B) floats. */
int    cdn_conv1_lanes_fits(const cdn_layer_desc_t *d);
size_t cdn_conv1_lanes_work_floats(const cdn_layer_desc_t *d, int B);
void   cdn_conv1_lanes_forward(float *out, const float *x, const cdn_layer_desc_t *d, int B, int relu, float *work);
/* its weight gradient likewise (as cdn_conv1_backward_weights) */
void   cdn_conv1_lanes_backward_weights(float *gw, float *gb, const float *dout, const float *x,
                                        const cdn_layer_desc_t *d, int B, float *work);
