#pragma once
/* Image data sets: IDX files (MNIST, Fashion-MNIST; gzipped or raw), CIFAR-10 binary files, splits,
   batches and augmentation. */
#include <petscsys.h>
#include <stdint.h>
#include "cnndyn/jobspec.h"
#include "cnndyn/util.h"

typedef struct {
  int      n, c, h, w;
  uint8_t *pixels; /* n * c * h * w, NCHW */
  uint8_t *labels; /* n */
} cdn_images_t;

typedef struct {
  cdn_images_t train, val, test;
  int          num_classes;
  float        mean, std; /* pixel normalisation, from the training split */
} cdn_data_t;

/* One IDX file; dims[0] is the item count. */
typedef struct {
  int      ndims;
  int      dims[4];
  uint8_t *data;
} cdn_idx_t;

/* Allocates *idx and reads path into it; *idx is NULL after an error, with nothing held. */
PetscErrorCode cdn_idx_read(const char *path, cdn_idx_t **idx);
PetscErrorCode cdn_idx_destroy(cdn_idx_t **idx); /* frees it all; *idx NULL afterwards, NULL is fine */

/* The files a job's data set is read from, in a fixed order: the four IDX files (each the gzipped
   name when present, else the raw one; a missing one is CDN_ERR_OPEN) or CIFAR-10's six. */
#define CDN_DATA_MAX_FILES 6
#define CDN_DATA_PATH_LEN  (PETSC_MAX_PATH_LEN + 64)
PetscErrorCode cdn_data_files(const cdn_jobspec_t *spec, char (*paths)[CDN_DATA_PATH_LEN], int *n);
/* One line "CRC32 SIZE PATH" per data file (CRC-32 of the raw file bytes, as a snapshot's
   checksums.txt): a run records it when it starts, and a resumed run refuses data that changed. */
PetscErrorCode cdn_data_fingerprint(const cdn_jobspec_t *spec, char *text, size_t cap);

/* Collective on comm: rank 0 reads the files, carves validation from training (shuffled by the
   job's seed), applies the subset sizes, and broadcasts. *data is allocated here; after an error
   it is NULL on every rank, with nothing held. The three cdn_images_t are parts of it. */
PetscErrorCode cdn_data_load(MPI_Comm comm, const cdn_jobspec_t *spec, cdn_data_t **data);
PetscErrorCode cdn_data_destroy(cdn_data_t **data); /* frees it all; *data NULL afterwards, NULL is fine */

/* Copies items index[0..n) of set into x (n*c*h*w floats, normalised) and y. No allocation. */
void cdn_batch_fill(const cdn_data_t *data, const cdn_images_t *set, const int *index, int n, float *x,
                    int *y);

/* CIFAR-10 binary format: records of 1 label byte and 3 x 32 x 32 pixel bytes (red, green, blue
   planes), 10000 per file. Reads dir/data_batch_1.bin .. data_batch_5.bin (train) or
   dir/test_batch.bin into an IDX-shaped n x 3 x 32 x 32 image set and an n-label set, both
   allocated here (NULL after an error, nothing held; cdn_idx_destroy frees each). */
PetscErrorCode cdn_cifar_read(const char *dir, PetscBool train, cdn_idx_t **images, cdn_idx_t **labels);
/* The name of file f (0..4) of the training set, or of the test file, in dir. */
void           cdn_cifar_path(char *path, const char *dir, PetscBool train, int f);

/* In place on n normalised NCHW images: random crop with pad pixels of fill on every side, then a
   horizontal flip with probability 1/2 (three draws from rng per image). w <= CDN_AUGMENT_MAX_WIDTH. */
#define CDN_AUGMENT_MAX_WIDTH 256
void cdn_augment_crop_flip(float *x, int n, int c, int h, int w, int pad, float fill, cdn_rng_t *rng);
