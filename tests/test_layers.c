/* Every layer's backward against central finite differences. Each layer is checked through the
   scalar L = sum(out * r) for a fixed random r, so dL/dout = r; L is summed in double and the steps
   are large enough for float round-off (linear layers have no truncation error at any step). */
#include <stdlib.h>
#include "check.h"
#include "cnndyn/nn.h"
#include "../src/nn/reference.h" /* the reference kernels (test-only) */

typedef double (*loss_fn)(void *ctx);

static cdn_rng_t rng;

static void randn(float *a, int n, double scale)
{
  for (int i = 0; i < n; i++) a[i] = (float)(scale * cdn_rng_normal(&rng));
}

static double dot(const float *a, const float *b, int n)
{
  double s = 0;
  for (int i = 0; i < n; i++) s += (double)a[i] * b[i];
  return s;
}

/* Compares grad[i] with (L(v+eps) - L(v-eps)) / 2eps for up to max entries of v; returns failures. */
static int fd_check(const char *what, loss_fn f, void *ctx, float *v, const float *grad, int n, int max, float eps,
                    double rtol)
{
  int bad = 0, step = n > max ? n / max : 1;
  for (int i = 0; i < n; i += step) {
    float  keep = v[i];
    double l0   = f(ctx);
    int    ok   = 0;
    double num[3] = {NAN, NAN, NAN};
    /* Central, forward and backward differences, at eps and eps/10. A step that crosses a ReLU or
       max-pool kink on one side spoils the central difference but not the one-sided one on the
       other side; a first-layer weight touches thousands of activations, so it needs the smaller
       step too. A wrong gradient matches none of the six. */
    for (float e = eps; e >= eps / 10 && !ok; e /= 10) {
      double lp, lm, h = (double)(keep + e) - (double)keep;
      v[i] = keep + e, lp = f(ctx);
      v[i] = keep - e, lm = f(ctx);
      v[i]   = keep;
      num[0] = (lp - lm) / (2.0 * h);
      num[1] = (lp - l0) / h;
      num[2] = (l0 - lm) / h;
      for (int k = 0; k < 3; k++) ok |= fabs(num[k] - grad[i]) <= 3e-3 + rtol * fmax(fabs(num[k]), fabs(grad[i]));
    }
    if (!ok) {
      fprintf(stderr, "%s[%d]: analytic %.6g, numeric %.6g / %.6g / %.6g\n", what, i, grad[i], num[0], num[1], num[2]);
      bad++;
    }
  }
  if (bad) check_failures++;
  return bad;
}

/* ---- conv: B=2, C=2, 6x6, 3 filters 3x3, padding 1 (so edges exercise the zero padding) ---- */
enum { CB = 2, CC = 2, CH = 6, CW = 5, CO = 3, CK = 3, CP = 1, COH = CH + 2 * CP - CK + 1, COW = CW + 2 * CP - CK + 1 };
typedef struct {
  float in[CC * CB * CH * CW], w[CO * CC * CK * CK], b[CO], out[CO * CB * COH * COW], r[CO * CB * COH * COW];
  float col[CC * CK * CK * CB * COH * COW];
} conv_t;
static double conv_loss(void *p)
{
  conv_t *c = p;
  cdn_conv2d_forward(c->out, c->col, c->in, c->w, c->b, CB, CC, CH, CW, CO, CK, 1, CP);
  return dot(c->out, c->r, CO * CB * COH * COW);
}
static void test_conv(void)
{
  static conv_t c;
  float         din[sizeof c.in / 4], dw[sizeof c.w / 4], db[CO];
  randn(c.in, sizeof c.in / 4, 1), randn(c.w, sizeof c.w / 4, 0.5), randn(c.b, CO, 0.5), randn(c.r, sizeof c.r / 4, 1);
  conv_loss(&c);
  cdn_conv2d_backward(din, dw, db, c.col, c.r, c.col, c.w, CB, CC, CH, CW, CO, CK, 1, CP);
  fd_check("conv din", conv_loss, &c, c.in, din, sizeof c.in / 4, 1000, 1e-2f, 2e-2);
  fd_check("conv dw", conv_loss, &c, c.w, dw, sizeof c.w / 4, 1000, 1e-2f, 2e-2);
  fd_check("conv db", conv_loss, &c, c.b, db, CO, 1000, 1e-2f, 2e-2);
  /* one output by hand: filter 0, item 1, position (0,0) sees the padded corner */
  double s = c.b[0];
  for (int ci = 0; ci < CC; ci++)
    for (int ki = 1; ki < CK; ki++)
      for (int kj = 1; kj < CK; kj++) s += c.w[(ci * CK + ki) * CK + kj] * c.in[((ci * CB + 1) * CH + ki - 1) * CW + kj - 1];
  conv_loss(&c);
  CHECK_CLOSE(c.out[(0 * CB + 1) * COH * COW], s, 1e-5);
}

