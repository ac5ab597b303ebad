/* A saved predictor (`cnndyn predict --save`) scored on a fixed run: the committed results seed,
   a real smoke run, so a well-formed predictor goes all the way through prediction. */
#include <stdlib.h>
#include "cnndyn/evaluate.h"
#include "cnndyn/results.h"
#include "fuzz.h"

static cdn_results_t *run;

static void load_run(void)
{
  static uint8_t buf[1 << 20];
  FILE          *fp = fopen(CDN_FUZZ_DIR "/corpus/results/smoke", "rb");
  size_t         n  = fp ? fread(buf, 1, sizeof buf, fp) : 0;

  if (!fp || n == sizeof buf || cdn_results_load(cdn_fuzz_files("models.csv", buf, n), &run)) {
    fprintf(stderr, "cnndyn fuzz: cannot load the run %s/corpus/results/smoke\n", CDN_FUZZ_DIR);
    abort();
  }
  fclose(fp);
}

int cdn_fuzz_predictor(const uint8_t *data, size_t size)
{
  cdn_predictor_info_t info;
  double              *pred;
  int                 *pc, *lc;
  char                 path[512];

  cdn_fuzz_init();
  if (!run) load_run();
  pred = malloc(run->nmodels * sizeof *pred), pc = malloc(run->nmodels * sizeof *pc), lc = malloc(run->nmodels * sizeof *lc);
  if (!pred || !pc || !lc) abort();
  snprintf(path, sizeof path, "%s/model.cdp", cdn_fuzz_file("model.cdp", data, size));
  cdn_fuzz_verdict(cdn_predictor_score(path, run, pred, pc, lc, &info));
  free(pred), free(pc), free(lc);
  return 0;
}
