/* One model's snapshots as a single .npz: a zip of .npy members (deflated), readable by
   numpy.load, every epoch inside as "epoch-EEE/NAME" (the names of the npy folder's files).
   Adding an epoch rewrites the archive into a temporary file and renames it into place
   (cdn_afile), copying the earlier epochs' compressed bytes as they are: a killed run leaves the
   previous archive whole. Only what cnndyn writes is read back: no zip64, no encryption, stored or
   deflated members; every header is checked against the central directory and every member's
   CRC-32 and size after inflating, so damage is reported with the member named. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include "cnndyn/util.h"
#include "snapshot_impl.h"

#define SIG_LOCAL   0x04034b50u
#define SIG_CENTRAL 0x02014b50u
#define SIG_END     0x06054b50u
#define DOS_DATE    33 /* 1980-01-01, 00:00: the same bytes for the same snapshot */
#define ZIP_MAX     0xffffffffu

typedef struct {
  char    *name;
  uint32_t crc, csize, usize, offset; /* offset: the local header's */
  uint16_t method;
} entry_t;

struct cdn_zip {
  FILE    *fp;
  char    *path;
  entry_t *e;
  int      n;
};

static uint16_t get16(const unsigned char *b) { return (uint16_t)(b[0] | b[1] << 8); }
static uint32_t get32(const unsigned char *b) { return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24; }
static unsigned char *put16(unsigned char *b, unsigned v) { b[0] = (unsigned char)v, b[1] = (unsigned char)(v >> 8); return b + 2; }
static unsigned char *put32(unsigned char *b, uint32_t v)
{
  for (int k = 0; k < 4; k++) b[k] = (unsigned char)(v >> (8 * k));
  return b + 4;
}

/* Frees everything it can and never fails: callers on error paths ignore its code. */
PetscErrorCode cdn_zip_destroy(cdn_zip_t **z)
{
  if (!z || !*z) return 0;
  for (int i = 0; i < (*z)->n; i++) free((*z)->e[i].name);
  free((*z)->e), free((*z)->path);
  if ((*z)->fp) fclose((*z)->fp);
  free(*z), *z = NULL;
  return 0;
}

/* The end record: within the last 64 KiB + 22 bytes (its comment is at most 65535 bytes). */
static int find_end(FILE *fp, long size, unsigned char *end, long *at)
{
  long           lo = size - 22 - 65535 < 0 ? 0 : size - 22 - 65535, n = size - lo;
  unsigned char *tail;
  int            found = 0;

  if (size < 22 || !(tail = malloc((size_t)n))) return 0;
  if (!fseek(fp, lo, SEEK_SET) && fread(tail, 1, (size_t)n, fp) == (size_t)n)
    for (long p = n - 22; p >= 0 && !found; p--)
      if (get32(tail + p) == SIG_END && p + 22 + get16(tail + p + 20) == n) memcpy(end, tail + p, 22), *at = lo + p, found = 1;
  free(tail);
  return found;
}