/* ---- max-pool over 3 planes of 5x6 (odd height: the last row is dropped) ---- */
typedef struct {
  float in[3 * 5 * 6], out[3 * 2 * 3], r[3 * 2 * 3];
  int   arg[3 * 2 * 3];
} pool_t;
static double pool_loss(void *p)
{
  pool_t *c = p;
  cdn_maxpool2_forward(c->out, c->arg, c->in, 3, 5, 6);
  return dot(c->out, c->r, 18);
}
static void test_pool(void)
{
  static pool_t c;
  float         din[90];
  for (int i = 0; i < 90; i++) c.in[i] = (float)((i * 37) % 90) * 0.1f; /* distinct: no ties within eps */
  randn(c.r, 18, 1);
  pool_loss(&c);
  cdn_maxpool2_backward(din, c.r, c.arg, 3, 5, 6);
  fd_check("pool din", pool_loss, &c, c.in, din, 90, 1000, 1e-3f, 2e-2);
  CHECK(c.out[0] == fmaxf(fmaxf(c.in[0], c.in[1]), fmaxf(c.in[6], c.in[7])));
}

/* ---- linear 5 -> 4 on 3 items ---- */
typedef struct {
  float in[15], w[20], b[4], out[12], r[12];
} lin_t;
static double lin_loss(void *p)
{
  lin_t *c = p;
  cdn_linear_forward(c->out, c->in, c->w, c->b, 3, 5, 4);
  return dot(c->out, c->r, 12);
}
static void test_linear(void)
{
  static lin_t c;
  float        din[15], dw[20], db[4];
  randn(c.in, 15, 1), randn(c.w, 20, 1), randn(c.b, 4, 1), randn(c.r, 12, 1);
  lin_loss(&c);
  cdn_linear_backward(din, dw, db, c.r, c.in, c.w, 3, 5, 4);
  fd_check("linear din", lin_loss, &c, c.in, din, 15, 100, 1e-2f, 2e-2);
  fd_check("linear dw", lin_loss, &c, c.w, dw, 20, 100, 1e-2f, 2e-2);
  fd_check("linear db", lin_loss, &c, c.b, db, 4, 100, 1e-2f, 2e-2);
  CHECK_CLOSE(c.out[1 * 4 + 2], c.b[2] + dot(c.in + 5, c.w + 10, 5), 1e-5);
}

