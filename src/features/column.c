/* Column names and their one inverse (include/cnndyn/column.h). */
#include <string.h>
#include "cnndyn/column.h"
#include "cnndyn/features.h"
#include "cnndyn/stats.h"

static int is_weight_stat(const char *s) { return !strcmp(s, "weight") || !strcmp(s, "bias"); }
int        cdn_column_is_weight(const cdn_column_t *c) { return is_weight_stat(c->statistic); }

/* The name of a column with these fields (the length snprintf wanted). */
static int name_of(char *name, size_t n, const char *statistic, const char *layer, const char *aggregator)
{
  const char *where = layer[0] ? layer : "all";
  if (is_weight_stat(statistic)) return snprintf(name, n, "weights.%s.%s.%s", where, statistic, aggregator);
  return snprintf(name, n, "%s.%s.%s", statistic, where, aggregator);
}

PetscErrorCode cdn_column_make(cdn_column_t *c, const char *statistic, const char *scope, const char *layer,
                               const char *aggregator)
{
  int len;

  PetscFunctionBeginUser;
  len = name_of(c->name, sizeof c->name, statistic, layer, aggregator);
  PetscCheck(len < (int)sizeof c->name && strlen(statistic) < sizeof c->statistic && strlen(scope) < sizeof c->scope &&
               strlen(layer) < sizeof c->layer && strlen(aggregator) < sizeof c->aggregator,
             PETSC_COMM_SELF, PETSC_ERR_ARG_SIZ, "feature column name too long: %s", c->name);
  snprintf(c->statistic, sizeof c->statistic, "%s", statistic);
  snprintf(c->scope, sizeof c->scope, "%s", scope);
  snprintf(c->layer, sizeof c->layer, "%s", layer);
  snprintf(c->aggregator, sizeof c->aggregator, "%s", aggregator);
  PetscFunctionReturn(0);
}

/* The aggregator fits the statistic: a node statistic's aggregates; a layer statistic's aggregates
   over scope all and "value" per block; one "value" for the others; a weight statistic's seven. */
static int fits(const char *stat, const char *agg, int all)
{
  int s = cdn_stat_from_name(stat), a = cdn_agg_from_name(agg);
  if (is_weight_stat(stat)) {
    for (int i = 0; i < CDN_WEIGHT_STATS_PER_TENSOR; i++)
      if (!strcmp(agg, cdn_weight_stat_name(i))) return 1;
    return 0;
  }
  if (s < 0) return 0;
  switch (cdn_stat_kind((cdn_stat_t)s)) {
  case CDN_STAT_KIND_NODE: return a >= 0;
  case CDN_STAT_KIND_LAYER: return all ? a >= 0 : !strcmp(agg, "value");
  case CDN_STAT_KIND_SCOPE: return !strcmp(agg, "value");
  case CDN_STAT_KIND_GRAPH: return all && !strcmp(agg, "value");
  }
  return 0;
}

int cdn_column_parse(const char *name, cdn_column_t *c)
{
  const char *first = strchr(name, '.'), *last = strrchr(name, '.'), *mid = NULL;
  char        stat[64], layer[64], agg[64];
  const char *scope;
  size_t      n = strlen(name);

  if (!first || last <= first + 1 || n >= sizeof c->name || (size_t)(last - first) > sizeof layer) return -1;
  snprintf(agg, sizeof agg, "%s", last + 1);
  if (!strncmp(name, "weights.", 8)) { /* weights.LAYER.STAT.AGG: STAT is the part before AGG */
    const char *p = last - 1;
    while (p > first && *p != '.') p--;
    if (p <= first + 1) return -1;
    snprintf(stat, sizeof stat, "%.*s", (int)(last - p - 1), p + 1);
    mid = first + 1, snprintf(layer, sizeof layer, "%.*s", (int)(p - mid), mid);
  } else {
    if ((size_t)(first - name) >= sizeof stat) return -1;
    snprintf(stat, sizeof stat, "%.*s", (int)(first - name), name);
    mid = first + 1, snprintf(layer, sizeof layer, "%.*s", (int)(last - mid), mid);
  }
  if (!strcmp(layer, "all")) layer[0] = 0;
  if (!fits(stat, agg, !layer[0])) return -1;
  { /* the fields must name the column back: weights.L.degree.A or weight.L.A are no names of ours */
    char again[sizeof c->name];
    if (name_of(again, sizeof again, stat, layer, agg) >= (int)sizeof again || strcmp(again, name)) return -1;
  }
  if (!layer[0]) scope = "all";
  else if (is_weight_stat(stat)) scope = "tensor";
  else scope = cdn_stat_kind((cdn_stat_t)cdn_stat_from_name(stat)) == CDN_STAT_KIND_LAYER ? "block" : "group";
  if (strlen(stat) >= sizeof c->statistic || strlen(agg) >= sizeof c->aggregator) return -1;
  snprintf(c->statistic, sizeof c->statistic, "%s", stat);
  snprintf(c->scope, sizeof c->scope, "%s", scope);
  snprintf(c->layer, sizeof c->layer, "%s", layer);
  snprintf(c->aggregator, sizeof c->aggregator, "%s", agg);
  snprintf(c->name, sizeof c->name, "%s", name);
  return 0;
}
