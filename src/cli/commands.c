/* The run command (graph and stats: graph_cmds.c). Each command parses its arguments strictly, then calls one library function. */
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "cnndyn/graph.h"
#include "cnndyn/jobspec.h"
#include "cnndyn/run.h"
#include "cnndyn/snapshot.h"
#include "cnndyn/stats.h"
#include "cnndyn/util.h"

int cdn_cli_run(int argc, char **argv, PetscErrorCode *ierr)
{
  const char       *job = NULL, *out = NULL, *resume = NULL;
  cdn_run_options_t opt = {PETSC_FALSE, PETSC_FALSE, PETSC_FALSE, NULL, 0, 0};
  cdn_jobspec_t     spec;
  char              copy[PETSC_MAX_PATH_LEN];
  PetscBool         stopped = PETSC_FALSE;

  *ierr = 0;
  for (int i = 0; i < argc; i++) {
    if (!strcmp(argv[i], "--out")) {
      if (++i == argc) return cdn_cli_usage_error("%s", "--out needs a folder");
      out = argv[i];
    } else if (!strcmp(argv[i], "--resume")) {
      if (++i == argc) return cdn_cli_usage_error("%s", "--resume needs the run's folder");
      resume = argv[i];
    } else if (!strcmp(argv[i], "--progress")) {
      if (++i == argc) return cdn_cli_usage_error("%s", "--progress needs an endpoint (tcp://HOST:PORT) or off");
      opt.progress = strcmp(argv[i], "off") ? argv[i] : "";
      if (opt.progress[0] && cdn_endpoint_problem(opt.progress)) {
        char why[PETSC_MAX_PATH_LEN + 128];
        snprintf(why, sizeof why, "'%s' %s, or off", argv[i], cdn_endpoint_problem(argv[i]));
        return cdn_cli_usage_error("--progress %s", why);
      }
    } else if (!strcmp(argv[i], "--part")) {
      char c;
      if (++i == argc || sscanf(argv[i], "%d/%d%c", &opt.part, &opt.nparts, &c) != 2 || opt.nparts < 1 ||
          opt.part < 0 || opt.part >= opt.nparts)
        return cdn_cli_usage_error("run: --part needs I/N with 0 <= I < N (got '%s')", i < argc ? argv[i] : "");
    } else if (!strcmp(argv[i], "--force")) opt.force = PETSC_TRUE;
    else if (!strcmp(argv[i], "--quiet")) opt.quiet = PETSC_TRUE;
    else if (argv[i][0] == '-') return cdn_cli_usage_error("run: unknown option '%s'", argv[i]);
    else if (job) return cdn_cli_usage_error("run: unexpected argument '%s' (one job file only)", argv[i]);
    else job = argv[i];
  }
  if (resume) {
    /* --resume DIR: the job spec is DIR/job.ini unless given (then it must match that copy) */
    if (out && strcmp(out, resume)) return cdn_cli_usage_error("%s", "run: --resume DIR writes into DIR: drop --out");
    out = resume;
    opt.resume = PETSC_TRUE;
    snprintf(copy, sizeof copy, "%s/job.ini", resume);
    if (!job) job = copy;
  }
  if (!job) return cdn_cli_usage_error("%s", "run: no job file given");
  if (!out) return cdn_cli_usage_error("%s", "run: --out DIR is required");
  *ierr = cdn_jobspec_load(PETSC_COMM_WORLD, job, &spec);
  if (!*ierr) cdn_snapshot_set_format((cdn_snapshot_format_t)spec.snapshot_format);
  if (!*ierr) *ierr = cdn_run(PETSC_COMM_WORLD, &spec, out, &opt, &stopped);
  if (!*ierr && stopped) {
    PetscPrintf(PETSC_COMM_WORLD, "cnndyn: stopped on request; every finished epoch is checkpointed: continue with cnndyn run --resume %s\n", out);
    return CDN_CLI_RESUMABLE;
  }
  return 0;
}

/* cnndyn merge PART... --out DIR: the parts of a population (run --part I/N) into one run folder. */
int cdn_cli_merge(int argc, char **argv, PetscErrorCode *ierr)
{
  const char *out = NULL;
  char      **dirs;
  int         n = 0;
  PetscBool   quiet = PETSC_FALSE;

  *ierr = 0;
  if (!(dirs = calloc(argc + 1, sizeof *dirs))) return CDN_CLI_INTERNAL;
  for (int i = 0; i < argc; i++) {
    if (!strcmp(argv[i], "--out")) {
      if (++i == argc) return free(dirs), cdn_cli_usage_error("%s", "merge: --out needs a folder");
      out = argv[i];
    } else if (!strcmp(argv[i], "--quiet")) quiet = PETSC_TRUE;
    else if (argv[i][0] == '-') return free(dirs), cdn_cli_usage_error("merge: unknown option '%s'", argv[i]);
    else dirs[n++] = argv[i];
  }
  if (!n) return free(dirs), cdn_cli_usage_error("%s", "merge: no part folders given");
  if (!out) return free(dirs), cdn_cli_usage_error("%s", "merge: --out DIR is required");
  *ierr = cdn_run_merge(PETSC_COMM_WORLD, n, dirs, out, quiet);
  free(dirs);
  return 0;
}

/* graph and stats live in graph_cmds.c. */