/* ---- ReLU, dropout with a fixed mask, flatten ---- */
typedef struct {
  float in[24], out[24], r[24], mask[24];
  int   kind;
} elem_t;
static double elem_loss(void *p)
{
  elem_t *c = p;
  if (c->kind == 0) cdn_relu_forward(c->out, c->in, 24);
  if (c->kind == 1) cdn_dropout_forward(c->out, c->in, c->mask, 24);
  if (c->kind == 2) cdn_flatten_forward(c->out, c->in, 2, 3, 4);
  return dot(c->out, c->r, 24);
}
static void test_elementwise(void)
{
  static elem_t c;
  float         din[24];
  int           zeros = 0;
  for (int i = 0; i < 24; i++) c.in[i] = (i % 2 ? 1 : -1) * (0.1f + 0.05f * i); /* away from the kink */
  randn(c.r, 24, 1);
  c.kind = 0;
  elem_loss(&c);
  cdn_relu_backward(din, c.r, c.out, 24);
  fd_check("relu din", elem_loss, &c, c.in, din, 24, 100, 1e-3f, 2e-2);
  cdn_dropout_mask(c.mask, 24, 0.5, &rng);
  for (int i = 0; i < 24; i++) {
    zeros += c.mask[i] == 0;
    CHECK(c.mask[i] == 0 || c.mask[i] == 2.0f);
  }
  CHECK(zeros > 0 && zeros < 24);
  c.kind = 1;
  cdn_dropout_backward(din, c.r, c.mask, 24);
  fd_check("dropout din", elem_loss, &c, c.in, din, 24, 100, 1e-2f, 2e-2);
  c.kind = 2;
  elem_loss(&c);
  CHECK(c.out[1 * 12 + 2 * 4 + 3] == c.in[(2 * 2 + 1) * 4 + 3]); /* item 1, channel 2, pixel 3 */
  cdn_flatten_backward(din, c.r, 2, 3, 4);
  fd_check("flatten din", elem_loss, &c, c.in, din, 24, 100, 1e-2f, 2e-2);
}

/* ---- softmax cross-entropy on 3 items x 5 classes ---- */
typedef struct {
  float z[15];
  int   y[3];
} xent_t;
static double xent_loss(void *p)
{
  xent_t *c = p;
  return cdn_softmax_xent(NULL, NULL, c->z, c->y, 3, 5);
}
static void test_xent(void)
{
  static xent_t c = {.y = {0, 3, 4}};
  float         dz[15], big[2] = {1000, 0};
  int           y0 = 0, correct;
  randn(c.z, 15, 2);
  cdn_softmax_xent(dz, NULL, c.z, c.y, 3, 5);
  fd_check("xent dlogits", xent_loss, &c, c.z, dz, 15, 100, 1e-2f, 2e-2);
  CHECK_CLOSE(cdn_softmax_xent(NULL, &correct, big, &y0, 1, 2), 0.0, 1e-12); /* large logits stay finite */
  CHECK(correct == 1);
  big[0] = INFINITY;
  CHECK(!isfinite(cdn_softmax_xent(NULL, NULL, big, &y0, 1, 2)));
}


/* ---- strided conv without bias: B=2, C=3, 7x6, 4 filters 3x3, stride 2, padding 1 ---- */
enum { SB = 2, SC = 3, SH = 7, SW = 6, SO = 4, SK = 3, SS = 2, SP = 1, SOH = (SH + 2 * SP - SK) / SS + 1,
       SOW = (SW + 2 * SP - SK) / SS + 1 };
