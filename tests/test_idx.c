/* IDX reading: a good gzipped file and a good raw one read back exactly; a truncated file, a wrong
   magic and a missing file fail with the right code and a message naming the path. Then a whole
   data set in a temporary folder: split sizes, disjoint train/validation, normalisation, and a
   clear error when the sizes do not fit. */
#include <stdlib.h>
#include <unistd.h>
#include <zlib.h>
#include "check.h"
#include "cnndyn/data.h"
#include "cnndyn/util.h"

static char dir[64];

/* An IDX file with the given header bytes, dims and payload; gz or raw; payload may be cut short. */
static void write_idx(const char *name, int gz, uint8_t b2, int ndims, const int *dims, const uint8_t *data,
                      size_t n)
{
  char    path[256];
  uint8_t head[4 + 16] = {0, 0, b2, (uint8_t)ndims};
  for (int d = 0; d < ndims; d++)
    for (int k = 0; k < 4; k++) head[4 + 4 * d + k] = (uint8_t)(dims[d] >> (24 - 8 * k));
  snprintf(path, sizeof path, "%s/%s", dir, name);
  if (gz) {
    gzFile f = gzopen(path, "wb");
    gzwrite(f, head, 4 + 4 * ndims);
    if (n) gzwrite(f, data, (unsigned)n);
    gzclose(f);
  } else {
    FILE *f = fopen(path, "wb");
    fwrite(head, 1, 4 + 4 * ndims, f);
    fwrite(data, 1, n, f);
    fclose(f);
  }
}

static void expect_error(const char *name, PetscErrorCode code)
{
  char      path[256];
  cdn_idx_t *idx = NULL;
  snprintf(path, sizeof path, "%s/%s", dir, name);
  PetscErrorCode ierr = cdn_idx_read(path, &idx);
  CHECK(ierr == code);
  CHECK_CONTAINS(cdn_error_message(), path);
  CHECK(idx == NULL); /* nothing held after an error */
}

/* n images of 4x3 whose pixels encode the item number, labels i % 10 */
static void write_set(const char *prefix, int n)
{
  char     name[128];
  int      dims[3] = {n, 4, 3};
  uint8_t *px = malloc((size_t)n * 12), *lb = malloc(n);
  for (int i = 0; i < n; i++) {
    for (int k = 0; k < 12; k++) px[i * 12 + k] = (uint8_t)(i + k);
    lb[i] = (uint8_t)(i % 10);
  }
  snprintf(name, sizeof name, "%s-images-idx3-ubyte.gz", prefix);
  write_idx(name, 1, 8, 3, dims, px, (size_t)n * 12);
  snprintf(name, sizeof name, "%s-labels-idx1-ubyte", prefix); /* raw: the loader falls back to it */
  write_idx(name, 0, 8, 1, dims, lb, n);
  free(px);
  free(lb);
}

