/* A model's snapshots as one .npz ([output] snapshot_format = npz): the zip container (end record,
   central directory, local headers, stored and deflated members) and the model.json and .npy
   members inside, the way `cnndyn graph` and `stats` read them: the epochs listed, then each
   read (the first few). A readable epoch is then written back as a later one, which copies every
   earlier member's compressed bytes out of the input archive (what a resumed run does). */
#include <stdio.h>
#include <stdlib.h>
#include "cnndyn/snapshot.h"
#include "fuzz.h"

#define MAX_EPOCHS 4 /* enough to reach every member of a small input; bounded time per input */

int cdn_fuzz_npz(const uint8_t *data, size_t size)
{
  static cdn_model_desc_t desc; /* large: not on the stack */
  char                    model[512], dir[560];
  int                    *epochs = NULL, n = 0, written = 0;
  PetscErrorCode          ierr;

  snprintf(model, sizeof model, "%s/model.npz", cdn_fuzz_file("model.npz", data, size));
  ierr = cdn_snapshot_epochs(model, &epochs, &n);
  cdn_fuzz_verdict(ierr);
  for (int i = 0; !ierr && i < n && i < MAX_EPOCHS; i++) {
    PetscErrorCode e;
    snprintf(dir, sizeof dir, "%s/epoch-%03d", model, epochs[i]);
    e = cdn_snapshot_read(dir, &desc);
    cdn_fuzz_verdict(e);
    if (e) continue;
    if (!written && epochs[n - 1] < 999) {
      snprintf(dir, sizeof dir, "%s/epoch-%03d", model, epochs[n - 1] + 1);
      cdn_fuzz_verdict(cdn_snapshot_write_as(dir, &desc, CDN_SNAPSHOT_NPZ));
      written = 1;
    }
    cdn_fuzz_verdict(cdn_snapshot_destroy(&desc));
  }
  free(epochs);
  return 0;
}
