#pragma once
/* Test-only: the reference kernels on channel-major activations, [C][B][H][W], so that a
   convolution of a whole batch is one GEMM; flatten turns them into [B][C*H*W] (PyTorch's order
   per item). The oneDNN engine never runs them: they serve the reference path (cfg.reference,
   which test_engine compares the engine with) and the finite-difference checks of test_layers.
   Backward kernels overwrite (not accumulate) their outputs; din may be NULL when not needed. */
#include "layer.h"

/* out[O][B][OH][OW], col[C*K*K][B*OH*OW] (kept for backward), in[C][B][H][W], w[O][C][K][K], b[O]
   or NULL (no bias); OH = (H + 2*pad - K) / S + 1. */
void cdn_conv2d_forward(float *out, float *col, const float *in, const float *w, const float *b, int B, int C,
                        int H, int W, int O, int K, int S, int pad);
/* col is what forward left; dcol is a workspace of the same size and may be col itself. */
void cdn_conv2d_backward(float *din, float *dw, float *db, float *dcol, const float *dout, const float *col,
                         const float *w, int B, int C, int H, int W, int O, int K, int S, int pad);
/* K x K pooling with stride S and padding pad over P = C*B planes, OH = (H + 2*pad - K) / S + 1;
   arg holds the index into in of each maximum; average pooling divides by K*K (padding counted). */
void cdn_maxpool_forward(float *out, int *arg, const float *in, int P, int H, int W, int K, int S, int pad);
void cdn_maxpool_backward(float *din, const float *dout, const int *arg, int P, int H, int W, int K, int S, int pad);
/* 2x2 max-pool, stride 2, over P = C*B planes: in[P][H][W] -> out[P][H/2][W/2]; arg[P*(H/2)*(W/2)]
   holds the index into in of each maximum. */
void cdn_maxpool2_forward(float *out, int *arg, const float *in, int P, int H, int W);
void cdn_maxpool2_backward(float *din, const float *dout, const int *arg, int P, int H, int W);
void cdn_avgpool_forward(float *out, const float *in, int P, int H, int W, int K, int S, int pad);
void cdn_avgpool_backward(float *din, const float *dout, int P, int H, int W, int K, int S, int pad);
/* global average pooling: in[P][HW] -> out[P] */
void cdn_gap_forward(float *out, const float *in, int P, int HW);
void cdn_gap_backward(float *din, const float *dout, int P, int HW);
/* BatchNorm over in[C][B][HW]; mean and invstd[C] are kept for backward; train uses (and updates
   the running statistics from) the batch, otherwise the running statistics are used. */
void cdn_batchnorm_forward(float *out, float *mean, float *invstd, const float *in, const float *gamma,
                           const float *beta, float *run_mean, float *run_var, int C, int B, int HW, float eps,
                           float momentum, PetscBool train);
void cdn_batchnorm_backward(float *din, float *dgamma, float *dbeta, const float *dout, const float *in,
                            const float *mean, const float *invstd, const float *gamma, int C, int B, int HW,
                            PetscBool train);
/* in[C][B][HW] -> out[B][C*HW] and back */
void cdn_flatten_forward(float *out, const float *in, int B, int C, int HW);
void cdn_flatten_backward(float *din, const float *dout, int B, int C, int HW);