int main(int argc, char **argv)
{
  uint8_t   payload[60];
  int       dims[3] = {5, 4, 3};
  cdn_idx_t *idx = NULL;
  char      path[256];

  if (cdn_initialize(&argc, &argv, NULL)) return 1;
  snprintf(dir, sizeof dir, "/tmp/cdn_idx_XXXXXX");
  if (!mkdtemp(dir)) return 1;
  for (int i = 0; i < 60; i++) payload[i] = (uint8_t)(3 * i + 1);

  for (int gz = 0; gz < 2; gz++) {
    write_idx("good", gz, 8, 3, dims, payload, 60);
    snprintf(path, sizeof path, "%s/good", dir);
    CHECK(cdn_idx_read(path, &idx) == 0);
    CHECK(idx->ndims == 3 && idx->dims[0] == 5 && idx->dims[1] == 4 && idx->dims[2] == 3);
    CHECK(idx->data && memcmp(idx->data, payload, 60) == 0);
    CHECK(cdn_idx_destroy(&idx) == 0);
  }
  write_idx("truncated", 1, 8, 3, dims, payload, 59);
  expect_error("truncated", CDN_ERR_CORRUPT);
  CHECK_CONTAINS(cdn_error_message(), "truncated");
  write_idx("magic", 1, 9, 3, dims, payload, 60);
  expect_error("magic", CDN_ERR_CORRUPT);
  CHECK_CONTAINS(cdn_error_message(), "magic");
  {
    /* magic 0x00000804 on a 3-dimensional file: the first pixels (0) read as a fourth size. The
       message blamed "dimension 3 has size 0"; it is the magic that is wrong. */
    uint8_t zeros[60] = {0};
    int     four[4]   = {5, 4, 3, 0};
    write_idx("magic4", 0, 8, 4, four, zeros, 56);
    expect_error("magic4", CDN_ERR_CORRUPT);
    CHECK_CONTAINS(cdn_error_message(), "bad magic 0x00000804: it promises 4 dimensions but size 4 reads 0");
  }
  write_idx("toolong", 1, 8, 3, dims, payload, 60);
  dims[0] = 4;
  write_idx("toolong", 1, 8, 3, dims, payload, 60);
  expect_error("toolong", CDN_ERR_CORRUPT);
  expect_error("missing", CDN_ERR_OPEN);

  /* a data set: 50 training items, 7 test items */
  {
    cdn_jobspec_t spec = {0};
    cdn_data_t   *data = NULL;
    int           seen[50] = {0}, idxs[2] = {0, 1}, y[2];
    float         x[24];
    write_set("train", 50);
    write_set("t10k", 7);
    snprintf(spec.dataset, sizeof spec.dataset, "idx");
    snprintf(spec.data_dir, sizeof spec.data_dir, "%s", dir);
    snprintf(spec.source, sizeof spec.source, "job.ini");
    spec.seed            = 3;
    spec.validation_size = 10;
    spec.train_size      = 30;
    spec.test_size       = 5;
    CHECK(cdn_data_load(PETSC_COMM_WORLD, &spec, &data) == 0);
    CHECK(data->train.n == 30 && data->val.n == 10 && data->test.n == 5 && data->num_classes == 10);
    CHECK(data->train.c == 1 && data->train.h == 4 && data->train.w == 3);
    for (int i = 0; i < data->train.n; i++) seen[data->train.pixels[i * 12]]++;
    for (int i = 0; i < data->val.n; i++) seen[data->val.pixels[i * 12]]++;
    for (int i = 0; i < 50; i++) CHECK(seen[i] <= 1); /* no item in both splits */
    for (int i = 0; i < 30; i++) CHECK(data->train.labels[i] == data->train.pixels[i * 12] % 10);
    for (int i = 0; i < 5; i++) CHECK(data->test.pixels[i * 12] == i); /* the first test items */
    CHECK(data->std > 0);
    cdn_batch_fill(data, &data->test, idxs, 2, x, y);
    CHECK_CLOSE(x[13], (1 + 1) / 255.0 / data->std - data->mean / data->std, 1e-5);
    CHECK(y[0] == 0 && y[1] == 1);
    CHECK(cdn_data_destroy(&data) == 0);

    spec.validation_size = 0, spec.train_size = 0, spec.test_size = 0;
    CHECK(cdn_data_load(PETSC_COMM_WORLD, &spec, &data) == 0);
    CHECK(data->train.n == 50 && data->val.n == 0 && data->test.n == 7);
    CHECK(cdn_data_destroy(&data) == 0);

    spec.validation_size = 30, spec.train_size = 30;
    CHECK(cdn_data_load(PETSC_COMM_WORLD, &spec, &data) == CDN_ERR_INPUT);
    CHECK_CONTAINS(cdn_error_message(), "train_size");
    spec.validation_size = 0, spec.train_size = 0;
    snprintf(path, sizeof path, "%s/t10k-labels-idx1-ubyte", dir);
    remove(path);
    CHECK(cdn_data_load(PETSC_COMM_WORLD, &spec, &data) == CDN_ERR_OPEN);
    CHECK_CONTAINS(cdn_error_message(), "t10k-labels-idx1-ubyte");
  }
  {
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0);
  }
  cdn_finalize();
  return CHECK_STATUS();
}
