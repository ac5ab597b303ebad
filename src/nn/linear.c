/* Fully connected layer with PyTorch's weight layout [out][in]; three sgemm calls. */
#include <cblas.h>
#include <limits.h>
#include "layer.h"

void cdn_linear_forward(float *out, const float *in, const float *w, const float *b, int B, int nin, int nout)
{
  for (int i = 0; i < B; i++)
    for (int o = 0; o < nout; o++) out[i * nout + o] = b[o];
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, nout, nin, 1.0f, in, nin, w, nin, 1.0f, out, nout);
}

void cdn_linear_backward(float *din, float *dw, float *db, const float *dout, const float *in, const float *w, int B,
                         int nin, int nout)
{
  cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, nout, nin, B, 1.0f, dout, nout, in, nin, 0.0f, dw, nin);
  for (int o = 0; o < nout; o++) {
    double s = 0;
    for (int i = 0; i < B; i++) s += dout[i * nout + o];
    db[o] = (float)s;
  }
  if (din) cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, nin, nout, 1.0f, dout, nout, w, nin, 0.0f, din, nin);
}

/* ---- the operation's table (the engine runs these kernels too, after the flatten) ---- */

static int lin_shape(cdn_layer_desc_t *d)
{
  d->out_h = d->out_w = 1;
  return d->in_h == 1 && d->in_w == 1 && d->out_c > 0; /* needs a flatten before it */
}
static void lin_fwd(cdn_layer_t *l, const float *in, int B, PetscBool train, cdn_rng_t *rng)
{
  cdn_linear_forward(l->out, in, l->d->weight, l->d->bias, B, l->d->in_c, l->d->out_c);
}
static void lin_bwd(cdn_layer_t *l, const float *in, float *din, int B)
{
  cdn_linear_backward(din, l->gw, l->gb, l->dout, in, l->d->weight, B, l->d->in_c, l->d->out_c);
}
static void lin_setup(cdn_layer_t *l, int bias)
{
  long long n = cdn_layer_weight_count(l->d); /* too many for an int: refused by the size guard */
  l->nw = n > INT_MAX ? INT_MAX : (int)n, l->nb = bias ? l->d->out_c : 0;
}

const cdn_layer_ops_t cdn_linear_op = {.op = CDN_OP_LINEAR, .inputs = 1, .ends_nhwc = 1, .out_shape = lin_shape,
                                       .setup = lin_setup, .work_bytes = cdn_no_work, .forward = lin_fwd,
                                       .backward = lin_bwd};
