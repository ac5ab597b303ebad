/* Part runs (`cnndyn run --part I/N`): one population split into N contiguous model-id ranges,
   each trained as its own run (a Slurm array task), merged afterwards (merge.c). A part records
   which part it is in DIR/part.txt so that a resume cannot train another range into its folder
   and the merge can check coverage:

     part = I/N
     models = FIRST-LAST
     population = SIZE
*/
#include <errno.h>
#include <string.h>
#include "run_internal.h"

void cdn_run_part_range(int N, int part, int nparts, int *first, int *end)
{
  if (nparts <= 0) {
    *first = 0, *end = N;
    return;
  }
  /* floor(i N / n): sizes differ by one at most, the larger parts last */
  *first = (int)((long long)part * N / nparts);
  *end   = (int)((long long)(part + 1) * N / nparts);
}

static PetscErrorCode part_path(const char *outdir, char *path, size_t len)
{
  PetscFunctionBeginUser;
  PetscCheck(snprintf(path, len, "%s/part.txt", outdir) < (int)len, PETSC_COMM_SELF, CDN_ERR_INPUT, "%s: path too long",
             outdir);
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_part_check(const char *outdir, const cdn_run_options_t *opt, int N, PetscBool resuming)
{
  char  path[PETSC_MAX_PATH_LEN];
  FILE *fp;
  int   part = -1, nparts = 0;

  PetscFunctionBeginUser;
  PetscCheck(opt->nparts <= N, PETSC_COMM_SELF, CDN_ERR_INPUT,
             "--part %d/%d: more parts than the %d models of the population", opt->part, opt->nparts, N);
  if (!resuming) PetscFunctionReturn(0);
  PetscCall(part_path(outdir, path, sizeof path));
  fp = fopen(path, "r");
  if (fp) {
    if (fscanf(fp, "part = %d/%d", &part, &nparts) != 2) nparts = -1;
    fclose(fp);
    PetscCheck(nparts > 0, PETSC_COMM_SELF, CDN_ERR_CORRUPT, "%s: not a part record (part = I/N)", path);
  } else PetscCheck(errno == ENOENT, PETSC_COMM_SELF, CDN_ERR_OPEN, "%s: cannot read: %s", path, strerror(errno));
  if (nparts == 0)
    PetscCheck(opt->nparts == 0, PETSC_COMM_SELF, CDN_ERR_INPUT,
               "--part %d/%d: %s holds a run of the whole population, not a part; resume it without --part",
               opt->part, opt->nparts, outdir);
  else
    PetscCheck(opt->nparts == nparts && opt->part == part, PETSC_COMM_SELF, CDN_ERR_INPUT,
               "%s: this folder holds part %d/%d; resume it with --part %d/%d", path, part, nparts, part, nparts);
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_part_write(const char *outdir, const cdn_run_options_t *opt, int N)
{
  char        path[PETSC_MAX_PATH_LEN];
  cdn_afile_t af = {0};
  int         first, end;

  PetscFunctionBeginUser;
  if (opt->nparts == 0) PetscFunctionReturn(0);
  PetscCall(part_path(outdir, path, sizeof path));
  cdn_run_part_range(N, opt->part, opt->nparts, &first, &end);
  PetscCall(cdn_afile_open(&af, path));
  fprintf(af.fp, "part = %d/%d\nmodels = %d-%d\npopulation = %d\n", opt->part, opt->nparts, first, end - 1, N);
  PetscCall(cdn_afile_commit(&af));
  PetscFunctionReturn(0);
}
