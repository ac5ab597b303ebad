/* How models are split for cross-validation and labelled for classification. */
#include <math.h>
#include <stdlib.h>
#include "cnndyn/util.h"
#include "predict_impl.h"

/* Stream of the fold shuffle, so it never shares random numbers with training from the same seed. */
#define FOLD_STREAM 0x666f6c6473ULL /* "folds" */

/* y > median is the same as y > lower median (s[ceil(m/2) - 1] of the sorted finite values), for
   even m too, since no label lies strictly between the two middle ones. That avoids averaging. */
PetscErrorCode cdn_median_classes_ex(const double *y, int n, int *cls)
{
  double *s;
  int     m = 0;

  PetscFunctionBeginUser;
  PetscCall(PetscMalloc1(n > 0 ? n : 1, &s));
  for (int i = 0; i < n; i++)
    if (isfinite(y[i])) s[m++] = y[i];
  cdn_sort_doubles(s, m);
  for (int i = 0; i < n; i++) cls[i] = m > 0 && isfinite(y[i]) && y[i] > s[(m + 1) / 2 - 1];
  PetscCall(PetscFree(s));
  PetscFunctionReturn(0);
}

void cdn_median_classes(const double *y, int n, int *cls)
{
  if (cdn_median_classes_ex(y, n, cls))
    for (int i = 0; i < n; i++) cls[i] = 0;
}

typedef struct {
  int group, first;
} seen_t;

static int by_group_then_first(const void *p, const void *q)
{
  const seen_t *a = p, *b = q;
  if (a->group != b->group) return a->group < b->group ? -1 : 1;
  return (a->first > b->first) - (a->first < b->first);
}

PetscErrorCode cdn_groups_in_order(int n, const int *group, int *ord, int *ng)
{
  seen_t *s;
  int    *first, g = 0;

  PetscFunctionBeginUser;
  PetscCall(PetscMalloc2(n > 0 ? n : 1, &s, n > 0 ? n : 1, &first));
  for (int i = 0; i < n; i++) s[i] = (seen_t){group ? group[i] : i, i};
  qsort(s, (size_t)n, sizeof *s, by_group_then_first);
  for (int i = 0, j; i < n; i = j) /* first[row] = first row of its group */
    for (j = i; j < n && s[j].group == s[i].group; j++) first[s[j].first] = s[i].first;
  for (int i = 0; i < n; i++) { /* number the first rows 0, 1, ... in row order */
    if (first[i] == i) ord[i] = g++;
    else ord[i] = ord[first[i]];
  }
  *ng = g;
  PetscCall(PetscFree2(s, first));
  PetscFunctionReturn(0);
}

/* Groups are numbered in order of first appearance (not by id), so the assignment depends only on
   the row order and the seed. */
PetscErrorCode cdn_folds_grouped_ex(int n, const int *group, int k, uint64_t seed, int *fold, int *k_used)
{
  int      *ord, *perm, *gfold, g;
  cdn_rng_t rng;

  PetscFunctionBeginUser;
  PetscCall(PetscMalloc3(n > 0 ? n : 1, &ord, n > 0 ? n : 1, &perm, n > 0 ? n : 1, &gfold));
  PetscCall(cdn_groups_in_order(n, group, ord, &g));
  for (int j = 0; j < g; j++) perm[j] = j;
  cdn_rng_seed(&rng, seed, FOLD_STREAM);
  cdn_rng_shuffle(&rng, perm, g);
  if (k < 1) k = 1;
  if (k > g) k = g; /* never an empty fold */
  /* perm[j] = ordinal of the group at shuffled position j; position j goes to fold j % k */
  for (int j = 0; j < g; j++) gfold[perm[j]] = k > 0 ? j % k : 0;
  for (int i = 0; i < n; i++) fold[i] = gfold[ord[i]];
  if (k_used) *k_used = k;
  PetscCall(PetscFree3(ord, perm, gfold));
  PetscFunctionReturn(0);
}

void cdn_folds_grouped(int n, const int *group, int k, uint64_t seed, int *fold)
{
  if (cdn_folds_grouped_ex(n, group, k, seed, fold, NULL))
    for (int i = 0; i < n; i++) fold[i] = -1;
}
