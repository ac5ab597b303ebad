/* libFuzzer's entry points for the target CDN_FUZZ_TARGET (a cdn_fuzz_NAME of fuzz.h). */
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
  cdn_fuzz_init();
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { return CDN_FUZZ_TARGET(data, size); }
