/* `cnndyn merge PART... --out DIR`: the folders of a population's part runs (part.c) made into one
   run folder equal to a single run's. The rows are the parts' own bytes: each part printed them
   with the writers of src/report/csv.c from the same model values a whole run has (a model is a
   function of (seed, id) alone), so concatenating them in id order gives a whole run's files; no
   number goes through a parse and reprint. The merged folder is then predicted from its CSVs
   exactly as `cnndyn predict DIR` does (cdn_prediction_stage_dir), which reproduces a run's own
   report byte for byte. Everything is checked before the output folder exists, and the folder is
   built under a temporary name beside it, renamed into place only when whole. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cnndyn/report.h"
#include "run_internal.h"

typedef struct {
  const char *dir;
  int         part, nparts, first, last, population;
} part_t;

static const char *const row_files[] = {"models.csv", "curves.csv", "features.csv", "timing.csv"};

static int exists(const char *path)
{
  struct stat st;
  return stat(path, &st) == 0;
}

/* 1 when both files hold the same bytes. */
static int same_bytes(const char *a, const char *b)
{
  FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
  int   same = fa && fb, ca, cb;
  while (same) {
    ca = getc(fa), cb = getc(fb);
    if (ca != cb) same = 0;
    if (ca == EOF) break;
  }
  if (fa) fclose(fa);
  if (fb) fclose(fb);
  return same;
}

/* A finished part of the same job as the first one; its record in p. */
static PetscErrorCode read_part(const char *dir, const char *first_dir, part_t *p)
{
  char  path[PETSC_MAX_PATH_LEN], ref[PETSC_MAX_PATH_LEN];
  FILE *fp;
  int   ok;

  PetscFunctionBeginUser;
  p->dir = dir;
  snprintf(path, sizeof path, "%s/part.txt", dir);
  fp = fopen(path, "r");
  PetscCheck(fp, PETSC_COMM_SELF, CDN_ERR_INPUT, "%s: not a part run (no part.txt; parts come from cnndyn run --part I/N)",
             dir);
  ok = fscanf(fp, "part = %d/%d models = %d-%d population = %d", &p->part, &p->nparts, &p->first, &p->last,
              &p->population) == 5;
  fclose(fp);
  PetscCheck(ok && p->first >= 0 && p->first <= p->last && p->last < p->population, PETSC_COMM_SELF, CDN_ERR_CORRUPT,
             "%s: not a part record (part = I/N, models = FIRST-LAST, population = SIZE)", path);
  snprintf(path, sizeof path, "%s/job.ini", dir);
  PetscCheck(exists(path), PETSC_COMM_SELF, CDN_ERR_INPUT, "%s: missing: not a cnndyn run folder", path);
  snprintf(ref, sizeof ref, "%s/job.ini", first_dir);
  PetscCheck(same_bytes(path, ref), PETSC_COMM_SELF, CDN_ERR_INPUT,
             "%s: differs from %s: the parts are of different job specs", path, ref);
  snprintf(path, sizeof path, "%s/checkpoints/complete", dir);
  PetscCheck(exists(path), PETSC_COMM_SELF, CDN_ERR_INPUT,
             "%s: part %d/%d is unfinished (no checkpoints/complete); continue it with cnndyn run --resume %s --part %d/%d",
             dir, p->part, p->nparts, dir, p->part, p->nparts);
  PetscFunctionReturn(0);
}

static int by_first(const void *a, const void *b)
{
  const part_t *x = a, *y = b;
  return x->first != y->first ? (x->first > y->first) - (x->first < y->first) : (x->last > y->last) - (x->last < y->last);
}

/* "model id 4" or "model ids 2-4" */
static const char *ids(char *buf, size_t len, int a, int b)
{
  if (a == b) snprintf(buf, len, "model id %d is", a);
  else snprintf(buf, len, "model ids %d-%d are", a, b);
  return buf;
}

