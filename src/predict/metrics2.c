/* Rank and decision metrics: Spearman rho, AUC, regret, macro F1. Same conventions as metrics.c:
   only finite pairs count, NaN when undefined. */
#include <math.h>
#include <stdlib.h>
#include "cnndyn/predict.h"
#include "cnndyn/util.h"

typedef cdn_pair_t ranked_t;

/* Average ranks (1-based) of v[0..n) into r; ties share the mean of their positions. */
static void average_ranks(ranked_t *t, const double *v, int n, double *r)
{
  for (int i = 0; i < n; i++) t[i] = (ranked_t){v[i], i};
  qsort(t, (size_t)n, sizeof *t, cdn_pair_cmp);
  for (int i = 0, j; i < n; i = j) {
    for (j = i + 1; j < n && t[j].v == t[i].v; j++) {}
    for (int k = i; k < j; k++) r[t[k].i] = 0.5 * (i + j - 1) + 1;
  }
}

double cdn_spearman(const double *a, const double *b, int n)
{
  double   *fa = malloc(sizeof(double) * (size_t)(4 * (n > 0 ? n : 1))), *fb, *ra, *rb;
  ranked_t *t  = malloc(sizeof(ranked_t) * (size_t)(n > 0 ? n : 1));
  double    sa = 0, sb = 0, sab = 0, ma, mb, rho = NAN;
  int       m = 0;

  if (!fa || !t) goto done;
  fb = fa + n, ra = fb + n, rb = ra + n;
  for (int i = 0; i < n; i++)
    if (isfinite(a[i]) && isfinite(b[i])) fa[m] = a[i], fb[m] = b[i], m++;
  if (m < 2) goto done;
  average_ranks(t, fa, m, ra);
  average_ranks(t, fb, m, rb);
  ma = mb = 0.5 * (m + 1);
  for (int i = 0; i < m; i++) sa += (ra[i] - ma) * (ra[i] - ma), sb += (rb[i] - mb) * (rb[i] - mb), sab += (ra[i] - ma) * (rb[i] - mb);
  if (sa > 0 && sb > 0) rho = sab / sqrt(sa * sb);
done:
  free(fa);
  free(t);
  return rho;
}

double cdn_auc(const int *cls, const double *score, int n)
{
  double   *s = malloc(sizeof(double) * (size_t)(2 * (n > 0 ? n : 1))), *r, rsum = 0, auc = NAN;
  int      *c = malloc(sizeof(int) * (size_t)(n > 0 ? n : 1)), m = 0, pos = 0;
  ranked_t *t = malloc(sizeof(ranked_t) * (size_t)(n > 0 ? n : 1));

  if (!s || !c || !t) goto done;
  r = s + n;
  for (int i = 0; i < n; i++)
    if (isfinite(score[i]) && (cls[i] == 0 || cls[i] == 1)) s[m] = score[i], c[m] = cls[i], m++;
  for (int i = 0; i < m; i++) pos += c[i];
  if (pos == 0 || pos == m) goto done;
  average_ranks(t, s, m, r);
  for (int i = 0; i < m; i++)
    if (c[i]) rsum += r[i];
  auc = (rsum - 0.5 * pos * (pos + 1.0)) / ((double)pos * (m - pos));
done:
  free(s);
  free(c);
  free(t);
  return auc;
}

double cdn_regret(const double *y, const double *pred, int n, double frac)
{
  ranked_t *t;
  double    best = -INFINITY, kept = -INFINITY;
  int       top;

  if (n <= 0) return NAN;
  t = malloc(sizeof(ranked_t) * (size_t)n);
  if (!t) return NAN;
  /* descending prediction, non-finite last, ties by index: sort on the negated value */
  for (int i = 0; i < n; i++) t[i] = (ranked_t){isfinite(pred[i]) ? -pred[i] : INFINITY, i};
  qsort(t, (size_t)n, sizeof *t, cdn_pair_cmp);
  top = (int)ceil(frac * n - 1e-9);
  if (top < 1) top = 1;
  for (int i = 0; i < n; i++)
    if (isfinite(y[i])) best = fmax(best, y[i]);
  for (int i = 0; i < top; i++)
    if (isfinite(y[t[i].i])) kept = fmax(kept, y[t[i].i]);
  free(t);
  if (!isfinite(best)) return NAN;
  return isfinite(kept) ? best - kept : NAN;
}

double cdn_f1_macro(const int *truth, const int *pred, int n, int k)
{
  double sum = 0;
  int    used = 0;

  if (k <= 2) return cdn_f1(truth, pred, n);
  for (int c = 0; c < k; c++) {
    int tp = 0, fp = 0, fn = 0;
    for (int i = 0; i < n; i++) tp += truth[i] == c && pred[i] == c, fp += truth[i] != c && pred[i] == c, fn += truth[i] == c && pred[i] != c;
    if (tp + fp + fn == 0) continue;
    sum += 2.0 * tp / (2.0 * tp + fp + fn), used++;
  }
  return used ? sum / used : NAN;
}
