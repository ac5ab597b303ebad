/* The bootstrap over configurations, one resample at a time (predict_impl.h, cdn_resampler_t). */
#include "predict_impl.h"

#define BOOT_STREAM 0x626f6f74ull /* "boot" */

PetscErrorCode cdn_resampler_create(uint64_t seed, int s, int ns, const int *config, cdn_resampler_t **out)
{
  cdn_resampler_t *rs;
  PetscErrorCode   ierr;

  PetscFunctionBeginUser;
  *out = NULL;
  PetscCall(PetscCalloc1(1, &rs));
  rs->ns = ns, rs->seed = cdn_hash64(seed, BOOT_STREAM), rs->stream = (uint64_t)s;
  ierr = PetscMalloc2(ns + 1, &rs->ord, ns + 1, &rs->cnt);
  if (!ierr) ierr = cdn_groups_in_order(ns, config, rs->ord, &rs->ng);
  if (ierr) {
    PetscCall(cdn_resampler_destroy(&rs));
    PetscCall(ierr);
  }
  cdn_resampler_restart(rs);
  *out = rs;
  PetscFunctionReturn(0);
}

void cdn_resampler_restart(cdn_resampler_t *rs) { cdn_rng_seed(&rs->rng, rs->seed, rs->stream); }

/* A resample draws ng configurations, so its weights sum to ng models' worth of configurations. */
void cdn_resampler_next(cdn_resampler_t *rs, double *w)
{
  for (int g = 0; g < rs->ng; g++) rs->cnt[g] = 0;
  for (int g = 0; g < rs->ng; g++) rs->cnt[cdn_rng_below(&rs->rng, (uint64_t)rs->ng)]++;
  for (int i = 0; i < rs->ns; i++) w[i] = rs->cnt[rs->ord[i]];
}

PetscErrorCode cdn_resampler_destroy(cdn_resampler_t **rs)
{
  PetscFunctionBeginUser;
  if (!rs || !*rs) PetscFunctionReturn(0);
  PetscCall(PetscFree2((*rs)->ord, (*rs)->cnt));
  PetscCall(PetscFree(*rs));
  PetscFunctionReturn(0);
}
