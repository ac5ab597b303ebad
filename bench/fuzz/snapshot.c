/* Snapshot folder: model.json first, then its .npy tensors, each after a line "=== NAME.npy". */
#include "cnndyn/snapshot.h"
#include "fuzz.h"

int cdn_fuzz_snapshot(const uint8_t *data, size_t size)
{
  cdn_model_desc_t *desc;
  PetscErrorCode    ierr = cdn_snapshot_read(cdn_fuzz_files("model.json", data, size), &desc);

  cdn_fuzz_verdict(ierr);
  if (!ierr) cdn_fuzz_verdict(cdn_snapshot_destroy(&desc));
  return 0;
}
