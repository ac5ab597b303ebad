/* The table a user reads at the end of a run: is the graph method worth it against the baseline? */
#include <math.h>
#include "cnndyn/report.h"

static void cell(FILE *fp, double v)
{
  if (isnan(v)) fprintf(fp, " %8s", "-");
  else fprintf(fp, " %8.3f", v);
}

void cdn_report_print_summary(FILE *fp, const cdn_results_t *res, const cdn_evaluation_t *ev)
{
  int diverged = 0;
  for (int m = 0; m < res->nmodels; m++) diverged += res->status[m] == CDN_STATUS_DIVERGED;
  fprintf(fp, "\n%d models, %d epochs each, %d diverged. Label: final test accuracy; classes: above/below median.\n\n",
          res->nmodels, res->epochs, diverged);
  fprintf(fp, "%-12s %6s %8s %8s %8s %8s %8s  %s\n", "method", "epochs", "tau", "R^2", "MAE", "acc", "majority",
          "input");
  for (int i = 0; i < ev->nmethods; i++) {
    const cdn_method_result_t *mr = &ev->method[i];
    fprintf(fp, "%-12s %6d", mr->name, mr->budget);
    cell(fp, mr->metrics.tau);
    cell(fp, mr->metrics.r2);
    cell(fp, mr->metrics.mae);
    cell(fp, mr->metrics.accuracy);
    cell(fp, mr->metrics.majority);
    fprintf(fp, "  %s\n", mr->input);
  }
  fputc('\n', fp);
}
