/* The output folder: refuse to mix a new run into an old one unless asked to. */
#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include "cnndyn/util.h"
#include "run_internal.h"

static int folder_is_empty(const char *path)
{
  DIR           *d = opendir(path);
  struct dirent *e;
  int            empty = 1;
  if (!d) return 1;
  while ((e = readdir(d)))
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
      empty = 0;
      break;
    }
  closedir(d);
  return empty;
}

PetscErrorCode cdn_outdir_check(const char *outdir, PetscBool force, PetscBool snapshots)
{
  struct stat st;
  char        snapdir[PETSC_MAX_PATH_LEN];

  PetscFunctionBeginUser;
  if (stat(outdir, &st) != 0) {
    PetscCheck(errno == ENOENT, PETSC_COMM_SELF, CDN_ERR_WRITE, "%s: %s", outdir, strerror(errno));
    PetscFunctionReturn(0);
  }
  PetscCheck(S_ISDIR(st.st_mode), PETSC_COMM_SELF, CDN_ERR_INPUT, "--out %s: exists and is not a folder", outdir);
  PetscCheck(force || folder_is_empty(outdir), PETSC_COMM_SELF, CDN_ERR_INPUT,
             "--out %s: folder is not empty (use --force to write into it)", outdir);
  /* --force replaces reports, which are renamed into place, but never deletes snapshots: an old
     snapshot folder would otherwise stop the run halfway, when the first one is written. */
  snprintf(snapdir, sizeof snapdir, "%s/snapshots", outdir);
  PetscCheck(!snapshots || stat(snapdir, &st) != 0, PETSC_COMM_SELF, CDN_ERR_INPUT,
             "--out %s: holds snapshots from an earlier run; remove %s or choose another folder", outdir, snapdir);
  PetscFunctionReturn(0);
}
