#pragma once
/* Snapshots: a folder with one NumPy .npy file per parameter tensor ("conv1.weight.npy", float32,
   little endian, C order, PyTorch layout) and model.json describing the whole layer stack, so that
   numpy and PyTorch can load them, and checksums.txt with every file's CRC-32. Written into a
   temporary folder, then renamed. */
#include <petscsys.h>
#include "cnndyn/model.h"

/* Creates dir's parent if needed; an existing dir is an error (CDN_ERR_WRITE), never replaced. */
/* A layer type's name in model.json ("conv2d", "batchnorm", ...) and back (-1 if unknown). */
const char *cdn_op_name(cdn_op_t op);
int         cdn_op_from_name(const char *name);

/* How a snapshot is stored ([output] snapshot_format): NPY, the folder dir; NPZ, dir =
   MODEL/epoch-EEE goes into MODEL.npz as members epoch-EEE/NAME (the folder's file names; no
   checksums.txt, zip keeps a CRC-32 per member), the archive rewritten atomically per epoch,
   members of that epoch or later ones replaced (a resumed run writes them again). */
typedef enum { CDN_SNAPSHOT_NPY, CDN_SNAPSHOT_NPZ } cdn_snapshot_format_t;
PetscErrorCode cdn_snapshot_write_as(const char *dir, const cdn_model_desc_t *desc, cdn_snapshot_format_t format);
PetscErrorCode cdn_snapshot_write(const char *dir, const cdn_model_desc_t *desc); /* as NPY */
/* Reads a snapshot into a desc allocated here, with its weight and bias arrays: a folder, or
   MODEL.npz/epoch-EEE for an epoch inside an .npz. A missing or corrupt file (one whose checksum
   differs from checksums.txt included) gives CDN_ERR_OPEN or CDN_ERR_CORRUPT naming the file; *desc
   is then NULL, with nothing held. */
PetscErrorCode cdn_snapshot_read(const char *dir, cdn_model_desc_t **desc);
/* Frees a desc cdn_snapshot_read returned (its arrays and itself; not a net's desc); *desc is NULL
   afterwards (NULL is fine). */
PetscErrorCode cdn_snapshot_destroy(cdn_model_desc_t **desc);
/* The epochs a model's snapshots hold, ascending (*epochs malloc'd: free()): the epoch-EEE
   folders of folder model, or the epochs with a model.json inside model.npz. */
PetscErrorCode cdn_snapshot_epochs(const char *model, int **epochs, int *n);

/* dir/checksums.txt: "CRC32 SIZE NAME" per file (checksums.c). Written over every other file of
   dir; verify checks each listed file (CDN_ERR_CORRUPT naming a damaged one) and passes a folder
   without checksums.txt (written by another tool) unchecked. */
#define CDN_SNAPSHOT_SUMS "checksums.txt"
PetscErrorCode cdn_snapshot_sums_write(const char *dir);
PetscErrorCode cdn_snapshot_verify(const char *dir);

/* .npy helpers, also used by tests. shape has ndim entries (1..4). Writing is atomic. Reading
   accepts versions 1.0 and 2.0, '<f4' in C order only, and rejects truncated files or trailing
   bytes; *data comes from PetscMalloc1: release it with PetscFree. */
PetscErrorCode cdn_npy_write(const char *path, const float *data, int ndim, const int *shape);
PetscErrorCode cdn_npy_read(const char *path, float **data, int *ndim, int shape[4]);
