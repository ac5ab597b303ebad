#pragma once
/* One features.csv column and what it measures, as features_columns.csv lists it (docs/formats.md,
   "Outputs"). cdn_column_make is the one place a column gets its name, and cdn_column_parse its
   one inverse, so no reader splits a name itself (ResNet layer names hold dots). */
#include <petscsys.h>

typedef struct {
  char name[64];       /* the column's header in features.csv */
  char statistic[16];  /* degree, eigenvector, pagerank, in_strength, out_strength, singular; weight or
                          bias for the weight-statistics baseline */
  char scope[8];       /* all, group (one layer's nodes), block (one edge block), tensor (one layer's) */
  char layer[64];      /* the node group, edge block or layer; empty for scope all */
  char aggregator[8];  /* mean, std, min, max, median, q25, q75, value; weights: mean, std, p0 .. p100 */
} cdn_column_t;

/* Fills c and names it: STAT.LAYER.AGG for a graph statistic, weights.LAYER.STAT.AGG for a weight
   statistic (STAT weight or bias), LAYER "all" for scope all. A name that does not fit is an error. */
PetscErrorCode cdn_column_make(cdn_column_t *c, const char *statistic, const char *scope, const char *layer,
                               const char *aggregator);
/* The column a features.csv header names, with the fields cdn_column_make would have been given:
   0, or -1 when name is not a column cnndyn writes (unknown statistic or aggregator, or a form
   that does not give the name back). */
int cdn_column_parse(const char *name, cdn_column_t *c);
/* A weight-statistics column (the baseline's input), not a graph one. */
int cdn_column_is_weight(const cdn_column_t *c);
