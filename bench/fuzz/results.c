/* A finished run's folder as `cnndyn predict` reads it: models.csv first, then
   "=== curves.csv" and "=== features.csv". */
#include "cnndyn/results.h"
#include "fuzz.h"

int cdn_fuzz_results(const uint8_t *data, size_t size)
{
  cdn_results_t *res = NULL;

  cdn_fuzz_verdict(cdn_results_load(cdn_fuzz_files("models.csv", data, size), &res));
  cdn_fuzz_verdict(cdn_results_destroy(&res));
  return 0;
}
