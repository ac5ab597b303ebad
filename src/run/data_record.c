/* The data set a run started with: DIR/checkpoints/data-checksums.txt holds the CRC-32 and size of
   every data file (cdn_data_fingerprint), written when the run starts. A resumed run checks the
   files against it before reading them: models trained on one data set and continued on another
   would give reports of neither, and a truncated file would otherwise surface as a parse error. */
#include <errno.h>
#include <string.h>
#include "run_internal.h"

#define RECORD_CAP (CDN_DATA_MAX_FILES * (CDN_DATA_PATH_LEN + 32))

static void record_path(char *path, const char *outdir)
{
  snprintf(path, PETSC_MAX_PATH_LEN, "%s/checkpoints/data-checksums.txt", outdir);
}

/* The first line where a and b differ, as the path it names (the third field) in out. */
static void first_difference(const char *a, const char *b, char *out, size_t cap)
{
  while (*a && *b) {
    const char *ea = strchr(a, '\n'), *eb = strchr(b, '\n');
    size_t      la = ea ? (size_t)(ea - a) : strlen(a), lb = eb ? (size_t)(eb - b) : strlen(b);
    if (la != lb || memcmp(a, b, la)) break;
    a += la + (ea != NULL), b += lb + (eb != NULL);
  }
  if (!*b) b = a; /* a file fewer now: name the recorded one */
  for (int field = 0; field < 2 && *b; field++) b += strcspn(b, " \n") + (b[strcspn(b, " \n")] == ' ');
  snprintf(out, cap, "%.*s", (int)strcspn(b, "\n"), b);
}

PetscErrorCode cdn_data_record(const cdn_jobspec_t *spec, const char *outdir, PetscBool resuming)
{
  char        path[PETSC_MAX_PATH_LEN], now[RECORD_CAP], then[RECORD_CAP + 1], file[CDN_DATA_PATH_LEN];
  FILE       *fp;
  size_t      n;
  cdn_afile_t af = {0};

  PetscFunctionBeginUser;
  record_path(path, outdir);
  PetscCall(cdn_data_fingerprint(spec, now, sizeof now));
  fp = resuming ? fopen(path, "rb") : NULL;
  if (fp) {
    n = fread(then, 1, RECORD_CAP, fp);
    fclose(fp);
    then[n] = '\0';
    if (!strcmp(now, then)) PetscFunctionReturn(0);
    first_difference(now, then, file, sizeof file);
    SETERRQ(PETSC_COMM_SELF, CDN_ERR_INPUT,
            "%s: changed since the run started (its CRC-32 or size differs from %s); resume with the data the run "
            "started with, or start a new run in another folder",
            file, path);
  }
  /* a new run, or one started before runs recorded their data: record it now */
  PetscCheck(!resuming || errno == ENOENT, PETSC_COMM_SELF, CDN_ERR_OPEN, "%s: cannot read: %s", path, strerror(errno));
  PetscCall(cdn_afile_open(&af, path));
  if (fputs(now, af.fp) == EOF) {
    cdn_afile_abort(&af);
    SETERRQ(PETSC_COMM_SELF, CDN_ERR_WRITE, "%s: cannot write: %s", path, strerror(errno));
  }
  PetscCall(cdn_afile_commit(&af));
  PetscFunctionReturn(0);
}
