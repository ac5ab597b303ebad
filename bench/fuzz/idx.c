/* IDX images or labels (MNIST, Fashion-MNIST), raw or gzip-compressed. */
#include "cnndyn/data.h"
#include "fuzz.h"

int cdn_fuzz_idx(const uint8_t *data, size_t size)
{
  cdn_idx_t *idx = NULL;
  char      path[512];

  snprintf(path, sizeof path, "%s/images.idx", cdn_fuzz_file("images.idx", data, size));
  cdn_fuzz_verdict(cdn_idx_read(path, &idx));
  cdn_fuzz_verdict(cdn_idx_destroy(&idx));
  return 0;
}
