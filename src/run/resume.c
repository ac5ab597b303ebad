/* The output folder of a run that can be continued. A new run copies its job spec to DIR/job.ini
   before any work; `--resume DIR` continues from that copy, and refuses a job spec that would
   produce different results, since mixing models of two jobs would give reports of neither. */
#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include "cnndyn/report.h"
#include "cnndyn/run.h"
#include "run_internal.h"

static int exists(const char *path)
{
  struct stat st;
  return stat(path, &st) == 0;
}

/* The parts of a spec that decide results: where the spec file lives and where progress goes do not. */
static void result_key(const cdn_jobspec_t *spec, cdn_jobspec_t *key)
{
  *key = *spec;
  memset(key->source, 0, sizeof key->source);
  memset(key->progress, 0, sizeof key->progress); /* watching changes no result */
}

static PetscErrorCode read_text(const char *path, char **text)
{
  FILE  *fp = fopen(path, "rb");
  long   n;

  PetscFunctionBeginUser;
  PetscCheck(fp, PETSC_COMM_SELF, CDN_ERR_OPEN, "%s: cannot read: %s", path, strerror(errno));
  fseek(fp, 0, SEEK_END);
  n = ftell(fp);
  rewind(fp);
  if (n < 0 || PetscMalloc1(n + 1, text) || fread(*text, 1, n, fp) != (size_t)n) {
    fclose(fp);
    SETERRQ(PETSC_COMM_SELF, CDN_ERR_OPEN, "%s: cannot read", path);
  }
  (*text)[n] = '\0';
  fclose(fp);
  PetscFunctionReturn(0);
}

/* Copies the job spec into the folder and checks that the copy says what was parsed (the file
   could have been edited in between). */
static PetscErrorCode copy_spec(const cdn_jobspec_t *spec, const char *outdir)
{
  char          path[PETSC_MAX_PATH_LEN], *text;
  cdn_afile_t   af = {0};
  cdn_jobspec_t copy, a, b;

  PetscFunctionBeginUser;
  PetscCall(read_text(spec->source, &text));
  /* DIR/job.ini for people and `cnndyn predict`, and checkpoints/job.ini, the copy resuming checks
     DIR/job.ini against (check_started_with) */
  for (int k = 0; k < 2; k++) {
    PetscErrorCode ierr;
    snprintf(path, sizeof path, k ? "%s/checkpoints/job.ini" : "%s/job.ini", outdir);
    ierr = cdn_afile_open(&af, path);
    if (!ierr && fputs(text, af.fp) == EOF) {
      cdn_afile_abort(&af);
      ierr = PetscError(PETSC_COMM_SELF, __LINE__, PETSC_FUNCTION_NAME, __FILE__, CDN_ERR_WRITE, PETSC_ERROR_INITIAL,
                        "%s: cannot write", path);
    }
    if (!ierr) ierr = cdn_afile_commit(&af);
    if (ierr) PetscCall(PetscFree(text));
    PetscCall(ierr);
  }
  snprintf(path, sizeof path, "%s/job.ini", outdir);
  PetscCall(cdn_jobspec_parse_string(path, text, &copy));
  PetscCall(PetscFree(text));
  result_key(spec, &a);
  result_key(&copy, &b);
  PetscCheck(!memcmp(&a, &b, sizeof a), PETSC_COMM_SELF, CDN_ERR_INPUT, "%s: changed while the run started", spec->source);
  PetscFunctionReturn(0);
}

/* DIR/checkpoints/job.ini is the job spec as the run started (DIR/job.ini is the copy a user may
   edit, or resume with): if the two would give different results, resuming would mix models of two
   jobs. Runs from before this copy existed have none: nothing to compare then. */
/* Does the job file at path give the same results as spec (result_key: what the CSVs depend on)? */
static PetscErrorCode same_results(const cdn_jobspec_t *spec, const char *path, PetscBool *same)
{
  cdn_jobspec_t started, a, b;
  char         *text;

  PetscFunctionBeginUser;
  PetscCall(read_text(path, &text));
  PetscCall(cdn_jobspec_parse_string(path, text, &started));
  PetscCall(PetscFree(text));
  result_key(spec, &a);
  result_key(&started, &b);
  *same = memcmp(&a, &b, sizeof a) ? PETSC_FALSE : PETSC_TRUE;
  PetscFunctionReturn(0);
}