typedef struct {
  float in[SC * SB * SH * SW], w[SO * SC * SK * SK], out[SO * SB * SOH * SOW], r[SO * SB * SOH * SOW];
  float col[SC * SK * SK * SB * SOH * SOW];
} sconv_t;
static double sconv_loss(void *p)
{
  sconv_t *c = p;
  cdn_conv2d_forward(c->out, c->col, c->in, c->w, NULL, SB, SC, SH, SW, SO, SK, SS, SP);
  return dot(c->out, c->r, SO * SB * SOH * SOW);
}
static void test_conv_strided(void)
{
  static sconv_t c;
  float          din[sizeof c.in / 4], dw[sizeof c.w / 4];
  randn(c.in, sizeof c.in / 4, 1), randn(c.w, sizeof c.w / 4, 0.5), randn(c.r, sizeof c.r / 4, 1);
  sconv_loss(&c);
  cdn_conv2d_backward(din, dw, NULL, c.col, c.r, c.col, c.w, SB, SC, SH, SW, SO, SK, SS, SP);
  fd_check("strided conv din", sconv_loss, &c, c.in, din, sizeof c.in / 4, 1000, 1e-2f, 2e-2);
  fd_check("strided conv dw", sconv_loss, &c, c.w, dw, sizeof c.w / 4, 1000, 1e-2f, 2e-2);
  /* output (1,1) of filter 2, item 0 reads input rows 1..3, columns 1..3 */
  double v = 0;
  for (int ci = 0; ci < SC; ci++)
    for (int ki = 0; ki < SK; ki++)
      for (int kj = 0; kj < SK; kj++) v += c.w[((2 * SC + ci) * SK + ki) * SK + kj] * c.in[((ci * SB + 0) * SH + 1 + ki) * SW + 1 + kj];
  sconv_loss(&c);
  CHECK_CLOSE(c.out[(2 * SB + 0) * SOH * SOW + 1 * SOW + 1], v, 1e-5);
  CHECK(SOH == 4 && SOW == 3);
}

/* ---- general pools on 2 planes of 7x6: max 3x3/2 pad 1, avg 3x3/2 pad 1, global average ---- */
enum { PP = 2, PH = 7, PW = 6, PK = 3, PS = 2, PD = 1, POH = (PH + 2 * PD - PK) / PS + 1, POW = (PW + 2 * PD - PK) / PS + 1 };
typedef struct {
  float in[PP * PH * PW], out[PP * POH * POW], r[PP * POH * POW];
  int   arg[PP * POH * POW], kind;
} gpool_t;
static double gpool_loss(void *p)
{
  gpool_t *c = p;
  if (c->kind == 0) cdn_maxpool_forward(c->out, c->arg, c->in, PP, PH, PW, PK, PS, PD);
  if (c->kind == 1) cdn_avgpool_forward(c->out, c->in, PP, PH, PW, PK, PS, PD);
  if (c->kind == 2) {
    cdn_gap_forward(c->out, c->in, PP, PH * PW);
    return dot(c->out, c->r, PP);
  }
  return dot(c->out, c->r, PP * POH * POW);
}
static void test_pools(void)
{
  static gpool_t c;
  float          din[PP * PH * PW];
  for (int i = 0; i < PP * PH * PW; i++) c.in[i] = (float)((i * 37) % 84) * 0.1f - 4; /* distinct, some negative */
  randn(c.r, PP * POH * POW, 1);
  c.kind = 0;
  gpool_loss(&c);
  cdn_maxpool_backward(din, c.r, c.arg, PP, PH, PW, PK, PS, PD);
  fd_check("maxpool3 din", gpool_loss, &c, c.in, din, PP * PH * PW, 1000, 1e-3f, 2e-2);
  /* window (0,0) covers rows -1..1, columns -1..1: padding never wins, even over negatives */
  CHECK(c.out[0] == fmaxf(fmaxf(c.in[0], c.in[1]), fmaxf(c.in[PW], c.in[PW + 1])));
  c.kind = 1;
  gpool_loss(&c);
  cdn_avgpool_backward(din, c.r, PP, PH, PW, PK, PS, PD);
  fd_check("avgpool din", gpool_loss, &c, c.in, din, PP * PH * PW, 1000, 1e-2f, 2e-2);
  CHECK_CLOSE(c.out[0], (c.in[0] + c.in[1] + c.in[PW] + c.in[PW + 1]) / 9.0, 1e-5); /* padding counted */
  c.kind = 2;
  gpool_loss(&c);
  cdn_gap_backward(din, c.r, PP, PH * PW);
  fd_check("gap din", gpool_loss, &c, c.in, din, PP * PH * PW, 1000, 1e-2f, 2e-2);
}

