/* The decision a user actually makes with a predictor: which runs to stop early. Simulated on a
   finished population, where every model's full curve is known, so both policies are judged on
   the same models with the same final labels. */
#include <math.h>
#include <stdlib.h>
#include "cnndyn/evaluate.h"

typedef struct {
  double v;
  int    i;
} item_t;

/* descending value, non-finite last, ties by model id */
static int by_value_desc(const void *p, const void *q)
{
  const item_t *a = p, *b = q;
  double        x = isfinite(a->v) ? a->v : -INFINITY, y = isfinite(b->v) ? b->v : -INFINITY;
  if (x != y) return x > y ? -1 : 1;
  return a->i - b->i;
}

static double best_label(const double *label, int n)
{
  double b = -INFINITY;
  for (int i = 0; i < n; i++) b = fmax(b, label[i]);
  return b;
}

void cdn_early_stop(const cdn_results_t *res, const double *label, const double *pred, int k, double fraction,
                    cdn_early_stop_t *out)
{
  int     n = res->nmodels, E = res->epochs, keep;
  item_t *it = malloc(sizeof(item_t) * (size_t)(n > 0 ? n : 1));
  char   *alive = malloc((size_t)(n > 0 ? n : 1));
  double  full = (double)n * E, spent, kept, best = best_label(label, n);

  out->epochs_saved_prune = out->regret_prune = out->epochs_saved_halving = out->regret_halving = NAN;
  if (!it || !alive || n == 0 || k >= E) goto done;

  /* prune: everyone trains k epochs, the predicted best (1 - fraction) go on to E */
  for (int i = 0; i < n; i++) it[i] = (item_t){pred[i], i};
  qsort(it, (size_t)n, sizeof *it, by_value_desc);
  keep  = (int)ceil((1 - fraction) * n - 1e-9);
  keep  = keep < 1 ? 1 : keep;
  spent = (double)n * k + (double)keep * (E - k);
  kept  = -INFINITY;
  for (int i = 0; i < keep; i++) kept = fmax(kept, label[it[i].i]);
  out->epochs_saved_prune = 1 - spent / full;
  out->regret_prune       = best - kept;

  /* successive halving on validation accuracy: rungs at k, 2k, 4k, ... < E keep the better half */
  for (int i = 0; i < n; i++) alive[i] = 1;
  spent = 0;
  int alive_n = n, prev = 0;
  for (int r = k; r < E && alive_n > 1; r *= 2) {
    int m = 0;
    spent += (double)alive_n * (r - prev);
    prev = r;
    for (int i = 0; i < n; i++)
      if (alive[i]) it[m++] = (item_t){cdn_results_curve(res, i, r <= res->epochs_done[i] ? r : res->epochs_done[i])[CDN_CURVE_VAL_ACC], i};
    qsort(it, (size_t)m, sizeof *it, by_value_desc);
    for (int i = (m + 1) / 2; i < m; i++) alive[it[i].i] = 0;
    alive_n = (m + 1) / 2;
  }
  spent += (double)alive_n * (E - prev);
  kept = -INFINITY;
  for (int i = 0; i < n; i++)
    if (alive[i]) kept = fmax(kept, label[i]);
  out->epochs_saved_halving = 1 - spent / full;
  out->regret_halving       = best - kept;
done:
  free(it);
  free(alive);
}
