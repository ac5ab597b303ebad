/* A model's snapshots as one .npz ([output] snapshot_format = npz): the zip container (end record,
   central directory, local headers, stored and deflated members) and the model.json and .npy
   members inside, the way `cnndyn graph` and `stats` read them: the epochs listed, then each
   read (the first few). A readable epoch is then written back as a later one, which copies every
   earlier member's compressed bytes out of the input archive (what a resumed run does). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include "cnndyn/snapshot.h"
#include "fuzz.h"

#define MAX_EPOCHS 4 /* enough to reach every member of a small input; bounded time per input */

static uint32_t get(const uint8_t *b, int n)
{
  uint32_t v = 0;
  for (int k = n - 1; k >= 0; k--) v = v << 8 | b[k];
  return v;
}

static void put32(uint8_t *b, uint32_t v)
{
  for (int k = 0; k < 4; k++) b[k] = (uint8_t)(v >> (8 * k));
}

/* Every stored member's CRC-32 made right, in its central and local headers (where the input's
   structure lets it be found): a mutated member then fails no checksum, and mutations reach
   model.json and the .npy headers inside, not only the container. The reader is unchanged; only
   an end record without a comment is looked for. */
static void fix_crcs(uint8_t *d, size_t size)
{
  size_t end = size - 22, cd, p;

  if (size < 22 || get(d + end, 4) != 0x06054b50u) return;
  cd = get(d + end + 16, 4), p = cd;
  for (uint32_t i = 0, n = get(d + end + 10, 2); i < n && p + 46 <= end && get(d + p, 4) == 0x02014b50u; i++) {
    size_t off = get(d + p + 42, 4), len = get(d + p + 20, 4), data;
    if (get(d + p + 10, 2) == 0 && off + 30 <= cd && get(d + off, 4) == 0x04034b50u &&
        (data = off + 30 + get(d + off + 26, 2) + get(d + off + 28, 2)) + len <= cd) {
      uint32_t crc = (uint32_t)crc32(0L, d + data, (uInt)len);
      put32(d + p + 16, crc), put32(d + off + 14, crc);
    }
    p += 46 + get(d + p + 28, 2) + get(d + p + 30, 2) + get(d + p + 32, 2);
  }
}

int cdn_fuzz_npz(const uint8_t *data, size_t size)
{
  cdn_model_desc_t       *desc;
  char                    model[512], dir[560];
  int                    *epochs = NULL, n = 0, written = 0;
  uint8_t                *copy = malloc(size + 1);
  PetscErrorCode          ierr;

  if (!copy) abort();
  memcpy(copy, data, size);
  fix_crcs(copy, size);
  snprintf(model, sizeof model, "%s/model.npz", cdn_fuzz_file("model.npz", copy, size));
  free(copy);
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
      cdn_fuzz_verdict(cdn_snapshot_write_as(dir, desc, CDN_SNAPSHOT_NPZ));
      written = 1;
    }
    cdn_fuzz_verdict(cdn_snapshot_destroy(&desc));
  }
  free(epochs);
  return 0;
}
