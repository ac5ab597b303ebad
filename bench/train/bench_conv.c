/* Direct against Winograd convolution, one training step's worth (forward, backward data,
   backward weights) per shape, in each of the engine's ways (src/nn/dnn.h): on NHWC, direct, or
   Winograd on nChw16c copies with the four NHWC <-> nChw16c reorders around it counted in; on
   nChw16c (a net whose channels are multiples of 16 and that runs Winograd), direct or Winograd on
   the layers' own buffers. The shapes are the 3x3 stride-1 convolutions of the VGG and ResNet
   families at several widths; wino_fits in conv.c is chosen from the ratios.
   Usage: bench_conv [BATCH] [REPEATS]   (defaults 64 and 20; one thread, as a rank trains) */
#include <dnnl.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

typedef struct {
  dnnl_primitive_t p;
  int              nargs;
  dnnl_exec_arg_t  args[4];
} op_t;

static dnnl_engine_t eng;
static dnnl_stream_t stream;

static void die(const char *what, dnnl_status_t s)
{
  if (s == dnnl_success) return;
  fprintf(stderr, "bench_conv: %s failed (oneDNN status %d)\n", what, (int)s);
  exit(1);
}

static double now(void)
{
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + 1e-9 * t.tv_nsec;
}

static void md4(dnnl_memory_desc_t *md, int n, int c, int h, int w, dnnl_format_tag_t tag)
{
  dnnl_dims_t dims = {n, c, h, w};
  die("memory descriptor", dnnl_memory_desc_init_by_tag(md, 4, dims, dnnl_f32, tag));
}

/* A memory object of layout md with its own buffer, filled with small values. */
static dnnl_memory_t mem(const dnnl_memory_desc_t *md)
{
  dnnl_memory_t m;
  float        *f;
  die("memory", dnnl_memory_create(&m, md, eng, DNNL_MEMORY_ALLOCATE));
  die("memory", dnnl_memory_get_data_handle(m, (void **)&f));
  for (size_t i = 0; i < dnnl_memory_desc_get_size(md) / sizeof(float); i++) f[i] = (float)(i % 97) * 0.01f - 0.48f;
  return m;
}

static void make(op_t *op, const_dnnl_primitive_desc_t pd)
{
  die("primitive", dnnl_primitive_create(&op->p, pd));
}

static void add(op_t *op, int what, dnnl_memory_t m) { op->args[op->nargs].arg = what, op->args[op->nargs++].memory = m; }

static void reorder(op_t *op, dnnl_memory_t from, dnnl_memory_t to)
{
  const dnnl_memory_desc_t *a, *b;
  dnnl_primitive_desc_t     pd;
  die("query", dnnl_memory_get_memory_desc(from, &a));
  die("query", dnnl_memory_get_memory_desc(to, &b));
  die("reorder", dnnl_reorder_primitive_desc_create(&pd, a, eng, b, eng, NULL));
  make(op, pd);
  add(op, DNNL_ARG_FROM, from), add(op, DNNL_ARG_TO, to);
  dnnl_primitive_desc_destroy(pd);
}

/* Milliseconds per step of the ops in order, best of `repeats` after a warm-up. */
static double step_ms(op_t *ops, int n, int repeats)
{
  double best = 1e30;
  for (int r = -2; r < repeats; r++) {
    double t = now();
    for (int k = 0; k < n; k++)
      if (ops[k].p) die("execute", dnnl_primitive_execute(ops[k].p, stream, ops[k].nargs, ops[k].args));
    die("wait", dnnl_stream_wait(stream));
    if (r >= 0 && now() - t < best) best = now() - t;
  }
  return 1e3 * best;
}

