/* One core's FP32 multiply-add peak, measured: independent fused multiply-adds on the widest
   vectors this CPU runs (AVX-512, else AVX2 with FMA, else SSE multiply and add), enough chains
   to hide their latency, for under a second. Prints "fp32_peak_gflop_s G isa NAME".
   shares.sh and table.sh divide convolution rates by it: a figure from the machine they run on,
   not a constant from another. Usage: bench_peak [avx512|avx2|sse] (default: the widest the CPU
   has that ONEDNN_MAX_CPU_ISA, or DNNL_MAX_CPU_ISA, leaves oneDNN: the kernels being measured
   against it can use no wider; a narrower one shows what an AVX2-only machine's kernels could
   reach here) */
#define _POSIX_C_SOURCE 200809L
#include <immintrin.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define CHAINS 12 /* two FMA ports x a latency of 4-6 cycles: more chains than a port can have in flight */

/* CPU time, not wall time: the peak is the core's, and on a shared machine wall-time rounds came
   out at a quarter of it (53 GFLOP/s against 217-230 quiet, with four runnable processes on two
   cores), best of five or not */
static double now(void)
{
  struct timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return t.tv_sec + 1e-9 * t.tv_nsec;
}

/* Each kernel returns a sum of its chains, stored where the compiler must keep it: so it keeps the work. */
__attribute__((target("avx512f"))) static float run512(long n)
{
  __m512 a[CHAINS], x = _mm512_set1_ps(0.999999f), y = _mm512_set1_ps(1e-7f), s = _mm512_setzero_ps();
  for (int c = 0; c < CHAINS; c++) a[c] = _mm512_set1_ps((float)c);
  for (long i = 0; i < n; i++)
    _Pragma("GCC unroll 12") for (int c = 0; c < CHAINS; c++) a[c] = _mm512_fmadd_ps(a[c], x, y);
  for (int c = 0; c < CHAINS; c++) s = _mm512_add_ps(s, a[c]);
  return _mm512_reduce_add_ps(s);
}

__attribute__((target("avx2,fma"))) static float run256(long n)
{
  __m256 a[CHAINS], x = _mm256_set1_ps(0.999999f), y = _mm256_set1_ps(1e-7f), s = _mm256_setzero_ps();
  float  out[8], t = 0;
  for (int c = 0; c < CHAINS; c++) a[c] = _mm256_set1_ps((float)c);
  for (long i = 0; i < n; i++)
    _Pragma("GCC unroll 12") for (int c = 0; c < CHAINS; c++) a[c] = _mm256_fmadd_ps(a[c], x, y);
  for (int c = 0; c < CHAINS; c++) s = _mm256_add_ps(s, a[c]);
  _mm256_storeu_ps(out, s);
  for (int k = 0; k < 8; k++) t += out[k];
  return t;
}

static float run128(long n) /* SSE2: every x86-64 has it; a multiply and an add, 2 FLOPs a lane */
{
  __m128 a[CHAINS], x = _mm_set1_ps(0.999999f), y = _mm_set1_ps(1e-7f), s = _mm_setzero_ps();
  float  out[4];
  for (int c = 0; c < CHAINS; c++) a[c] = _mm_set1_ps((float)c);
  for (long i = 0; i < n; i++)
    _Pragma("GCC unroll 12") for (int c = 0; c < CHAINS; c++) a[c] = _mm_add_ps(_mm_mul_ps(a[c], x), y);
  for (int c = 0; c < CHAINS; c++) s = _mm_add_ps(s, a[c]);
  _mm_storeu_ps(out, s);
  return out[0] + out[1] + out[2] + out[3];
}

/* The widest vectors oneDNN may use here: the CPU's, capped as oneDNN caps its own (ALL or a value
   it does not know leaves them uncapped; SSE41 and AVX, below what cnndyn runs, count as SSE). */
static const char *widest(void)
{
  const char *cap = getenv("ONEDNN_MAX_CPU_ISA") ? getenv("ONEDNN_MAX_CPU_ISA") : getenv("DNNL_MAX_CPU_ISA");
  int         lim = !cap                                                ? 2
                  : !strncasecmp(cap, "AVX512", 6)                      ? 2
                  : !strncasecmp(cap, "AVX2", 4)                        ? 1
                  : !strcasecmp(cap, "AVX") || !strcasecmp(cap, "SSE41") ? 0
                                                                          : 2;
  if (lim >= 2 && __builtin_cpu_supports("avx512f")) return "avx512";
  if (lim >= 1 && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "avx2";
  return "sse";
}

int main(int argc, char **argv)
{
  const char *isa = argc > 1 ? argv[1] : widest();
  int    lanes = !strcmp(isa, "avx512") ? 16 : !strcmp(isa, "avx2") ? 8 : !strcmp(isa, "sse") ? 4 : 0;
  float (*run)(long) = lanes == 16 ? run512 : lanes == 8 ? run256 : run128;
  double          best = 0;
  volatile double sink = 0;
  long   n    = 1L << 26; /* about 0.1 s a round at 200 GFLOP/s */
  if (!lanes || argc > 2) {
    fprintf(stderr, "usage: bench_peak [avx512|avx2|sse]   (default: the widest this CPU has and ONEDNN_MAX_CPU_ISA allows)\n");
    return 2;
  }
  if ((lanes == 16 && !__builtin_cpu_supports("avx512f")) ||
      (lanes == 8 && !(__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")))) {
    fprintf(stderr, "bench_peak: error: this CPU has no %s\n", isa);
    return 1;
  }
  sink += run(n / 4); /* warm up: the core's clock settles where it stays under vector load */
  for (int round = 0; round < 5; round++) { /* the best of five: a sibling thread may share the core */
    double t0 = now(), rate;
    sink += run(n);
    rate = 2.0 * lanes * CHAINS * n / (now() - t0);
    if (rate > best) best = rate;
  }
  printf("fp32_peak_gflop_s %.1f isa %s\n", best / 1e9, isa);
  if (fflush(stdout)) { /* a figure that never arrived must not read as success */
    fprintf(stderr, "bench_peak: error: cannot write the figure\n");
    return 1;
  }
  return 0;
}
