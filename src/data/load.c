/* Splits of an IDX or CIFAR-10 data set. Rank 0 reads and validates everything, then every rank gets the same
   bytes, so the split never depends on the rank count. */
#include <inttypes.h>
#include <math.h>
#include <string.h>
#include <unistd.h>
#include "cnndyn/data.h"
#include "cnndyn/util.h"

#define CDN_DATA_STREAM   0x64617461ULL /* "data": the validation carve-out has its own stream */

static const char *const idx_names[4] = {"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                                         "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"};

/* An IDX file is read from its gzipped name when that exists, else from the raw one; a missing
   pair is reported by both names. */
static PetscErrorCode idx_path(const char *dir, const char *name, char *path)
{
  char gz[CDN_DATA_PATH_LEN];

  PetscFunctionBeginUser;
  snprintf(gz, sizeof gz, "%s/%s.gz", dir, name);
  snprintf(path, CDN_DATA_PATH_LEN, "%s/%s", dir, name);
  if (access(gz, F_OK) == 0) snprintf(path, CDN_DATA_PATH_LEN, "%s", gz);
  else PetscCheck(access(path, F_OK) == 0, PETSC_COMM_SELF, CDN_ERR_OPEN, "%s: no such file (nor %s)", path, gz);
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_data_files(const cdn_jobspec_t *spec, char (*paths)[CDN_DATA_PATH_LEN], int *n)
{
  const char *dir = spec->data_dir[0] ? spec->data_dir : CDN_DEFAULT_DATA_DIR;

  PetscFunctionBeginUser;
  PetscCheck(!strcmp(spec->dataset, "fashion-mnist") || !strcmp(spec->dataset, "idx") ||
               !strcmp(spec->dataset, "cifar10"),
             PETSC_COMM_SELF, CDN_ERR_INPUT, "%s: dataset: \"%s\" is not \"fashion-mnist\", \"idx\" or \"cifar10\"",
             spec->source, spec->dataset);
  *n = 0;
  if (!strcmp(spec->dataset, "cifar10"))
    for (int f = 0; f < 6; f++) cdn_cifar_path(paths[(*n)++], dir, f < 5 ? PETSC_TRUE : PETSC_FALSE, f < 5 ? f : 0);
  else
    for (int f = 0; f < 4; f++) PetscCall(idx_path(dir, idx_names[f], paths[(*n)++]));
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_data_fingerprint(const cdn_jobspec_t *spec, char *text, size_t cap)
{
  char paths[CDN_DATA_MAX_FILES][CDN_DATA_PATH_LEN];
  int  n, len = 0;

  PetscFunctionBeginUser;
  PetscCall(cdn_data_files(spec, paths, &n));
  text[0] = '\0';
  for (int f = 0; f < n; f++) {
    uint32_t crc;
    uint64_t size;
    PetscCall(cdn_file_crc32(paths[f], &crc, &size));
    len += snprintf(text + len, cap - len, "%08" PRIx32 " %" PRIu64 " %s\n", crc, size, paths[f]);
    PetscCheck(len < (int)cap, PETSC_COMM_SELF, CDN_ERR_INPUT, "%s: path too long", paths[f]);
  }
  PetscFunctionReturn(0);
}

/* Images are n x h x w (one channel) or n x c x h x w; labels n, each below 10. */
static PetscErrorCode check_pair(const char *dir, const char *what, const cdn_idx_t *im, const cdn_idx_t *lb)
{
  PetscFunctionBeginUser;
  PetscCheck(im->ndims == 3 || im->ndims == 4, PETSC_COMM_SELF, CDN_ERR_CORRUPT,
             "%s/%s images: %d dimensions, expected 3 (n h w) or 4 (n c h w)", dir, what, im->ndims);
  PetscCheck(lb->ndims == 1, PETSC_COMM_SELF, CDN_ERR_CORRUPT, "%s/%s labels: %d dimensions, expected 1", dir, what,
             lb->ndims);
  PetscCheck(lb->dims[0] == im->dims[0], PETSC_COMM_SELF, CDN_ERR_CORRUPT, "%s/%s: %d labels for %d images", dir,
             what, lb->dims[0], im->dims[0]);
  for (int i = 0; i < lb->dims[0]; i++)
    PetscCheck(lb->data[i] < 10, PETSC_COMM_SELF, CDN_ERR_CORRUPT, "%s/%s labels: item %d has label %d (>= 10)", dir,
               what, i, lb->data[i]);
  PetscFunctionReturn(0);
}

static void set_shape(cdn_images_t *s, const cdn_idx_t *im, int n)
{
  s->n = n;
  s->c = im->ndims == 4 ? im->dims[1] : 1;
  s->h = im->dims[im->ndims - 2];
  s->w = im->dims[im->ndims - 1];
}

/* Copies items pick[0..n) (or 0..n when pick is NULL) out of an images/labels pair. */
static PetscErrorCode take(cdn_images_t *s, const cdn_idx_t *im, const cdn_idx_t *lb, const int *pick, int n)
{
  size_t sz;

  PetscFunctionBeginUser;
  set_shape(s, im, n);
  sz = (size_t)s->c * s->h * s->w;
  PetscCall(PetscMalloc1(n * sz + 1, &s->pixels));
  PetscCall(PetscMalloc1(n + 1, &s->labels));
  for (int i = 0; i < n; i++) {
    int j = pick ? pick[i] : i;
    memcpy(s->pixels + i * sz, im->data + j * sz, sz);
    s->labels[i] = lb->data[j];
  }
  PetscFunctionReturn(0);
}

static PetscErrorCode load_root(const cdn_jobspec_t *spec, cdn_data_t *data, cdn_idx_t *f[4])
{
  const char *dir = spec->data_dir[0] ? spec->data_dir : CDN_DEFAULT_DATA_DIR;
  int         ntr, nte, nval = spec->validation_size, ntrain, ntest, *perm, nfiles;
  cdn_rng_t   rng;
  double      s = 0, s2 = 0;
  size_t      npix;
  char        paths[CDN_DATA_MAX_FILES][CDN_DATA_PATH_LEN];

  PetscFunctionBeginUser;
  PetscCall(cdn_data_files(spec, paths, &nfiles));
  if (!strcmp(spec->dataset, "cifar10")) {
    PetscCall(cdn_cifar_read(dir, PETSC_TRUE, &f[0], &f[1]));
    PetscCall(cdn_cifar_read(dir, PETSC_FALSE, &f[2], &f[3]));
  } else
    for (int i = 0; i < 4; i++) PetscCall(cdn_idx_read(paths[i], &f[i]));
  PetscCall(check_pair(dir, "train", f[0], f[1]));
  PetscCall(check_pair(dir, "t10k", f[2], f[3]));
  for (int d = 1; d < f[0]->ndims; d++)
    PetscCheck(f[0]->ndims == f[2]->ndims && f[0]->dims[d] == f[2]->dims[d], PETSC_COMM_SELF, CDN_ERR_CORRUPT,
               "%s: training and test images differ in shape", dir);
  ntr = f[0]->dims[0];
  nte = f[2]->dims[0];
  PetscCheck(nval >= 0 && spec->train_size >= 0 && spec->test_size >= 0, PETSC_COMM_SELF, CDN_ERR_INPUT,
             "%s: data: sizes must not be negative", spec->source);
  PetscCheck(nval < ntr, PETSC_COMM_SELF, CDN_ERR_INPUT,
             "%s: validation_size: %d leaves no training items (%s has %d)", spec->source, nval, dir, ntr);
  ntrain = spec->train_size ? spec->train_size : ntr - nval;
  PetscCheck(ntrain + nval <= ntr, PETSC_COMM_SELF, CDN_ERR_INPUT,
             "%s: train_size: %d + validation_size %d exceeds the %d training items of %s", spec->source, ntrain,
             nval, ntr, dir);
  ntest = spec->test_size ? spec->test_size : nte;
  PetscCheck(ntest <= nte, PETSC_COMM_SELF, CDN_ERR_INPUT, "%s: test_size: %d exceeds the %d test items of %s",
             spec->source, ntest, nte, dir);

  /* validation = the first nval of a seeded permutation, training = the next ntrain */
  PetscCall(PetscMalloc1(ntr, &perm));
  for (int i = 0; i < ntr; i++) perm[i] = i;
  cdn_rng_seed(&rng, spec->seed, CDN_DATA_STREAM);
  cdn_rng_shuffle(&rng, perm, ntr);
  PetscCall(take(&data->val, f[0], f[1], perm, nval));
  PetscCall(take(&data->train, f[0], f[1], perm + nval, ntrain));
  PetscCall(PetscFree(perm));
  PetscCall(take(&data->test, f[2], f[3], NULL, ntest));
  /* The classes are the labels that occur (at most 10, checked above): chance accuracy, the label
     of a diverged model, is 1/classes. */
  data->num_classes = 0;
  for (int k = 1; k < 4; k += 2)
    for (int i = 0; i < f[k]->dims[0]; i++)
      if (f[k]->data[i] + 1 > data->num_classes) data->num_classes = f[k]->data[i] + 1;

  npix = (size_t)ntrain * data->train.c * data->train.h * data->train.w;
  for (size_t i = 0; i < npix; i++) {
    double p = data->train.pixels[i] / 255.0;
    s += p;
    s2 += p * p;
  }
  data->mean = (float)(s / npix);
  data->std  = (float)sqrt(fmax(s2 / npix - (s / npix) * (s / npix), 0));
  if (!(data->std > 1e-6f)) data->std = 1; /* a constant image set must not divide by zero */
  PetscFunctionReturn(0);
}

/* MPI counts are int: large sets go in slices. */
static PetscErrorCode bcast_bytes(MPI_Comm comm, uint8_t *p, size_t n)
{
  PetscFunctionBeginUser;
  for (size_t off = 0; off < n; off += (1u << 30)) {
    size_t len = n - off > (1u << 30) ? (1u << 30) : n - off;
    PetscCallMPI(MPI_Bcast(p + off, (int)len, MPI_BYTE, 0, comm));
  }
  PetscFunctionReturn(0);
}

static PetscErrorCode bcast_set(MPI_Comm comm, PetscMPIInt rank, cdn_images_t *s)
{
  int    shape[4] = {s->n, s->c, s->h, s->w};
  size_t sz;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Bcast(shape, 4, MPI_INT, 0, comm));
  sz = (size_t)shape[0] * shape[1] * shape[2] * shape[3];
  if (rank) {
    s->n = shape[0], s->c = shape[1], s->h = shape[2], s->w = shape[3];
    PetscCall(PetscMalloc1(sz + 1, &s->pixels));
    PetscCall(PetscMalloc1(s->n + 1, &s->labels));
  }
  PetscCall(bcast_bytes(comm, s->pixels, sz));
  PetscCall(bcast_bytes(comm, s->labels, (size_t)s->n));
  PetscFunctionReturn(0);
}

/* After rank 0's read is shared: every rank's copy of the sets and the normalisation. */
static PetscErrorCode bcast_data(MPI_Comm comm, PetscMPIInt rank, cdn_data_t *data)
{
  float norm[2];

  PetscFunctionBeginUser;
  PetscCall(bcast_set(comm, rank, &data->train));
  PetscCall(bcast_set(comm, rank, &data->val));
  PetscCall(bcast_set(comm, rank, &data->test));
  norm[0] = data->mean, norm[1] = data->std;
  PetscCallMPI(MPI_Bcast(norm, 2, MPI_FLOAT, 0, comm));
  PetscCallMPI(MPI_Bcast(&data->num_classes, 1, MPI_INT, 0, comm));
  data->mean = norm[0], data->std = norm[1];
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_data_load(MPI_Comm comm, const cdn_jobspec_t *spec, cdn_data_t **out)
{
  PetscMPIInt    rank;
  PetscErrorCode ierr;
  cdn_idx_t     *f[4] = {NULL};
  cdn_data_t    *data;

  PetscFunctionBeginUser;
  *out = NULL;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  ierr = PetscNew(&data);
  if (!ierr && !rank) {
    ierr = load_root(spec, data, f); /* captured, not PetscCall: the other ranks must hear of it */
    for (int i = 0; i < 4; i++) {
      PetscErrorCode e = cdn_idx_destroy(&f[i]);
      if (!ierr) ierr = e;
    }
  }
  ierr = cdn_error_share(comm, ierr); /* every rank's data goes when any rank failed */
  if (!ierr) ierr = bcast_data(comm, rank, data);
  if (ierr) {
    PetscCall(cdn_data_destroy(&data));
    PetscCall(ierr);
  }
  *out = data;
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_data_destroy(cdn_data_t **data)
{
  PetscFunctionBeginUser;
  if (!data || !*data) PetscFunctionReturn(0);
  cdn_images_t *sets[3] = {&(*data)->train, &(*data)->val, &(*data)->test};
  for (int i = 0; i < 3; i++) {
    PetscCall(PetscFree(sets[i]->pixels));
    PetscCall(PetscFree(sets[i]->labels));
  }
  PetscCall(PetscFree(*data));
  PetscFunctionReturn(0);
}

void cdn_batch_fill(const cdn_data_t *data, const cdn_images_t *set, const int *index, int n, float *x, int *y)
{
  size_t sz    = (size_t)set->c * set->h * set->w;
  float  scale = 1.0f / (255.0f * data->std), shift = data->mean / data->std;
  for (int i = 0; i < n; i++) {
    const uint8_t *p = set->pixels + (size_t)index[i] * sz;
    float         *q = x + i * sz;
    for (size_t k = 0; k < sz; k++) q[k] = p[k] * scale - shift;
    y[i] = set->labels[index[i]];
  }
}