/* One way on one shape: wino or direct, on nChw16c (blocked) or NHWC (Winograd then reorders). */
static double conv_ms(int wino, int blocked, int B, int C, int K, int H, int repeats)
{
  dnnl_memory_desc_t      src, dst, wany, bias, nsrc, ndst;
  dnnl_dims_t             one = {1, 1}, pad = {1, 1}, kdim = {K};
  dnnl_convolution_desc_t cd;
  dnnl_primitive_desc_t   fwd, bwd, bww;
  dnnl_alg_kind_t         alg = wino ? dnnl_convolution_winograd : dnnl_convolution_direct;
  dnnl_format_tag_t       tag = wino || blocked ? dnnl_nChw16c : dnnl_nhwc;
  op_t                    ops[7] = {0};
  dnnl_memory_t           x, y, dy, dx, nx, ny, ndy, ndx;
  double                  ms;

  md4(&src, B, C, H, H, tag), md4(&dst, B, K, H, H, tag), md4(&nsrc, B, C, H, H, dnnl_nhwc), md4(&ndst, B, K, H, H, dnnl_nhwc);
  md4(&wany, K, C, 3, 3, dnnl_format_tag_any);
  die("bias", dnnl_memory_desc_init_by_tag(&bias, 1, kdim, dnnl_f32, dnnl_x));
  die("forward", dnnl_convolution_forward_desc_init(&cd, dnnl_forward_training, alg, &src, &wany, &bias, &dst, one, pad, pad));
  if (dnnl_primitive_desc_create(&fwd, &cd, NULL, eng, NULL) != dnnl_success) return -1; /* no Winograd here */
  die("backward data", dnnl_convolution_backward_data_desc_init(&cd, alg, &src, &wany, &dst, one, pad, pad));
  die("backward data", dnnl_primitive_desc_create(&bwd, &cd, NULL, eng, fwd));
  die("backward weights", dnnl_convolution_backward_weights_desc_init(&cd, alg, &src, &wany, &bias, &dst, one, pad, pad));
  die("backward weights", dnnl_primitive_desc_create(&bww, &cd, NULL, eng, fwd));
  x = mem(&src), y = mem(&dst), dy = mem(&dst), dx = mem(&src);
  make(&ops[1], fwd);
  add(&ops[1], DNNL_ARG_SRC, x), add(&ops[1], DNNL_ARG_WEIGHTS, mem(dnnl_primitive_desc_query_md(fwd, dnnl_query_weights_md, 0)));
  add(&ops[1], DNNL_ARG_BIAS, mem(&bias)), add(&ops[1], DNNL_ARG_DST, y);
  make(&ops[4], bwd);
  add(&ops[4], DNNL_ARG_DIFF_DST, dy), add(&ops[4], DNNL_ARG_WEIGHTS, mem(dnnl_primitive_desc_query_md(bwd, dnnl_query_weights_md, 0)));
  add(&ops[4], DNNL_ARG_DIFF_SRC, dx);
  make(&ops[6], bww);
  add(&ops[6], DNNL_ARG_SRC, x), add(&ops[6], DNNL_ARG_DIFF_DST, dy), add(&ops[6], DNNL_ARG_DIFF_BIAS, mem(&bias));
  add(&ops[6], DNNL_ARG_DIFF_WEIGHTS, mem(dnnl_primitive_desc_query_md(bww, dnnl_query_diff_weights_md, 0)));
  if (wino && !blocked) { /* the NHWC engine's reorders: input in, output out, gradient in, input gradient out */
    nx = mem(&nsrc), ny = mem(&ndst), ndy = mem(&ndst), ndx = mem(&nsrc);
    reorder(&ops[0], nx, x), reorder(&ops[2], y, ny), reorder(&ops[3], ndy, dy), reorder(&ops[5], dx, ndx);
  }
  ms = step_ms(ops, 7, repeats);
  for (int k = 0; k < 7; k++)
    if (ops[k].p) dnnl_primitive_destroy(ops[k].p);
  dnnl_primitive_desc_destroy(fwd), dnnl_primitive_desc_destroy(bwd), dnnl_primitive_desc_destroy(bww);
  return ms; /* the memory objects live until exit: a benchmark, not a library */
}

int main(int argc, char **argv)
{
  static const int shapes[][3] = { /* in channels, out channels, height = width */
    {16, 16, 28}, {16, 16, 32}, {24, 24, 28}, {24, 48, 14}, {32, 32, 28}, {32, 32, 32}, {32, 32, 16}, {32, 64, 14},
    {64, 64, 14}, {64, 64, 7},  {64, 64, 8},  {48, 48, 14}, {96, 96, 7},  {128, 128, 8}, {128, 128, 4}, {256, 256, 4},
    {256, 256, 2}};
  int B = argc > 1 ? atoi(argv[1]) : 64, repeats = argc > 2 ? atoi(argv[2]) : 20;

  if (B < 1 || repeats < 1) {
    fprintf(stderr, "usage: bench_conv [BATCH] [REPEATS]\n");
    return 1;
  }
  omp_set_num_threads(1);
  die("engine", dnnl_engine_create(&eng, dnnl_cpu, 0));
  die("stream", dnnl_stream_create(&stream, eng, dnnl_stream_default_flags));
  printf("batch %d, ms per forward + backward data + backward weights; ratio: Winograd / direct\n", B);
  printf("%4s %4s %4s | %-26s | %-26s\n", "", "", "", "NHWC (Winograd reorders)", "nChw16c");
  printf("%4s %4s %4s | %8s %8s %8s | %8s %8s %8s\n", "in", "out", "hw", "direct", "wino", "ratio", "direct", "wino",
         "ratio");
  for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
    int    C = shapes[s][0], K = shapes[s][1], H = shapes[s][2];
    double ms[2][2];
    printf("%4d %4d %4d", C, K, H);
    for (int blocked = 0; blocked < 2; blocked++) {
      for (int wino = 0; wino < 2; wino++) ms[blocked][wino] = conv_ms(wino, blocked, B, C, K, H, repeats);
      if (ms[blocked][1] < 0) printf(" | %8.2f %8s %8s", ms[blocked][0], "-", "-");
      else printf(" | %8.2f %8.2f %8.2f", ms[blocked][0], ms[blocked][1], ms[blocked][1] / ms[blocked][0]);
    }
    printf("\n");
  }
  return 0;
}
