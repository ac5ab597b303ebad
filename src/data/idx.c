/* IDX files (the MNIST format): a 4-byte magic 0x00 0x00 0x08 NDIMS, NDIMS big-endian 32-bit sizes,
   then the unsigned bytes. zlib's gzread also passes raw files through, so one reader serves both. */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>
#include "cnndyn/data.h"
#include "cnndyn/util.h"

/* gzread takes an unsigned count: read big payloads in slices. Returns bytes read, -1 on error. */
static long long read_all(gzFile gz, uint8_t *buf, size_t n)
{
  size_t done = 0;
  while (done < n) {
    size_t   want = n - done > (1u << 30) ? (1u << 30) : n - done;
    int      got  = gzread(gz, buf + done, (unsigned)want);
    if (got < 0) return -1;
    if (got == 0) break;
    done += (size_t)got;
  }
  return (long long)done;
}

static PetscErrorCode read_body(gzFile gz, const char *path, long long fsize, cdn_idx_t *idx)
{
  uint8_t   head[4], dimb[16], extra;
  size_t    total = 1;
  long long got;
  int       zerr;

  PetscFunctionBeginUser;
  got = read_all(gz, head, 4);
  PetscCheck(got >= 0, PETSC_COMM_SELF, CDN_ERR_CORRUPT, "%s: cannot decompress: %s", path, gzerror(gz, &zerr));
  PetscCheck(got == 4, PETSC_COMM_SELF, CDN_ERR_CORRUPT, "%s: truncated: no IDX header", path);
  PetscCheck(head[0] == 0 && head[1] == 0 && head[2] == 0x08, PETSC_COMM_SELF, CDN_ERR_CORRUPT,
             "%s: wrong magic 0x%02x%02x%02x%02x: not an IDX file of unsigned bytes (0x000008NN)", path, head[0],
             head[1], head[2], head[3]);
  PetscCheck(head[3] >= 1 && head[3] <= 4, PETSC_COMM_SELF, CDN_ERR_CORRUPT,
             "%s: %d dimensions in the header; 1 to 4 are supported", path, head[3]);
  idx->ndims = head[3];
  got        = read_all(gz, dimb, 4 * (size_t)idx->ndims);
  PetscCheck(got == 4 * idx->ndims, PETSC_COMM_SELF, CDN_ERR_CORRUPT, "%s: truncated in the header", path);
  for (int d = 0; d < idx->ndims; d++) {
    uint32_t v = (uint32_t)dimb[4 * d] << 24 | (uint32_t)dimb[4 * d + 1] << 16 | (uint32_t)dimb[4 * d + 2] << 8 |
                 dimb[4 * d + 3];
    /* a size of 0 is almost always data read as a size: the magic's dimension count is wrong */
    PetscCheck(v > 0, PETSC_COMM_SELF, CDN_ERR_CORRUPT,
               "%s: bad magic 0x%02x%02x%02x%02x: it promises %d dimensions but size %d reads 0 (wrong file type or damaged header)",
               path, head[0], head[1], head[2], head[3], idx->ndims, d + 1);
    PetscCheck(v < (1u << 28), PETSC_COMM_SELF, CDN_ERR_CORRUPT, "%s: dimension %d has size %u", path, d, (unsigned)v);
    idx->dims[d] = (int)v;
    total *= v;
    PetscCheck(total < ((size_t)1 << 34), PETSC_COMM_SELF, CDN_ERR_CORRUPT, "%s: header claims %zu bytes", path,
               total);
  }
  /* a damaged header must not allocate what the file cannot hold: deflate packs at most 1032:1
     (fsize -1: unknown) */
  PetscCheck(fsize < 0 || total <= (size_t)fsize * (gzdirect(gz) ? 1 : 1032), PETSC_COMM_SELF, CDN_ERR_CORRUPT,
             "%s: truncated: header promises %zu data bytes, more than a %lld-byte file holds", path, total, fsize);
  PetscCall(PetscMalloc1(total, &idx->data));
  got = read_all(gz, idx->data, total);
  PetscCheck(got >= 0, PETSC_COMM_SELF, CDN_ERR_CORRUPT, "%s: cannot decompress: %s", path, gzerror(gz, &zerr));
  PetscCheck((size_t)got == total, PETSC_COMM_SELF, CDN_ERR_CORRUPT,
             "%s: truncated: header promises %zu data bytes, file has %lld", path, total, got);
  PetscCheck(read_all(gz, &extra, 1) == 0, PETSC_COMM_SELF, CDN_ERR_CORRUPT,
             "%s: more data than the header's %zu bytes", path, total);
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_idx_read(const char *path, cdn_idx_t **out)
{
  gzFile         gz;
  struct stat    st;
  cdn_idx_t     *idx;
  PetscErrorCode ierr;

  PetscFunctionBeginUser;
  *out  = NULL;
  errno = 0;
  gz    = gzopen(path, "rb");
  PetscCheck(gz, PETSC_COMM_SELF, CDN_ERR_OPEN, "%s: cannot open: %s", path, errno ? strerror(errno) : "zlib error");
  /* not PetscCall: the file must be closed on every path */
  ierr = PetscNew(&idx);
  if (!ierr) ierr = read_body(gz, path, stat(path, &st) ? -1 : (long long)st.st_size, idx);
  gzclose(gz);
  if (ierr) (void)cdn_idx_destroy(&idx); /* the first error is the one reported */
  PetscCall(ierr);
  *out = idx;
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_idx_destroy(cdn_idx_t **idx)
{
  PetscFunctionBeginUser;
  if (!idx || !*idx) PetscFunctionReturn(0);
  PetscCall(PetscFree((*idx)->data));
  PetscCall(PetscFree(*idx));
  PetscFunctionReturn(0);
}
