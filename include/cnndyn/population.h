#pragma once
/* The population: model id -> configuration, a pure function of (job spec, model id).
   Model ids run grid point (slowest), then sample, then replicate (fastest); the replicates of one
   configuration share every hyperparameter and differ in seed only. Grid points run architecture
   (slowest), then the list axes in cdn_hparam_t order (the last fastest). */
#include <stdint.h>
#include "cnndyn/jobspec.h"

typedef struct {
  int      id;
  int      config_id; /* replicates of a configuration share it (cross-validation groups by it) */
  int      replicate;
  char     arch[CDN_ARCH_LEN]; /* the architecture family, e.g. "lenet5" */
  double   hp[CDN_HP_COUNT];   /* batch size and depth stored as whole numbers */
  uint64_t seed;             /* the model's own seed: initialisation, data order, dropout */
} cdn_model_config_t;

/* Number of models: architectures x (product of list-axis lengths) x samples x replicates. A parsed spec never
   exceeds CDN_MAX_MODELS; for a hand-built spec beyond it (or with an empty axis) this returns -1. */
int  cdn_population_size(const cdn_jobspec_t *spec);
/* Distribution axes are drawn from a stream seeded by (spec seed, config id), in cdn_hparam_t
   order; the model seed is cdn_hash64(spec seed, model id). A model_id outside [0, size) gives
   cfg->id = -1 and zeroed fields. */
void cdn_population_config(const cdn_jobspec_t *spec, int model_id, cdn_model_config_t *cfg);
/* Number of configurations (size / replicates): the groups cross-validation keeps together. */
int  cdn_population_configs(const cdn_jobspec_t *spec);
