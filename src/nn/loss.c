/* Softmax cross-entropy, mean over the batch, computed in double with the max subtracted so large
   finite logits stay finite; infinite or NaN logits give a NaN/Inf loss, which callers treat as
   divergence. */
#include <math.h>
#include "cnndyn/nn.h"

double cdn_softmax_xent(float *dlogits, int *correct, const float *logits, const int *y, int B, int K)
{
  double total = 0;
  int    hits  = 0;
  for (int i = 0; i < B; i++) {
    const float *z    = logits + (size_t)i * K;
    int          best = 0;
    double       m    = z[0], s = 0;
    for (int k = 1; k < K; k++)
      if (z[k] > z[best]) best = k;
    m = z[best];
    for (int k = 0; k < K; k++) s += exp((double)z[k] - m);
    total += log(s) - ((double)z[y[i]] - m);
    hits += best == y[i];
    if (dlogits)
      for (int k = 0; k < K; k++) dlogits[(size_t)i * K + k] = (float)((exp((double)z[k] - m) / s - (k == y[i])) / B);
  }
  if (correct) *correct = hits;
  return B ? total / B : 0;
}
