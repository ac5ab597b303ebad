/* xoshiro256** (Blackman and Vigna), seeded through splitmix64. Every random number in cnndyn comes
   from a state seeded by (job seed, model id, purpose), so results never depend on rank count. */
#include <math.h>
#include "cnndyn/util.h"

static uint64_t splitmix64(uint64_t *x)
{
  uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
  z          = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z          = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t cdn_hash64(uint64_t a, uint64_t b)
{
  uint64_t x = a ^ rotl(b, 32) ^ 0x6a09e667f3bcc909ULL;
  (void)splitmix64(&x);
  x ^= b;
  return splitmix64(&x);
}

void cdn_rng_seed(cdn_rng_t *rng, uint64_t seed, uint64_t stream)
{
  uint64_t x = cdn_hash64(seed, stream);
  for (int i = 0; i < 4; i++) rng->s[i] = splitmix64(&x);
}

uint64_t cdn_rng_u64(cdn_rng_t *rng)
{
  uint64_t *s      = rng->s;
  uint64_t  result = rotl(s[1] * 5, 7) * 9;
  uint64_t  t      = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return result;
}

double cdn_rng_uniform(cdn_rng_t *rng) { return (double)(cdn_rng_u64(rng) >> 11) * 0x1.0p-53; }

double cdn_rng_normal(cdn_rng_t *rng)
{
  double u1 = 1.0 - cdn_rng_uniform(rng); /* (0, 1]: log stays finite */
  double u2 = cdn_rng_uniform(rng);
  return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

uint64_t cdn_rng_below(cdn_rng_t *rng, uint64_t n)
{
  uint64_t limit = UINT64_MAX - UINT64_MAX % n; /* reject the tail so every residue is equally likely */
  uint64_t x;
  do x = cdn_rng_u64(rng);
  while (x >= limit);
  return x % n;
}

void cdn_rng_shuffle(cdn_rng_t *rng, int *a, int n)
{
  for (int i = n - 1; i > 0; i--) {
    int j = (int)cdn_rng_below(rng, (uint64_t)i + 1);
    int t = a[i];
    a[i]  = a[j];
    a[j]  = t;
  }
}
