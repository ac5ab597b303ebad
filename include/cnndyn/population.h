#pragma once
/* The population: model id -> configuration, a pure function of (job spec, model id).
   Model ids run grid point (slowest), then sample, then replicate (fastest); the replicates of one
   configuration share every hyperparameter and differ in seed only. */
#include <stdint.h>
#include "cnndyn/jobspec.h"

typedef struct {
  int      id;
  int      config_id; /* replicates of a configuration share it (cross-validation groups by it) */
  int      replicate;
  double   hp[CDN_HP_COUNT]; /* batch size stored as a whole number */
  uint64_t seed;             /* the model's own seed: initialisation, data order, dropout */
} cdn_model_config_t;

int  cdn_population_size(const cdn_jobspec_t *spec);
void cdn_population_config(const cdn_jobspec_t *spec, int model_id, cdn_model_config_t *cfg);