/* ---- BatchNorm over 3 channels x 4 items x 5 pixels, training and evaluation ---- */
enum { NC = 3, NB = 4, NHW = 5, NN = NC * NB * NHW };
typedef struct {
  float in[NN], out[NN], r[NN], g[NC], b[NC], rm[NC], rv[NC], mean[NC], inv[NC];
  PetscBool train;
} bn_t;
static double bn_loss(void *p)
{
  bn_t *c = p;
  cdn_batchnorm_forward(c->out, c->mean, c->inv, c->in, c->g, c->b, c->rm, c->rv, NC, NB, NHW, 1e-5f, 0.1f, c->train);
  return dot(c->out, c->r, NN);
}
static void test_batchnorm(void)
{
  static bn_t c;
  float       din[NN], dg[NC], db[NC];
  double      m = 0, v = 0;
  randn(c.in, NN, 2), randn(c.g, NC, 1), randn(c.b, NC, 1), randn(c.r, NN, 1);
  for (int i = 0; i < NC; i++) c.rm[i] = 0, c.rv[i] = 1;
  c.train = PETSC_TRUE;
  bn_loss(&c);
  /* running statistics moved by 0.1 towards the batch's mean and unbiased variance */
  for (int i = 0; i < NB * NHW; i++) m += c.in[i];
  m /= NB * NHW;
  for (int i = 0; i < NB * NHW; i++) v += (c.in[i] - m) * (c.in[i] - m);
  CHECK_CLOSE(c.rm[0], 0.1 * m, 1e-5);
  CHECK_CLOSE(c.rv[0], 0.9 + 0.1 * v / (NB * NHW - 1), 1e-5);
  CHECK_CLOSE(c.out[0], c.g[0] * (c.in[0] - m) / sqrt(v / (NB * NHW) + 1e-5) + c.b[0], 1e-4);
  cdn_batchnorm_backward(din, dg, db, c.r, c.in, c.mean, c.inv, c.g, NC, NB, NHW, PETSC_TRUE);
  fd_check("bn train din", bn_loss, &c, c.in, din, NN, 1000, 1e-2f, 2e-2);
  fd_check("bn train dgamma", bn_loss, &c, c.g, dg, NC, 100, 1e-2f, 2e-2);
  fd_check("bn train dbeta", bn_loss, &c, c.b, db, NC, 100, 1e-2f, 2e-2);
  c.train = PETSC_FALSE; /* evaluation: running statistics, an affine map */
  c.rm[1] = 0.5f, c.rv[1] = 2;
  bn_loss(&c);
  CHECK_CLOSE(c.out[NB * NHW], c.g[1] * (c.in[NB * NHW] - 0.5) / sqrt(2 + 1e-5) + c.b[1], 1e-5);
  cdn_batchnorm_backward(din, dg, db, c.r, c.in, c.mean, c.inv, c.g, NC, NB, NHW, PETSC_FALSE);
  fd_check("bn eval din", bn_loss, &c, c.in, din, NN, 1000, 1e-2f, 2e-2);
  fd_check("bn eval dgamma", bn_loss, &c, c.g, dg, NC, 100, 1e-2f, 2e-2);
}

