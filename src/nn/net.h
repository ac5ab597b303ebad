#pragma once
/* Private to nn: the network object. */
#include "layer.h"

struct cdn_net {
  cdn_model_desc_t   desc;
  cdn_train_config_t cfg;
  int                nl, maxb, nparam;
  cdn_layer_t        layer[CDN_MAX_LAYERS];
  float             *param, *grad, *mom; /* parallel blocks: SGD is one loop */
  float             *buf;                /* every activation, gradient and workspace */
  float             *x, *xc;             /* batch as NCHW, and as [C][B][H][W] when C > 1 */
  int               *y;
};
