#pragma once
/* One features.csv column and what it measures, as features_columns.csv lists it (docs/formats.md,
   "Outputs"). The functions that name the columns fill these fields and build the name from them,
   so readers never need to split a name (ResNet layer names hold dots). */
typedef struct {
  char name[64];       /* the column's header in features.csv */
  char statistic[16];  /* degree, eigenvector, pagerank, in_strength, out_strength, singular; weight or
                          bias for the weight-statistics baseline */
  char scope[8];       /* all, group (one layer's nodes), block (one edge block), tensor (one layer's) */
  char layer[64];      /* the node group, edge block or layer; empty for scope all */
  char aggregator[8];  /* mean, std, min, max, median, q25, q75, value; weights: mean, std, p0 .. p100 */
} cdn_column_t;
