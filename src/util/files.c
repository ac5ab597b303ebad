/* Output files appear whole or not at all: written under a temporary name, flushed to disk, then
   renamed, which POSIX makes atomic within one file system. And the CRC-32 of a file, which tells
   a damaged or changed one. */
#define _GNU_SOURCE /* syncfs */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include "cnndyn/util.h"

PetscErrorCode cdn_afile_open(cdn_afile_t *af, const char *path)
{
  PetscFunctionBeginUser;
  snprintf(af->path, sizeof af->path, "%s", path);
  af->unsynced = PETSC_FALSE; /* fsynced unless the writer says otherwise before the commit */
  snprintf(af->tmp, sizeof af->tmp, "%s.tmp.%ld", path, (long)getpid());
  af->fp = fopen(af->tmp, "w");
  PetscCheck(af->fp, PETSC_COMM_SELF, CDN_ERR_WRITE, "%s: cannot write: %s", af->tmp, strerror(errno));
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_afile_commit(cdn_afile_t *af)
{
  int ok;

  PetscFunctionBeginUser;
  /* ferror catches a failed fprintf earlier on (disk full), which fflush alone may not report. */
  ok     = !ferror(af->fp) && fflush(af->fp) == 0 && (af->unsynced || fsync(fileno(af->fp)) == 0);
  ok     = (fclose(af->fp) == 0) && ok;
  af->fp = NULL;
  if (ok) ok = rename(af->tmp, af->path) == 0;
  if (!ok) {
    int err = errno;
    remove(af->tmp);
    SETERRQ(PETSC_COMM_SELF, CDN_ERR_WRITE, "%s: cannot write: %s", af->path, strerror(err));
  }
  PetscFunctionReturn(0);
}

void cdn_afile_abort(cdn_afile_t *af)
{
  if (af->fp) fclose(af->fp);
  af->fp = NULL;
  if (af->tmp[0]) remove(af->tmp);
}

PetscErrorCode cdn_mkdir_p(const char *path)
{
  char buf[PETSC_MAX_PATH_LEN];

  PetscFunctionBeginUser;
  PetscCheck(strlen(path) < sizeof buf, PETSC_COMM_SELF, CDN_ERR_INPUT, "%s: path too long", path);
  snprintf(buf, sizeof buf, "%s", path);
  for (char *p = buf + 1;; p++) {
    if (*p == '/' || *p == '\0') {
      char c = *p;
      *p     = '\0';
      if (mkdir(buf, 0777) != 0 && errno != EEXIST)
        SETERRQ(PETSC_COMM_SELF, CDN_ERR_WRITE, "%s: cannot create directory: %s", buf, strerror(errno));
      *p = c;
      if (!c) break;
    }
  }
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_sync_fs_begin(const char *path, int *fd)
{
  PetscFunctionBeginUser;
  *fd = open(path, O_RDONLY);
  PetscCheck(*fd >= 0, PETSC_COMM_SELF, CDN_ERR_WRITE, "%s: cannot open to sync: %s", path, strerror(errno));
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_sync_fs_end(int *fd, const char *path)
{
  int ok, err;

  PetscFunctionBeginUser;
  if (*fd < 0) PetscFunctionReturn(0);
  ok  = syncfs(*fd) == 0;
  err = errno;
  close(*fd);
  *fd = -1;
  PetscCheck(ok, PETSC_COMM_SELF, CDN_ERR_WRITE, "%s: cannot sync to disk: %s", path, strerror(err));
  PetscFunctionReturn(0);
}

int cdn_file_name_ok(const char *name)
{
  return name[0] && !strchr(name, '/') && strcmp(name, ".") && strcmp(name, "..");
}

PetscErrorCode cdn_file_crc32(const char *path, uint32_t *crc, uint64_t *size)
{
  FILE         *fp = fopen(path, "rb");
  unsigned char buf[1 << 16];
  size_t        got;
  int           bad;

  PetscFunctionBeginUser;
  PetscCheck(fp, PETSC_COMM_SELF, CDN_ERR_OPEN, "%s: cannot read: %s", path, strerror(errno));
  *crc  = (uint32_t)crc32(0L, Z_NULL, 0);
  *size = 0;
  while ((got = fread(buf, 1, sizeof buf, fp)) > 0) {
    *crc = (uint32_t)crc32(*crc, buf, (uInt)got);
    *size += got;
  }
  bad = ferror(fp);
  fclose(fp);
  PetscCheck(!bad, PETSC_COMM_SELF, CDN_ERR_OPEN, "%s: cannot read", path);
  PetscFunctionReturn(0);
}
