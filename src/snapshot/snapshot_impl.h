#pragma once
/* Private to the snapshot module: .npy bytes in memory and the .npz (zip) archive (npz.c). */
#include <stdio.h>
#include "cnndyn/snapshot.h"

/* One file of a snapshot in memory: its name inside the epoch ("conv1.weight.npy") and bytes. */
typedef struct {
  char           name[CDN_NAME_LEN + 32];
  unsigned char *data; /* malloc'd */
  size_t         n;
} cdn_member_t;

/* .npy bytes of a tensor (malloc'd), and a tensor from .npy bytes (what names it in messages). */
PetscErrorCode cdn_npy_encode(const float *data, int ndim, const int *shape, unsigned char **buf, size_t *n);
PetscErrorCode cdn_npy_decode(const char *what, const unsigned char *buf, size_t n, float **data, int *ndim, int shape[4]);

/* Adds epoch's members to the archive npz as "epoch-EEE/NAME" (created if missing), dropping any
   members of this epoch or later ones, atomically. */
PetscErrorCode cdn_npz_put_epoch(const char *npz, int epoch, int n, const cdn_member_t *m);

typedef struct cdn_zip cdn_zip_t;
/* Opens a zip archive and reads its central directory into *z (allocated here; NULL after an error). */
PetscErrorCode cdn_zip_open(const char *path, cdn_zip_t **z);
int            cdn_zip_count(const cdn_zip_t *z);
const char    *cdn_zip_name(const cdn_zip_t *z, int i);
/* A member's bytes (malloc'd), inflated and checked against its size and CRC-32. */
PetscErrorCode cdn_zip_read(cdn_zip_t *z, const char *name, unsigned char **data, size_t *n);
/* Closes the file and frees *z; *z NULL afterwards (NULL is fine). */
PetscErrorCode cdn_zip_destroy(cdn_zip_t **z);