static PetscErrorCode check_started_with(const cdn_jobspec_t *spec, const char *outdir)
{
  char      path[PETSC_MAX_PATH_LEN];
  PetscBool same;

  PetscFunctionBeginUser;
  snprintf(path, sizeof path, "%s/checkpoints/job.ini", outdir);
  if (!exists(path)) PetscFunctionReturn(0);
  PetscCall(same_results(spec, path, &same));
  PetscCheck(same, PETSC_COMM_SELF, CDN_ERR_INPUT,
             "%s: the job spec changed since the run started (it started with %s): undo the edit to resume, or start a new run in another folder",
             spec->source, path);
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_outdir_prepare(const cdn_jobspec_t *spec, const char *outdir, const cdn_run_options_t *opt,
                                  PetscBool *resuming, PetscBool *complete)
{
  char path[PETSC_MAX_PATH_LEN];

  PetscFunctionBeginUser;
  *resuming = *complete = PETSC_FALSE;
  snprintf(path, sizeof path, "%s/job.ini", outdir);
  if (opt->resume && exists(path)) {
    PetscBool same;
    PetscCall(same_results(spec, path, &same));
    PetscCheck(same, PETSC_COMM_SELF, CDN_ERR_INPUT,
               "%s: differs from %s, the job spec this run started with; resume with that one (cnndyn run --resume %s) or start a new run in another folder",
               spec->source, path, outdir);
    PetscCall(check_started_with(spec, outdir));
    snprintf(path, sizeof path, "%s/checkpoints/complete", outdir);
    *complete = exists(path) ? PETSC_TRUE : PETSC_FALSE;
    /* the marker alone proves nothing (copied, or left by a run whose reports were removed): the
       run is complete when its reports are there too; otherwise resuming writes them again */
    /* a part (run --part) writes only its rows: the last four files, not the prediction outputs */
    for (int i = opt->nparts > 0 ? 4 : 0; i < CDN_REPORT_NFILES && *complete; i++) {
      snprintf(path, sizeof path, "%s/%s", outdir, cdn_report_files[i]);
      if (!exists(path)) {
        printf("cnndyn: %s: checkpoints/complete is there but %s is not: resuming to write the reports again\n",
               outdir, cdn_report_files[i]);
        *complete = PETSC_FALSE;
      }
    }
    *resuming = PETSC_TRUE;
    PetscFunctionReturn(0);
  }
  PetscCall(cdn_outdir_check(outdir, opt->force, spec->snapshots ? PETSC_TRUE : PETSC_FALSE));
  snprintf(path, sizeof path, "%s/checkpoints", outdir);
  PetscCheck(!exists(path), PETSC_COMM_SELF, CDN_ERR_INPUT,
             "--out %s: holds checkpoints of an earlier run; continue it with --resume %s, or remove %s", outdir, outdir,
             path);
  PetscFunctionReturn(0);
}

/* A job killed while writing a checkpoint leaves its temporary file (never a torn checkpoint). */
static void drop_stale_temporaries(const char *dir)
{
  DIR           *d = opendir(dir);
  struct dirent *e;
  char           path[PETSC_MAX_PATH_LEN + 256];

  if (!d) return;
  while ((e = readdir(d)))
    if (strstr(e->d_name, ".tmp.")) {
      snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
      remove(path);
    }
  closedir(d);
}

/* After the data checks passed: the folders and the job spec copy. */
PetscErrorCode cdn_outdir_create(const cdn_jobspec_t *spec, const char *outdir, PetscBool resuming)
{
  char path[PETSC_MAX_PATH_LEN];

  PetscFunctionBeginUser;
  snprintf(path, sizeof path, "%s/logs", outdir);
  PetscCall(cdn_mkdir_p(path));
  snprintf(path, sizeof path, "%s/checkpoints", outdir);
  PetscCall(cdn_mkdir_p(path));
  if (resuming) drop_stale_temporaries(path);
  else PetscCall(copy_spec(spec, outdir));
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_outdir_mark_complete(const char *outdir)
{
  char        path[PETSC_MAX_PATH_LEN];
  cdn_afile_t af = {0};

  PetscFunctionBeginUser;
  snprintf(path, sizeof path, "%s/checkpoints/complete", outdir);
  PetscCall(cdn_afile_open(&af, path));
  fputs("reports written\n", af.fp);
  PetscCall(cdn_afile_commit(&af));
  PetscFunctionReturn(0);
}
