/* Model id -> configuration, as a pure function of (spec, id): any rank, any order, any restart
   computes the same population, so nothing about it has to be communicated or checkpointed. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "cnndyn/population.h"
#include "cnndyn/util.h"

/* Separates the hyperparameter stream of a configuration from every other use of (seed, id). */
#define HPARAM_STREAM 0x68706172616d73ULL /* "hparams" */

static int is_list(const cdn_axis_t *a) { return a->kind == CDN_AXIS_LIST; }

/* Grid points: architectures times the list axes' lengths (distribution axes add no grid points). */
static long long grid_size(const cdn_jobspec_t *spec)
{
  long long g = spec->narchs;
  if (g < 1 || g > CDN_MAX_ARCHS) return -1;
  for (int h = 0; h < CDN_HP_COUNT; h++) {
    if (!is_list(&spec->axis[h])) continue;
    if (spec->axis[h].n < 1 || spec->axis[h].n > CDN_MAX_AXIS_VALUES) return -1;
    g *= spec->axis[h].n;
    if (g > CDN_MAX_MODELS) return -1;
  }
  return g;
}

int cdn_population_size(const cdn_jobspec_t *spec)
{
  long long g = grid_size(spec), n;
  if (g < 0 || spec->samples < 1 || spec->replicates < 1) return -1;
  n = g * spec->samples;
  if (n > CDN_MAX_MODELS) return -1;
  n *= spec->replicates;
  return n > CDN_MAX_MODELS ? -1 : (int)n;
}

int cdn_population_configs(const cdn_jobspec_t *spec)
{
  int n = cdn_population_size(spec);
  return n < 0 ? -1 : n / spec->replicates;
}

static double draw(const cdn_axis_t *a, cdn_rng_t *rng)
{
  double u = cdn_rng_uniform(rng), x;
  if (a->kind == CDN_AXIS_UNIFORM) x = a->v[0] + u * (a->v[1] - a->v[0]);
  else x = exp(log(a->v[0]) + u * (log(a->v[1]) - log(a->v[0])));
  /* rounding in exp() may step just outside [low, high]; the spec promised the range */
  return x < a->v[0] ? a->v[0] : x > a->v[1] ? a->v[1] : x;
}

void cdn_population_config(const cdn_jobspec_t *spec, int model_id, cdn_model_config_t *cfg)
{
  int       size = cdn_population_size(spec), grid, rest;
  cdn_rng_t rng;

  memset(cfg, 0, sizeof *cfg);
  cfg->id = -1;
  if (size < 0 || model_id < 0 || model_id >= size) return;
  cfg->id        = model_id;
  cfg->config_id = model_id / spec->replicates;
  cfg->replicate = model_id % spec->replicates;
  grid           = cfg->config_id / spec->samples;
  /* row-major over architecture, then the list axes in cdn_hparam_t order: the last varies fastest */
  rest = grid;
  for (int h = CDN_HP_COUNT - 1; h >= 0; h--) {
    const cdn_axis_t *a = &spec->axis[h];
    if (!is_list(a)) continue;
    cfg->hp[h] = a->v[rest % a->n];
    rest /= a->n;
  }
  snprintf(cfg->arch, sizeof cfg->arch, "%s", spec->archs[rest]);
  /* seeded by the configuration, not the model, so replicates share every hyperparameter */
  cdn_rng_seed(&rng, spec->seed, cdn_hash64((uint64_t)cfg->config_id, HPARAM_STREAM));
  for (int h = 0; h < CDN_HP_COUNT; h++)
    if (!is_list(&spec->axis[h])) cfg->hp[h] = draw(&spec->axis[h], &rng);
  cfg->seed = cdn_hash64(spec->seed, (uint64_t)model_id);
}