/* Sorted by first id, the parts must tile 0 .. population - 1. */
static PetscErrorCode check_cover(int n, const part_t *p)
{
  int  next = 0, P = p[0].population;
  char t[64];

  PetscFunctionBeginUser;
  for (int i = 0; i < n; i++) {
    PetscCheck(p[i].population == P, PETSC_COMM_SELF, CDN_ERR_INPUT, "%s: a part of a population of %d models, %s of %d",
               p[i].dir, p[i].population, p[0].dir, P);
    PetscCheck(p[i].first >= next || i == 0, PETSC_COMM_SELF, CDN_ERR_INPUT,
               "%s in two parts: %s (models %d-%d) and %s (models %d-%d)",
               ids(t, sizeof t, p[i].first, PetscMin(next - 1, p[i].last)), p[i - 1].dir, p[i - 1].first,
               p[i - 1].last, p[i].dir, p[i].first, p[i].last);
    PetscCheck(p[i].first <= next, PETSC_COMM_SELF, CDN_ERR_INPUT,
               "%s in no part given (the population has models 0-%d): merge every part", ids(t, sizeof t, next, p[i].first - 1),
               P - 1);
    next = p[i].last + 1;
  }
  PetscCheck(next == P, PETSC_COMM_SELF, CDN_ERR_INPUT,
             "%s in no part given (the population has models 0-%d): merge every part", ids(t, sizeof t, next, P - 1), P - 1);
  PetscFunctionReturn(0);
}

/* One CSV of every part into dst, rows in (model, epoch) order; each part's rows must name its
   own models, in order, and models.csv every one of them once. */
static PetscErrorCode merge_file(int n, const part_t *p, const char *name, const char *dst)
{
  char          *line = NULL, *header = NULL, path[PETSC_MAX_PATH_LEN];
  size_t         cap = 0;
  long           prev_m = -1, prev_e = -1;
  FILE          *out = fopen(dst, "w"), *in = NULL;
  const int      keyed = strcmp(name, "models.csv") != 0; /* (model, epoch) rows */
  PetscErrorCode ierr  = 0;

  PetscFunctionBeginUser;
  PetscCheck(out, PETSC_COMM_SELF, CDN_ERR_WRITE, "%s: cannot write: %s", dst, strerror(errno));
  for (int i = 0; i < n && !ierr; i++) {
    int lineno = 1, rows = 0;
    snprintf(path, sizeof path, "%s/%s", p[i].dir, name);
    in = fopen(path, "r");
    if (!in || getline(&line, &cap, in) < 0) {
      ierr = PetscError(PETSC_COMM_SELF, __LINE__, PETSC_FUNCTION_NAME, __FILE__, CDN_ERR_OPEN, PETSC_ERROR_INITIAL,
                        "%s: cannot read%s", path, in ? " (empty)" : "");
      if (in) fclose(in);
      break;
    }
    if (!header) {
      header = strdup(line);
      fputs(line, out);
    } else if (strcmp(header, line))
      ierr = PetscError(PETSC_COMM_SELF, __LINE__, PETSC_FUNCTION_NAME, __FILE__, CDN_ERR_CORRUPT, PETSC_ERROR_INITIAL,
                        "%s:1: header differs from %s/%s", path, p[0].dir, name);
    while (!ierr && getline(&line, &cap, in) >= 0) {
      char *end;
      long  m = strtol(line, &end, 10), e = 0;
      lineno++;
      if (keyed && *end == ',') e = strtol(end + 1, &end, 10);
      if (*end != ',' || m < p[i].first || m > p[i].last || m < prev_m || (m == prev_m && (!keyed || e <= prev_e)))
        ierr = PetscError(PETSC_COMM_SELF, __LINE__, PETSC_FUNCTION_NAME, __FILE__, CDN_ERR_CORRUPT, PETSC_ERROR_INITIAL,
                          "%s:%d: row of model %ld out of order or outside the part's models %d-%d", path, lineno, m,
                          p[i].first, p[i].last);
      else {
        rows += m != prev_m;
        prev_m = m, prev_e = e;
        fputs(line, out);
      }
    }
    if (!ierr && rows != p[i].last - p[i].first + 1)
      ierr = PetscError(PETSC_COMM_SELF, __LINE__, PETSC_FUNCTION_NAME, __FILE__, CDN_ERR_CORRUPT, PETSC_ERROR_INITIAL,
                        "%s: rows of %d models, the part has %d (models %d-%d)", path, rows, p[i].last - p[i].first + 1,
                        p[i].first, p[i].last);
    fclose(in);
  }
  free(line);
  free(header);
  if (fclose(out) && !ierr)
    ierr = PetscError(PETSC_COMM_SELF, __LINE__, PETSC_FUNCTION_NAME, __FILE__, CDN_ERR_WRITE, PETSC_ERROR_INITIAL,
                      "%s: write failed", dst);
  PetscCall(ierr);
  PetscFunctionReturn(0);
}

