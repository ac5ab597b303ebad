/* The RNG gives the same stream for the same (seed, stream), different ones otherwise, and
   sensible moments. */
#include "check.h"
#include "cnndyn/util.h"

int main(void)
{
  cdn_rng_t a, b, c;
  cdn_rng_seed(&a, 42, 7);
  cdn_rng_seed(&b, 42, 7);
  cdn_rng_seed(&c, 42, 8);
  int same = 1, differ = 0;
  for (int i = 0; i < 100; i++) {
    uint64_t x = cdn_rng_u64(&a), y = cdn_rng_u64(&b), z = cdn_rng_u64(&c);
    same &= x == y;
    differ |= x != z;
  }
  CHECK(same);
  CHECK(differ);

  double s = 0, s2 = 0, u = 0;
  int    n = 200000, counts[5] = {0};
  for (int i = 0; i < n; i++) {
    double g = cdn_rng_normal(&a);
    s += g;
    s2 += g * g;
    u += cdn_rng_uniform(&a);
    counts[cdn_rng_below(&a, 5)]++;
  }
  CHECK(fabs(s / n) < 0.01);
  CHECK(fabs(s2 / n - 1.0) < 0.02);
  CHECK(fabs(u / n - 0.5) < 0.005);
  for (int k = 0; k < 5; k++) CHECK(fabs(counts[k] / (double)n - 0.2) < 0.01);

  int p[10];
  for (int i = 0; i < 10; i++) p[i] = i;
  cdn_rng_shuffle(&a, p, 10);
  int seen = 0;
  for (int i = 0; i < 10; i++) seen |= 1 << p[i];
  CHECK(seen == 0x3ff);
  return CHECK_STATUS();
}