static PetscErrorCode read_central(cdn_zip_t *z, long end_at, const unsigned char *end)
{
  uint32_t       cd_size = get32(end + 12), cd_off = get32(end + 16);
  unsigned char *cd = NULL, *p;
  int            ok, n = get16(end + 10);

  PetscFunctionBeginUser;
  PetscCheck(get16(end + 4) == 0 && get16(end + 6) == 0 && get16(end + 8) == n && (long)cd_off + cd_size <= end_at,
             PETSC_COMM_SELF, CDN_ERR_CORRUPT, "%s: not a readable .npz (multi-part or damaged central directory)", z->path);
  /* z->n only with z->e: cdn_zip_close frees n names */
  PetscCheck(z->e = calloc((size_t)n + 1, sizeof *z->e), PETSC_COMM_SELF, PETSC_ERR_MEM, "%s: out of memory", z->path);
  z->n = n;
  ok = (cd = malloc((size_t)cd_size + 1)) && !fseek(z->fp, cd_off, SEEK_SET) && fread(cd, 1, cd_size, z->fp) == cd_size;
  p = cd;
  for (int i = 0; ok && i < z->n; i++) {
    entry_t *e = &z->e[i];
    ok = cd + cd_size - p >= 46 && get32(p) == SIG_CENTRAL;
    if (!ok) break;
    uint16_t nl = get16(p + 28), xl = get16(p + 30), cl = get16(p + 32);
    ok = cd + cd_size - p >= 46 + nl + xl + cl && !(get16(p + 8) & 1) && (get16(p + 10) == 0 || get16(p + 10) == 8);
    if (!ok || !(e->name = malloc((size_t)nl + 1))) {
      ok = 0; /* out of memory reads as damage: rare enough */
      break;
    }
    memcpy(e->name, p + 46, nl), e->name[nl] = '\0';
    e->method = get16(p + 10), e->crc = get32(p + 16), e->csize = get32(p + 20), e->usize = get32(p + 24);
    e->offset = get32(p + 42);
    /* deflate expands at most 1032:1: a larger claimed size is damage, not a reason to allocate it */
    ok = e->csize != ZIP_MAX && e->usize != ZIP_MAX && e->offset != ZIP_MAX && (long)e->offset + 30 + e->csize <= (long)cd_off &&
         strlen(e->name) == nl && (e->method ? (uint64_t)e->usize <= 1032ull * e->csize + 64 : e->usize == e->csize);
    p += 46 + nl + xl + cl;
  }
  free(cd);
  PetscCheck(ok, PETSC_COMM_SELF, CDN_ERR_CORRUPT, "%s: damaged central directory (or zip64/encrypted members)", z->path);
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_zip_open(const char *path, cdn_zip_t **zp)
{
  cdn_zip_t     *z;
  unsigned char  end[22] = {0};
  long           size = -1, at = 0;
  PetscErrorCode ierr;

  PetscFunctionBeginUser;
  *zp = NULL;
  PetscCheck(z = calloc(1, sizeof *z), PETSC_COMM_SELF, PETSC_ERR_MEM, "%s: out of memory", path);
  *zp = z, z->path = strdup(path), z->fp = fopen(path, "rb");
  if (!z->fp || !z->path) {
    int err = errno;
    (void)cdn_zip_destroy(zp);
    SETERRQ(PETSC_COMM_SELF, CDN_ERR_OPEN, "%s: cannot open: %s", path, strerror(err));
  }
  if (!fseek(z->fp, 0, SEEK_END)) size = ftell(z->fp);
  if (!find_end(z->fp, size, end, &at)) {
    (void)cdn_zip_destroy(zp);
    SETERRQ(PETSC_COMM_SELF, CDN_ERR_CORRUPT, "%s: not a .npz or truncated (no end of central directory)", path);
  }
  ierr = read_central(z, at, end);
  if (ierr) (void)cdn_zip_destroy(zp);
  PetscCall(ierr);
  PetscFunctionReturn(0);
}

int         cdn_zip_count(const cdn_zip_t *z) { return z->n; }
const char *cdn_zip_name(const cdn_zip_t *z, int i) { return z->e[i].name; }

/* Positions fp at entry e's data after checking its local header against the central one. */
static PetscErrorCode seek_data(cdn_zip_t *z, const entry_t *e)
{
  unsigned char h[30];

  PetscFunctionBeginUser;
  PetscCheck(!fseek(z->fp, e->offset, SEEK_SET) && fread(h, 1, 30, z->fp) == 30 && get32(h) == SIG_LOCAL &&
               get16(h + 8) == e->method && get16(h + 26) == strlen(e->name) &&
               !fseek(z->fp, (long)get16(h + 26) + get16(h + 28), SEEK_CUR),
             PETSC_COMM_SELF, CDN_ERR_CORRUPT, "%s: %s: damaged local header", z->path, e->name);
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_zip_read(cdn_zip_t *z, const char *name, unsigned char **data, size_t *n)
{
  const entry_t *e = NULL;
  unsigned char *c = NULL;
  z_stream       s = {0};
  int            ok, zr = Z_DATA_ERROR;

  PetscFunctionBeginUser;
  *data = NULL, *n = 0;
  for (int i = 0; i < z->n && !e; i++)
    if (!strcmp(z->e[i].name, name)) e = &z->e[i];
  PetscCheck(e, PETSC_COMM_SELF, CDN_ERR_OPEN, "%s: no member %s", z->path, name);
  PetscCall(seek_data(z, e));
  PetscCheck((c = malloc((size_t)e->csize + 1)) && (*data = malloc((size_t)e->usize + 1)), PETSC_COMM_SELF, PETSC_ERR_MEM,
             "%s: %s: out of memory", z->path, name);
  ok = fread(c, 1, e->csize, z->fp) == e->csize;
  if (ok && e->method == 0) {
    if ((ok = e->csize == e->usize)) memcpy(*data, c, e->csize);
  }
  else if (ok && inflateInit2(&s, -MAX_WBITS) == Z_OK) {
    s.next_in = c, s.avail_in = e->csize, s.next_out = *data, s.avail_out = e->usize + 1;
    zr = inflate(&s, Z_FINISH);
    ok = zr == Z_STREAM_END && s.total_out == e->usize && s.avail_in == 0;
    inflateEnd(&s);
  } else ok = 0;
  ok = ok && crc32(0L, *data, e->usize) == e->crc;
  free(c);
  if (!ok) free(*data), *data = NULL;
  PetscCheck(ok, PETSC_COMM_SELF, CDN_ERR_CORRUPT, "%s: %s: damaged or truncated member (size or CRC-32 differs)", z->path, name);
  *n = e->usize;
  PetscFunctionReturn(0);
}

/* ---- writing --------------------------------------------------------------------------------- */

typedef struct {
  FILE    *fp;
  entry_t *cd;
  int      n, cap;
  uint64_t at; /* bytes written */
} writer_t;

/* A local header for entry e, then its data (compressed bytes c); e->offset set here. */
static int put_member(writer_t *w, entry_t *e, const unsigned char *c)
{
  unsigned char h[30], *p = h;
  size_t        nl = strlen(e->name);

  if (w->at + 30 + nl + e->csize > ZIP_MAX || w->n == 65535) return 0;
  e->offset = (uint32_t)w->at;
  p = put32(p, SIG_LOCAL), p = put16(p, 20), p = put16(p, 0), p = put16(p, e->method), p = put16(p, 0);
  p = put16(p, DOS_DATE), p = put32(p, e->crc), p = put32(p, e->csize), p = put32(p, e->usize);
  p = put16(p, (unsigned)nl), put16(p, 0);
  if (fwrite(h, 1, 30, w->fp) != 30 || fwrite(e->name, 1, nl, w->fp) != nl || fwrite(c, 1, e->csize, w->fp) != e->csize) return 0;
  w->at += 30 + nl + e->csize;
  if (w->n == w->cap) {
    entry_t *g = realloc(w->cd, sizeof *g * (size_t)(w->cap = w->cap ? 2 * w->cap : 64));
    if (!g) return 0;
    w->cd = g;
  }
  w->cd[w->n] = *e;
  return (w->cd[w->n++].name = strdup(e->name)) != NULL;
}

static int put_central(writer_t *w)
{
  uint64_t start = w->at;
  unsigned char h[46], *p;

  for (int i = 0; i < w->n; i++) {
    const entry_t *e  = &w->cd[i];
    size_t         nl = strlen(e->name);
    p = put32(h, SIG_CENTRAL), p = put16(p, 20), p = put16(p, 20), p = put16(p, 0), p = put16(p, e->method);
    p = put16(p, 0), p = put16(p, DOS_DATE), p = put32(p, e->crc), p = put32(p, e->csize), p = put32(p, e->usize);
    p = put16(p, (unsigned)nl), p = put16(p, 0), p = put16(p, 0), p = put16(p, 0), p = put16(p, 0), p = put32(p, 0);
    put32(p, e->offset);
    if (fwrite(h, 1, 46, w->fp) != 46 || fwrite(e->name, 1, nl, w->fp) != nl) return 0;
    w->at += 46 + nl;
  }
  if (w->at > ZIP_MAX) return 0;
  p = put32(h, SIG_END), p = put16(p, 0), p = put16(p, 0), p = put16(p, (unsigned)w->n), p = put16(p, (unsigned)w->n);
  p = put32(p, (uint32_t)(w->at - start)), p = put32(p, (uint32_t)start), put16(p, 0);
  return fwrite(h, 1, 22, w->fp) == 22;
}

/* An earlier epoch's member, its compressed bytes copied as they are. */
static PetscErrorCode copy_member(cdn_zip_t *z, const entry_t *e, writer_t *w, int *ok)
{
  unsigned char *c;
  entry_t        x = *e;
  int            got;

  PetscFunctionBeginUser;
  PetscCall(seek_data(z, e));
  PetscCheck(c = malloc((size_t)e->csize + 1), PETSC_COMM_SELF, PETSC_ERR_MEM, "%s: out of memory", z->path);
  got = fread(c, 1, e->csize, z->fp) == e->csize;
  *ok = got && put_member(w, &x, c);
  free(c);
  PetscCheck(got, PETSC_COMM_SELF, CDN_ERR_CORRUPT, "%s: %s: truncated member", z->path, e->name);
  PetscFunctionReturn(0);
}

static int deflate_member(writer_t *w, const cdn_member_t *m, const char *prefix)
{
  entry_t        e = {.method = 8, .usize = (uint32_t)m->n};
  char           name[PETSC_MAX_PATH_LEN];
  uLong          cap = compressBound((uLong)m->n);
  unsigned char *c   = malloc(cap + 1);
  z_stream       s   = {0};
  int            ok  = c && m->n < ZIP_MAX && snprintf(name, sizeof name, "%s%s", prefix, m->name) < (int)sizeof name &&
            deflateInit2(&s, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY) == Z_OK;

  if (ok) {
    s.next_in = (unsigned char *)m->data, s.avail_in = (uInt)m->n, s.next_out = c, s.avail_out = (uInt)cap;
    ok = deflate(&s, Z_FINISH) == Z_STREAM_END;
    e.csize = (uint32_t)s.total_out;
    deflateEnd(&s);
  }
  e.crc = (uint32_t)crc32(0L, m->data, (uInt)m->n), e.name = name;
  ok = ok && put_member(w, &e, c);
  free(c);
  return ok;
}

/* "epoch-EEE/..." -> EEE; other names -1. */
static int epoch_of(const char *name) { return strncmp(name, "epoch-", 6) ? -1 : atoi(name + 6); }

PetscErrorCode cdn_npz_put_epoch(const char *npz, int epoch, int n, const cdn_member_t *m)
{
  cdn_zip_t     *z = NULL;
  cdn_afile_t    af = {0};
  writer_t       w  = {0};
  char           prefix[32];
  int            ok = 1;
  FILE          *probe;
  PetscErrorCode ierr = 0;

  PetscFunctionBeginUser;
  snprintf(prefix, sizeof prefix, "epoch-%03d/", epoch);
  if ((probe = fopen(npz, "rb"))) {
    fclose(probe);
    PetscCall(cdn_zip_open(npz, &z));
  }
  ierr = cdn_afile_open(&af, npz);
  w.fp = af.fp;
  /* Epochs from this one on come from a run killed before their checkpoint: written again now. */
  for (int i = 0; !ierr && ok && z && i < z->n; i++)
    if (epoch_of(z->e[i].name) < epoch) ierr = copy_member(z, &z->e[i], &w, &ok);
  for (int i = 0; !ierr && ok && i < n; i++) ok = deflate_member(&w, &m[i], prefix);
  ok = ok && (ierr || put_central(&w));
  for (int i = 0; i < w.n; i++) free(w.cd[i].name);
  free(w.cd);
  (void)cdn_zip_destroy(&z);
  if (!ierr && !ok) ierr = PetscError(PETSC_COMM_SELF, __LINE__, PETSC_FUNCTION_NAME, __FILE__, CDN_ERR_WRITE, PETSC_ERROR_INITIAL,
                                      "%s: cannot write (disk full, or past the 4 GiB / 65535 members of a zip without zip64: use snapshot_format = npy)", npz);
  if (ierr && af.fp) cdn_afile_abort(&af);
  PetscCall(ierr);
  PetscCall(cdn_afile_commit(&af));
  PetscFunctionReturn(0);
}
