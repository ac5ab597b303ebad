/* CIFAR-10 binary folder: test_batch.bin first; "=== data_batch_N.bin" lines add training files. */
#include "cnndyn/data.h"
#include "fuzz.h"

int cdn_fuzz_cifar(const uint8_t *data, size_t size)
{
  const char *dir = cdn_fuzz_files("test_batch.bin", data, size);
  cdn_idx_t  *img, *lab;

  for (int train = 0; train < 2; train++) {
    cdn_fuzz_verdict(cdn_cifar_read(dir, train ? PETSC_TRUE : PETSC_FALSE, &img, &lab));
    cdn_fuzz_verdict(cdn_idx_destroy(&img));
    cdn_fuzz_verdict(cdn_idx_destroy(&lab));
  }
  return 0;
}