/* The out folder must be absent or empty; the checks of every part before anything is written. */
static PetscErrorCode check_all(int n, char *const *dirs, const char *out, part_t *p)
{
  char        snap[PETSC_MAX_PATH_LEN];
  DIR        *d;
  struct stat st;
  int         with0 = 0;

  PetscFunctionBeginUser;
  PetscCheck(n > 0, PETSC_COMM_SELF, CDN_ERR_INPUT, "merge: no part folders given");
  if (stat(out, &st) == 0) { /* an empty folder is replaced by the rename */
    PetscCheck(S_ISDIR(st.st_mode) && (d = opendir(out)), PETSC_COMM_SELF, CDN_ERR_INPUT,
               "--out %s: exists and is not a folder", out);
    for (struct dirent *e; (e = readdir(d));)
      if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) with0 = 1;
    closedir(d);
    PetscCheck(!with0, PETSC_COMM_SELF, CDN_ERR_INPUT, "--out %s: folder is not empty", out);
  }
  for (int i = 0; i < n; i++) PetscCall(read_part(dirs[i], dirs[0], &p[i]));
  qsort(p, n, sizeof *p, by_first);
  PetscCall(check_cover(n, p));
  for (int i = 0; i < n; i++) { /* snapshots in some parts only: not one job's parts */
    int with;
    snprintf(snap, sizeof snap, "%s/snapshots", p[i].dir);
    with = exists(snap);
    if (i == 0) with0 = with;
    PetscCheck(with == with0, PETSC_COMM_SELF, CDN_ERR_INPUT, "%s: %s snapshots/, %s %s", p[i].dir,
               with ? "has" : "has no", p[0].dir, with0 ? "has" : "has none");
  }
  PetscFunctionReturn(0);
}

/* Root: everything but the prediction, into tmp (removed again on failure). */
static PetscErrorCode build(int n, const part_t *p, const char *tmp)
{
  char src[PETSC_MAX_PATH_LEN], dst[PETSC_MAX_PATH_LEN];

  PetscFunctionBeginUser;
  PetscCall(cdn_mkdir_p(tmp)); /* with out's parents */
  for (int f = 0; f < 4; f++) {
    snprintf(dst, sizeof dst, "%s/%s", tmp, row_files[f]);
    PetscCall(merge_file(n, p, row_files[f], dst));
  }
  for (int f = 0; f < 2; f++) { /* the same in every part: the first one's */
    const char *name = f ? "features_columns.csv" : "job.ini";
    snprintf(src, sizeof src, "%s/%s", p[0].dir, name);
    snprintf(dst, sizeof dst, "%s/%s", tmp, name);
    if (exists(src)) PetscCall(cdn_tree_copy_file(src, dst));
  }
  for (int i = 0; i < n; i++) {
    snprintf(src, sizeof src, "%s/snapshots", p[i].dir);
    snprintf(dst, sizeof dst, "%s/snapshots", tmp);
    if (exists(src)) PetscCall(cdn_tree_link(src, dst));
  }
  snprintf(dst, sizeof dst, "%s/checkpoints", tmp);
  PetscCall(cdn_mkdir_p(dst));
  PetscFunctionReturn(0);
}

