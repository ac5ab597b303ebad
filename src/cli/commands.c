/* The run command (graph and stats: graph_cmds.c). Each command parses its arguments strictly, then calls one library function. */
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
  const char       *job = NULL, *out = NULL;
  cdn_run_options_t opt = {PETSC_FALSE, PETSC_FALSE};
  cdn_jobspec_t     spec;

  *ierr = 0;
  for (int i = 0; i < argc; i++) {
    if (!strcmp(argv[i], "--out")) {
      if (++i == argc) return cdn_cli_usage_error("%s", "--out needs a folder");
      out = argv[i];
    } else if (!strcmp(argv[i], "--force")) opt.force = PETSC_TRUE;
    else if (!strcmp(argv[i], "--quiet")) opt.quiet = PETSC_TRUE;
    else if (argv[i][0] == '-') return cdn_cli_usage_error("run: unknown option '%s'", argv[i]);
    else if (job) return cdn_cli_usage_error("run: unexpected argument '%s' (one job file only)", argv[i]);
    else job = argv[i];
  }
  if (!job) return cdn_cli_usage_error("%s", "run: no job file given");
  if (!out) return cdn_cli_usage_error("%s", "run: --out DIR is required");
  *ierr = cdn_jobspec_load(PETSC_COMM_WORLD, job, &spec);
  if (!*ierr) *ierr = cdn_run(PETSC_COMM_WORLD, &spec, out, &opt);
  return 0;
}

/* graph and stats live in graph_cmds.c. */
