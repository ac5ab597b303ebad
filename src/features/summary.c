/* Temporal summary: the feature rows of epochs 0..k side by side, then their epoch-to-epoch
   differences, which the reference study found useful from k = 3 on. */
#include "cnndyn/features.h"

int cdn_summary_width(int nfeat, int k, int differences) { return nfeat * (k + 1) + (differences ? nfeat * k : 0); }

void cdn_summary_build(const double *rows, int nfeat, int k, int differences, double *out)
{
  int w = 0;
  for (int e = 0; e <= k; e++)
    for (int f = 0; f < nfeat; f++) out[w++] = rows[e * nfeat + f];
  if (!differences) return;
  for (int e = 1; e <= k; e++)
    for (int f = 0; f < nfeat; f++) out[w++] = rows[e * nfeat + f] - rows[(e - 1) * nfeat + f];
}