/* ---- the whole LeNet (with dropout, same masks on every call) ---- */
typedef struct {
  cdn_net_t *net;
  float      x[4 * 28 * 28];
  int        y[4];
} net_ctx_t;
static double net_loss(void *p)
{
  net_ctx_t *c = p;
  cdn_rng_t  r;
  cdn_rng_seed(&r, 9, 9);
  return cdn_net_forward_backward(c->net, c->x, c->y, 4, PETSC_TRUE, PETSC_FALSE, &r, NULL);
}
static void test_lenet(void)
{
  static net_ctx_t   c = {.y = {1, 7, 3, 0}};
  cdn_train_config_t cfg = {.lr = 0.1, .dropout = 0, .init_scale = 1, .batch_size = 4};
  float             *w, *g, *gcopy;
  int                n;
  cdn_rng_t          r;
  if (cdn_net_create("lenet5", 1, 28, 28, 10, &cfg, &c.net)) {
    CHECK(0);
    return;
  }
  cdn_net_init(c.net, &rng);
  randn(c.x, 4 * 28 * 28, 1);
  cdn_net_params(c.net, &w, &g, NULL, &n);
  CHECK(n == 6 * 25 + 6 + 16 * 150 + 16 + 120 * 400 + 120 + 84 * 120 + 84 + 10 * 84 + 10);
  cdn_rng_seed(&r, 9, 9);
  cdn_net_forward_backward(c.net, c.x, c.y, 4, PETSC_TRUE, PETSC_TRUE, &r, NULL);
  gcopy = malloc(sizeof(float) * n);
  memcpy(gcopy, g, sizeof(float) * n);
  /* a few entries in every tensor */
  const cdn_model_desc_t *m = cdn_net_desc(c.net);
  for (int i = 0; i < m->nlayers; i++) {
    const cdn_layer_desc_t *l = &m->layer[i];
    if (!cdn_layer_has_params(l)) continue;
    int wo = (int)(l->weight - w), bo = (int)(l->bias - w), nw = cdn_layer_weight_count(l);
    /* Entry by entry, ReLU and max-pool kinks crossed by the step blur the difference (it converges
       as eps shrinks, until float round-off takes over), so the tolerance is loose; a layout or
       indexing bug gives unrelated numbers. The directional derivative below averages the kinks out
       and is held tight. */
    fd_check(l->name, net_loss, &c, w + wo, gcopy + wo, nw, 64, 1e-3f, 5e-2);
    fd_check(l->name, net_loss, &c, w + bo, gcopy + bo, l->out_c, 120, 1e-3f, 5e-2);
    {
      /* The step of a directional difference moves every weight of the layer, so it crosses kinks
         too; as the step shrinks the difference converges to the analytic value (seen to 1e-4
         relative at step 1e-5) until float round-off takes over. Take the best of three steps. */
      float *v = malloc(sizeof(float) * nw), *keep = malloc(sizeof(float) * nw);
      double ana, best = INFINITY, bestnum = NAN;
      randn(v, nw, 1);
      memcpy(keep, w + wo, sizeof(float) * nw);
      ana = dot(gcopy + wo, v, nw);
      for (double eps = 1e-3; eps > 1e-6; eps /= 10) {
        double lp, lm, num;
        for (int k = 0; k < nw; k++) w[wo + k] = keep[k] + (float)(eps * v[k]);
        lp = net_loss(&c);
        for (int k = 0; k < nw; k++) w[wo + k] = keep[k] - (float)(eps * v[k]);
        lm = net_loss(&c);
        num = (lp - lm) / (2 * eps);
        if (fabs(num - ana) < best) best = fabs(num - ana), bestnum = num;
      }
      memcpy(w + wo, keep, sizeof(float) * nw);
      /* g.v for a random normal v is typically |g| in size but can be small by cancellation:
         measure the error against |g|, the scale of the numbers that were summed. */
      if (!(best <= 3e-2 * fmax(fabs(ana), sqrt(dot(gcopy + wo, gcopy + wo, nw))) + 1e-2)) {
        fprintf(stderr, "%s directional: analytic %.6g, closest numeric %.6g\n", l->name, ana, bestnum);
        check_failures++;
      }
      free(v);
      free(keep);
    }
  }
  free(gcopy);
  cdn_net_destroy(&c.net);
}

int main(int argc, char **argv)
{
  /* A seed on the command line reruns the checks on other random data. */
  cdn_rng_seed(&rng, argc > 1 ? strtoull(argv[1], NULL, 10) : 2024, 1);
  test_conv();
  test_conv_strided();
  test_pool();
  test_pools();
  test_batchnorm();
  test_linear();
  test_elementwise();
  test_xent();
  test_lenet();
  return CHECK_STATUS();
}
