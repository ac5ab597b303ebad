/* Folder trees for `cnndyn merge`: a part's snapshots are hard-linked into the merged run (no
   copy of possibly many gigabytes, and the parts stay as they were), copied where a link cannot
   be made (another file system); a merge that fails removes its temporary folder. */
#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "run_internal.h"

PetscErrorCode cdn_tree_copy_file(const char *src, const char *dst)
{
  FILE  *in = fopen(src, "rb"), *out;
  char   buf[65536];
  size_t n;
  int    bad = 0;

  PetscFunctionBeginUser;
  PetscCheck(in, PETSC_COMM_SELF, CDN_ERR_OPEN, "%s: cannot read: %s", src, strerror(errno));
  out = fopen(dst, "wb");
  if (!out) fclose(in);
  PetscCheck(out, PETSC_COMM_SELF, CDN_ERR_WRITE, "%s: cannot write: %s", dst, strerror(errno));
  while ((n = fread(buf, 1, sizeof buf, in)) > 0)
    if (fwrite(buf, 1, n, out) != n) bad = 1;
  bad |= ferror(in);
  fclose(in);
  bad |= fclose(out) != 0;
  PetscCheck(!bad, PETSC_COMM_SELF, CDN_ERR_WRITE, "%s: cannot copy from %s", dst, src);
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_tree_link(const char *src, const char *dst)
{
  DIR           *d;
  struct dirent *e;
  PetscErrorCode ierr = 0;

  PetscFunctionBeginUser;
  PetscCall(cdn_mkdir_p(dst));
  d = opendir(src);
  PetscCheck(d, PETSC_COMM_SELF, CDN_ERR_OPEN, "%s: cannot read: %s", src, strerror(errno));
  while (!ierr && (e = readdir(d))) {
    char        s[PETSC_MAX_PATH_LEN], t[PETSC_MAX_PATH_LEN];
    struct stat st;
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    if (snprintf(s, sizeof s, "%s/%s", src, e->d_name) >= (int)sizeof s ||
        snprintf(t, sizeof t, "%s/%s", dst, e->d_name) >= (int)sizeof t || lstat(s, &st)) {
      ierr = PetscError(PETSC_COMM_SELF, __LINE__, PETSC_FUNCTION_NAME, __FILE__, CDN_ERR_OPEN, PETSC_ERROR_INITIAL,
                        "%s: cannot read", s);
      break;
    }
    if (S_ISDIR(st.st_mode)) ierr = cdn_tree_link(s, t);
    else if (link(s, t) != 0) {
      if (errno == EEXIST)
        ierr = PetscError(PETSC_COMM_SELF, __LINE__, PETSC_FUNCTION_NAME, __FILE__, CDN_ERR_INPUT, PETSC_ERROR_INITIAL,
                          "%s: another part holds this snapshot too", s);
      else ierr = cdn_tree_copy_file(s, t); /* EXDEV, or a file system without hard links */
    }
  }
  closedir(d);
  PetscCall(ierr);
  PetscFunctionReturn(0);
}

void cdn_tree_remove(const char *path)
{
  DIR           *d = opendir(path);
  struct dirent *e;

  if (!d) {
    remove(path);
    return;
  }
  while ((e = readdir(d))) {
    char        p[PETSC_MAX_PATH_LEN];
    struct stat st;
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    if (snprintf(p, sizeof p, "%s/%s", path, e->d_name) >= (int)sizeof p) continue;
    if (!lstat(p, &st) && S_ISDIR(st.st_mode)) cdn_tree_remove(p);
    else remove(p);
  }
  closedir(d);
  rmdir(path);
}