/* A merged table that does not load names its temporary folder, gone once the merge fails: the
   message names the output folder (its first len characters: no trailing slash) instead and, for
   a file that does not read (CDN_ERR_CORRUPT), says the lines are the merged files' (each part
   passed its own checks, so the parts disagree). Same on every rank: the message was shared. */
static PetscErrorCode name_merged(PetscErrorCode ierr, const char *tmp, const char *out, size_t len)
{
  const char *m = cdn_error_message(), *at = strstr(m, tmp);
  char       *msg;
  size_t      n;

  if (!at) return ierr;
  n   = strlen(m) + len + 1;
  msg = malloc(n);
  if (!msg) return ierr;
  snprintf(msg, n, "%.*s%.*s%s", (int)(at - m), m, (int)len, out, at + strlen(tmp));
  ierr = PetscError(PETSC_COMM_SELF, __LINE__, PETSC_FUNCTION_NAME, __FILE__, ierr, PETSC_ERROR_INITIAL, "%s%s", msg,
                    ierr == CDN_ERR_CORRUPT ? " (lines of the merged files, which were not written: the parts disagree)" : "");
  free(msg);
  return ierr;
}

PetscErrorCode cdn_run_merge(MPI_Comm comm, int n, char *const *dirs, const char *out, PetscBool quiet)
{
  PetscMPIInt    rank;
  part_t        *p   = NULL;
  char           tmp[PETSC_MAX_PATH_LEN] = "", job[PETSC_MAX_PATH_LEN];
  cdn_jobspec_t  spec;
  PetscErrorCode ierr = 0;
  size_t         len  = strlen(out);

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  while (len > 1 && out[len - 1] == '/') len--; /* out/ and out: the same folder */
  PetscCheck(len + 32 < sizeof tmp, comm, CDN_ERR_INPUT, "%s: path too long", out);
  snprintf(tmp, sizeof tmp, "%.*s.merge.tmp.%ld", (int)len, out, (long)getpid());
  if (rank == 0) {
    ierr = PetscMalloc1(n > 0 ? n : 1, &p);
    if (!ierr) ierr = check_all(n, dirs, out, p);
    if (!ierr) {
      ierr = build(n, p, tmp);
      if (ierr) cdn_tree_remove(tmp);
    }
  }
  PetscCall(cdn_error_share(comm, ierr));
  PetscCallMPI(MPI_Bcast(tmp, sizeof tmp, MPI_CHAR, 0, comm)); /* the root's pid names it */
  snprintf(job, sizeof job, "%s/job.ini", tmp);
  ierr = cdn_jobspec_load(comm, job, &spec);
  if (!ierr) ierr = cdn_prediction_stage_dir(comm, &spec, tmp, quiet);
  if (ierr && cdn_error_is_user(ierr)) ierr = name_merged(ierr, tmp, out, len);
  if (rank == 0) {
    if (!ierr) ierr = cdn_outdir_mark_complete(tmp); /* `run --resume OUT` finds nothing to do */
    if (!ierr && rename(tmp, out) != 0)
      ierr = PetscError(PETSC_COMM_SELF, __LINE__, PETSC_FUNCTION_NAME, __FILE__, CDN_ERR_WRITE, PETSC_ERROR_INITIAL,
                        "%s: cannot rename %s into place: %s", out, tmp, strerror(errno));
    if (ierr) cdn_tree_remove(tmp);
    else if (!quiet) printf("cnndyn: merged %d parts of %d models into %s\n", n, p[0].population, out);
  }
  PetscCall(PetscFree(p));
  PetscCall(cdn_error_share(comm, ierr));
  PetscFunctionReturn(0);
}
