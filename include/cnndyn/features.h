#pragma once
/* Temporal summaries: a model's per-epoch feature rows over the first k epochs, as one vector. */

/* Width of the summary of nfeat features over epochs 0..k: the k+1 rows, then (if differences)
   the k differences row(e) - row(e-1). */
int  cdn_summary_width(int nfeat, int k, int differences);
/* rows: (k+1) x nfeat, epochs 0..k. out: cdn_summary_width values. */
void cdn_summary_build(const double *rows, int nfeat, int k, int differences, double *out);
