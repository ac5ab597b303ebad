#pragma once
/* Image data sets: IDX files (MNIST, Fashion-MNIST; gzipped or raw), splits and batches. */
#include <petscsys.h>
#include <stdint.h>
#include "cnndyn/jobspec.h"

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

/* One IDX file; dims[0] is the item count. data is malloc'd. */
typedef struct {
  int      ndims;
  int      dims[4];
  uint8_t *data;
} cdn_idx_t;

PetscErrorCode cdn_idx_read(const char *path, cdn_idx_t *idx);
void           cdn_idx_free(cdn_idx_t *idx);

/* Collective on comm: rank 0 reads the files, carves validation from training (shuffled by the
   job's seed), applies the subset sizes, and broadcasts. */
PetscErrorCode cdn_data_load(MPI_Comm comm, const cdn_jobspec_t *spec, cdn_data_t *data);
void           cdn_data_free(cdn_data_t *data);

/* Copies items index[0..n) of set into x (n*c*h*w floats, normalised) and y. No allocation. */
void cdn_batch_fill(const cdn_data_t *data, const cdn_images_t *set, const int *index, int n, float *x,
                    int *y);
