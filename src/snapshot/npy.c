/* NumPy .npy format, version 1.0, float32 only: what snapshots need, checked strictly so a damaged
   file is reported rather than misread. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "cnndyn/snapshot.h"
#include "cnndyn/util.h"
#include "snapshot_impl.h"

#define NPY_MAGIC     "\x93NUMPY"
#define NPY_MAX_NDIM  4
#define NPY_MAX_HDR   4096

/* The header dict is numpy's own spelling, space padded so that data starts at a multiple of 64
   bytes, with '\n' as its last byte (numpy's format spec). */
static int npy_header(char *h, size_t cap, int ndim, const int *shape)
{
  int n = snprintf(h, cap, "{'descr': '<f4', 'fortran_order': False, 'shape': (");
  for (int d = 0; d < ndim; d++) n += snprintf(h + n, cap - n, d ? ", %d" : "%d", shape[d]);
  n += snprintf(h + n, cap - n, "%s), }", ndim == 1 ? "," : "");
  while ((10 + n + 1) % 64) h[n++] = ' ';
  h[n++] = '\n';
  h[n]   = '\0';
  return n;
}

/* Little endian on disk whatever the host: assemble bytes explicitly. */
static void put_le32(unsigned char *b, float f)
{
  uint32_t u;
  memcpy(&u, &f, 4);
  for (int k = 0; k < 4; k++) b[k] = (unsigned char)(u >> (8 * k));
}

static float get_le32(const unsigned char *b)
{
  uint32_t u = 0;
  float    f;
  for (int k = 0; k < 4; k++) u |= (uint32_t)b[k] << (8 * k);
  memcpy(&f, &u, 4);
  return f;
}

/* pre, header and data to fp; 0 on a write error. */
static int npy_put(FILE *fp, const float *data, int ndim, const int *shape)
{
  char          h[NPY_MAX_HDR];
  unsigned char pre[10], buf[4096];
  size_t        count = 1, hl;
  int           ok;

  for (int d = 0; d < ndim; d++) count *= (size_t)shape[d];
  hl = (size_t)npy_header(h, sizeof h, ndim, shape);
  memcpy(pre, NPY_MAGIC, 6);
  pre[6] = 1;
  pre[7] = 0;
  pre[8] = (unsigned char)(hl & 0xff);
  pre[9] = (unsigned char)(hl >> 8);
  ok     = fwrite(pre, 1, 10, fp) == 10 && fwrite(h, 1, hl, fp) == hl;
  for (size_t i = 0; i < count && ok;) {
    size_t m = 0;
    for (; m < sizeof buf / 4 && i < count; m++, i++) put_le32(buf + 4 * m, data[i]);
    ok = fwrite(buf, 4, m, fp) == m;
  }
  return ok;
}

