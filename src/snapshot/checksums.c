/* A snapshot folder's checksums.txt: one line "CRC32 SIZE NAME" per file of the folder (CRC-32 in
   8 hex digits, size in bytes), written last, before the folder is renamed into place. Reading a
   snapshot checks every listed file first, so a flipped byte in a weight tensor is reported with
   its file instead of feeding a wrong graph. The .npy files themselves stay plain NumPy files. */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "cnndyn/snapshot.h"
#include "cnndyn/util.h"

#define SUMS_LINE 512 /* longer than any line cnndyn writes (names are under CDN_NAME_LEN + 32) */

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The names of the regular entries of dir, sorted (the file is then the same for the same
   snapshot); *names and every name are malloc'd. */
static PetscErrorCode list_files(const char *dir, char ***names, int *n)
{
  DIR           *d = opendir(dir);
  struct dirent *e;
  int            cap = 0;

  PetscFunctionBeginUser;
  *names = NULL, *n = 0;
  PetscCheck(d, PETSC_COMM_SELF, CDN_ERR_OPEN, "%s: cannot list: %s", dir, strerror(errno));
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.' || !strcmp(e->d_name, CDN_SNAPSHOT_SUMS)) continue;
    if (*n == cap) {
      char **grown = realloc(*names, sizeof(char *) * (cap = cap ? 2 * cap : 16));
      if (!grown) break;
      *names = grown;
    }
    if (!((*names)[*n] = strdup(e->d_name))) break;
    (*n)++;
  }
  closedir(d);
  if (e) { /* out of memory */
    for (int i = 0; i < *n; i++) free((*names)[i]);
    free(*names);
    SETERRQ(PETSC_COMM_SELF, PETSC_ERR_MEM, "%s: out of memory listing the folder", dir);
  }
  qsort(*names, *n, sizeof(char *), by_name);
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_snapshot_sums_write(const char *dir)
{
  char           path[PETSC_MAX_PATH_LEN], **names;
  int            n, ok = 1;
  cdn_afile_t    af   = {0};
  PetscErrorCode ierr = 0;

  PetscFunctionBeginUser;
  PetscCall(list_files(dir, &names, &n));
  snprintf(path, sizeof path, "%s/%s", dir, CDN_SNAPSHOT_SUMS);
  ierr = cdn_afile_open(&af, path);
  for (int i = 0; i < n && !ierr; i++) {
    char     file[PETSC_MAX_PATH_LEN];
    uint32_t crc;
    uint64_t size;
    snprintf(file, sizeof file, "%s/%s", dir, names[i]);
    ierr = cdn_file_crc32(file, &crc, &size);
    if (!ierr) ok = ok && fprintf(af.fp, "%08" PRIx32 " %" PRIu64 " %s\n", crc, size, names[i]) > 0;
  }
  for (int i = 0; i < n; i++) free(names[i]);
  free(names);
  if (ierr || !ok) cdn_afile_abort(&af);
  PetscCall(ierr);
  PetscCheck(ok, PETSC_COMM_SELF, CDN_ERR_WRITE, "%s: cannot write: %s", path, strerror(errno));
  PetscCall(cdn_afile_commit(&af));
  PetscFunctionReturn(0);
}

/* One line of checksums.txt: its file's CRC-32 and size against the recorded ones. */
static PetscErrorCode check_line(const char *dir, const char *sums, int lineno, const char *line)
{
  char     name[SUMS_LINE], file[PETSC_MAX_PATH_LEN], *end;
  uint32_t crc;
  uint64_t size;
  unsigned long want_crc;
  unsigned long long want_size;

  PetscFunctionBeginUser;
  errno    = 0;
  want_crc = strtoul(line, &end, 16);
  PetscCheck(end == line + 8 && *end == ' ' && !errno && want_crc <= UINT32_MAX, PETSC_COMM_SELF, CDN_ERR_CORRUPT,
             "%s: line %d: not \"CRC32 SIZE NAME\"", sums, lineno);
  line      = end + 1;
  want_size = strtoull(line, &end, 10);
  PetscCheck(end != line && *end == ' ' && !errno && end[1] && !strchr(end + 1, '/'), PETSC_COMM_SELF,
             CDN_ERR_CORRUPT, "%s: line %d: not \"CRC32 SIZE NAME\"", sums, lineno);
  snprintf(name, sizeof name, "%s", end + 1);
  name[strcspn(name, "\n")] = '\0';
  PetscCheck(name[0] && snprintf(file, sizeof file, "%s/%s", dir, name) < (int)sizeof file, PETSC_COMM_SELF,
             CDN_ERR_CORRUPT, "%s: line %d: bad file name", sums, lineno);
  PetscCall(cdn_file_crc32(file, &crc, &size));
  PetscCheck(size == want_size, PETSC_COMM_SELF, CDN_ERR_CORRUPT, "%s: damaged: %" PRIu64 " bytes, %llu when written (%s)",
             file, size, want_size, sums);
  PetscCheck(crc == want_crc, PETSC_COMM_SELF, CDN_ERR_CORRUPT, "%s: damaged: its CRC-32 differs from %s", file,
             sums);
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_snapshot_verify(const char *dir)
{
  char           sums[PETSC_MAX_PATH_LEN], line[SUMS_LINE];
  FILE          *fp;
  int            lineno = 0;
  PetscErrorCode ierr   = 0;

  PetscFunctionBeginUser;
  PetscCheck(snprintf(sums, sizeof sums, "%s/%s", dir, CDN_SNAPSHOT_SUMS) < (int)sizeof sums, PETSC_COMM_SELF,
             CDN_ERR_INPUT, "%s: path too long", dir);
  fp = fopen(sums, "r");
  if (!fp) {
    /* a folder written by another tool or by hand: read unchecked, as docs/formats.md, "snapshots", says */
    PetscCheck(errno == ENOENT, PETSC_COMM_SELF, CDN_ERR_OPEN, "%s: cannot read: %s", sums, strerror(errno));
    PetscFunctionReturn(0);
  }
  while (!ierr && fgets(line, sizeof line, fp)) {
    lineno++;
    if (!strchr(line, '\n') && !feof(fp)) {
      fclose(fp);
      SETERRQ(PETSC_COMM_SELF, CDN_ERR_CORRUPT, "%s: line %d: too long", sums, lineno);
    }
    ierr = check_line(dir, sums, lineno, line);
  }
  fclose(fp);
  PetscCall(ierr);
  PetscFunctionReturn(0);
}