static PetscErrorCode check_shape(const char *what, int ndim, const int *shape)
{
  PetscFunctionBeginUser;
  PetscCheck(ndim >= 1 && ndim <= NPY_MAX_NDIM, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "%s: ndim %d", what, ndim);
  for (int d = 0; d < ndim; d++)
    PetscCheck(shape[d] >= 0, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "%s: shape[%d] = %d", what, d, shape[d]);
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_npy_write(const char *path, const float *data, int ndim, const int *shape)
{
  cdn_afile_t af = {0};

  PetscFunctionBeginUser;
  PetscCall(check_shape(path, ndim, shape));
  PetscCall(cdn_afile_open(&af, path));
  if (!npy_put(af.fp, data, ndim, shape)) {
    cdn_afile_abort(&af);
    SETERRQ(PETSC_COMM_SELF, CDN_ERR_WRITE, "%s: cannot write: %s", path, strerror(errno));
  }
  PetscCall(cdn_afile_commit(&af));
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_npy_encode(const float *data, int ndim, const int *shape, unsigned char **buf, size_t *n)
{
  char *b  = NULL;
  FILE *fp;
  int   ok;

  PetscFunctionBeginUser;
  PetscCall(check_shape("npy", ndim, shape));
  fp = open_memstream(&b, n);
  PetscCheck(fp, PETSC_COMM_SELF, PETSC_ERR_MEM, "out of memory encoding a .npy");
  ok = npy_put(fp, data, ndim, shape);
  ok = !fclose(fp) && ok;
  if (!ok) free(b);
  PetscCheck(ok, PETSC_COMM_SELF, PETSC_ERR_MEM, "out of memory encoding a .npy");
  *buf = (unsigned char *)b;
  PetscFunctionReturn(0);
}

/* Parses "{'descr': '<f4', 'fortran_order': False, 'shape': (a, b, ), }" with keys in any order,
   as numpy itself accepts. */
static PetscErrorCode parse_header(const char *path, const char *h, int *ndim, int shape[4])
{
  const char *p;

  PetscFunctionBeginUser;
  PetscCheck(strstr(h, "'descr': '<f4'"), PETSC_COMM_SELF, CDN_ERR_CORRUPT, "%s: dtype is not '<f4' (float32)", path);
  PetscCheck(strstr(h, "'fortran_order': False"), PETSC_COMM_SELF, CDN_ERR_CORRUPT,
             "%s: fortran_order is not False", path);
  p = strstr(h, "'shape': (");
  PetscCheck(p, PETSC_COMM_SELF, CDN_ERR_CORRUPT, "%s: header has no shape", path);
  p += strlen("'shape': (");
  *ndim = 0;
  for (;;) {
    char *end;
    while (*p == ' ') p++;
    if (*p == ')') break;
    errno  = 0;
    long v = strtol(p, &end, 10);
    PetscCheck(end != p && !errno && v >= 0 && v <= INT32_MAX, PETSC_COMM_SELF, CDN_ERR_CORRUPT,
               "%s: bad shape in header", path);
    PetscCheck(*ndim < NPY_MAX_NDIM, PETSC_COMM_SELF, CDN_ERR_CORRUPT, "%s: more than %d dimensions", path,
               NPY_MAX_NDIM);
    shape[(*ndim)++] = (int)v;
    p                = end;
    while (*p == ' ') p++;
    if (*p == ',') p++;
    else PetscCheck(*p == ')', PETSC_COMM_SELF, CDN_ERR_CORRUPT, "%s: bad shape in header", path);
  }
  PetscCheck(*ndim >= 1, PETSC_COMM_SELF, CDN_ERR_CORRUPT, "%s: scalar arrays are not parameter tensors", path);
  PetscFunctionReturn(0);
}

static PetscErrorCode read_body(FILE *fp, const char *path, float **data, int *ndim, int shape[4])
{
  unsigned char pre[12], *raw = NULL;
  char          h[NPY_MAX_HDR + 1];
  size_t        hl, count = 1, got;
  int           extra;

  PetscFunctionBeginUser;
  PetscCheck(fread(pre, 1, 10, fp) == 10 && !memcmp(pre, NPY_MAGIC, 6), PETSC_COMM_SELF, CDN_ERR_CORRUPT,
             "%s: not a .npy file (bad magic)", path);
  PetscCheck(pre[6] == 1 || pre[6] == 2, PETSC_COMM_SELF, CDN_ERR_CORRUPT, "%s: unsupported .npy version %d.%d",
             path, pre[6], pre[7]);
  hl = pre[8] | (size_t)pre[9] << 8;
  if (pre[6] == 2) { /* version 2 has a 4-byte header length */
    PetscCheck(fread(pre + 10, 1, 2, fp) == 2, PETSC_COMM_SELF, CDN_ERR_CORRUPT, "%s: truncated header", path);
    hl |= (size_t)pre[10] << 16 | (size_t)pre[11] << 24;
  }
  PetscCheck(hl <= NPY_MAX_HDR, PETSC_COMM_SELF, CDN_ERR_CORRUPT, "%s: header of %zu bytes", path, hl);
  PetscCheck(fread(h, 1, hl, fp) == hl, PETSC_COMM_SELF, CDN_ERR_CORRUPT, "%s: truncated header", path);
  h[hl] = '\0';
  PetscCall(parse_header(path, h, ndim, shape));
  for (int d = 0; d < *ndim; d++) {
    PetscCheck(shape[d] == 0 || count <= SIZE_MAX / 4 / (size_t)shape[d], PETSC_COMM_SELF, CDN_ERR_CORRUPT,
               "%s: shape too large", path);
    count *= (size_t)shape[d];
  }
  /* a damaged shape must not allocate what the file cannot hold: compare with the bytes left */
  {
    struct stat st;
    long        at = ftell(fp);
    if (at >= 0 && !fstat(fileno(fp), &st) && S_ISREG(st.st_mode) &&
        (unsigned long long)(st.st_size - at) != 4ull * count)
      SETERRQ(PETSC_COMM_SELF, CDN_ERR_CORRUPT, "%s: %s (expected %zu float32 values)", path,
              (unsigned long long)(st.st_size - at) > 4ull * count ? "trailing bytes after the data" : "truncated data",
              count);
  }
  PetscCall(PetscMalloc1(count ? 4 * count : 1, &raw));
  got   = fread(raw, 4, count, fp);
  extra = got == count && fgetc(fp) != EOF;
  if (got != count || extra) {
    PetscCall(PetscFree(raw));
    SETERRQ(PETSC_COMM_SELF, CDN_ERR_CORRUPT, "%s: %s (expected %zu float32 values)", path,
            extra ? "trailing bytes after the data" : "truncated data", count);
  }
  PetscCall(PetscMalloc1(count ? count : 1, data));
  for (size_t i = 0; i < count; i++) (*data)[i] = get_le32(raw + 4 * i);
  PetscCall(PetscFree(raw));
  PetscFunctionReturn(0);
}

/* data is allocated with PetscMalloc1: release it with PetscFree. */
PetscErrorCode cdn_npy_read(const char *path, float **data, int *ndim, int shape[4])
{
  FILE          *fp = fopen(path, "rb");
  PetscErrorCode ierr;

  PetscFunctionBeginUser;
  *data = NULL;
  PetscCheck(fp, PETSC_COMM_SELF, CDN_ERR_OPEN, "%s: cannot open: %s", path, strerror(errno));
  ierr = read_body(fp, path, data, ndim, shape);
  fclose(fp);
  PetscCall(ierr);
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_npy_decode(const char *what, const unsigned char *buf, size_t n, float **data, int *ndim, int shape[4])
{
  FILE          *fp = n ? fmemopen((void *)buf, n, "rb") : NULL;
  PetscErrorCode ierr;

  PetscFunctionBeginUser;
  *data = NULL;
  PetscCheck(fp, PETSC_COMM_SELF, CDN_ERR_CORRUPT, "%s: empty or unreadable .npy", what);
  ierr = read_body(fp, what, data, ndim, shape);
  fclose(fp);
  PetscCall(ierr);
  PetscFunctionReturn(0);
}
