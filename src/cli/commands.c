/* The three commands. Each parses its arguments strictly, then calls one library function. */
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
  cdn_run_options_t opt = {PETSC_FALSE, PETSC_FALSE, PETSC_FALSE, NULL};
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
  if (!*ierr) *ierr = cdn_run(PETSC_COMM_WORLD, &spec, out, &opt, &stopped);
  if (!*ierr && stopped) {
    PetscPrintf(PETSC_COMM_WORLD, "cnndyn: stopped on request; every finished epoch is checkpointed: continue with cnndyn run --resume %s\n", out);
    return CDN_CLI_RESUMABLE;
  }
  return 0;
}

/* graph and stats read one snapshot on rank 0; other ranks have nothing to do. */
static PetscErrorCode graph_export(const char *snap, const char *mtx)
{
  cdn_model_desc_t desc;
  cdn_graph_t      g;

  PetscFunctionBeginUser;
  PetscCall(cdn_snapshot_read(snap, &desc));
  PetscCall(cdn_graph_create(PETSC_COMM_SELF, &desc, &g));
  PetscCall(cdn_graph_set_weights(&g, &desc));
  PetscCall(cdn_graph_export_mtx(&g, mtx));
  PetscCall(PetscPrintf(PETSC_COMM_SELF, "%s: %d nodes, %d edges\n", mtx, (int)g.nnodes, (int)g.nedges));
  PetscCall(cdn_graph_destroy(&g));
  cdn_snapshot_free(&desc);
  PetscFunctionReturn(0);
}

static PetscErrorCode node_stats(const char *snap, const char *csv)
{
  cdn_model_desc_t desc;
  cdn_graph_t      g;
  PetscReal       *deg, *cent, lambda;
  cdn_afile_t      af = {0};
  FILE            *fp = stdout;

  PetscFunctionBeginUser;
  PetscCall(cdn_snapshot_read(snap, &desc));
  PetscCall(cdn_graph_create(PETSC_COMM_SELF, &desc, &g));
  PetscCall(cdn_graph_set_weights(&g, &desc));
  PetscCall(PetscMalloc2(g.nnodes, &deg, g.nnodes, &cent));
  PetscCall(cdn_stat_degree(g.A, deg));
  PetscCall(cdn_stat_eigenvector(g.A, cent, &lambda));
  if (csv) {
    PetscCall(cdn_afile_open(&af, csv));
    fp = af.fp;
  }
  fprintf(fp, "node,layer,channel,degree,eigenvector\n");
  for (PetscInt v = 0; v < g.nnodes; v++) {
    int      grp;
    PetscInt local;
    cdn_graph_node_group(&g, v, &grp, &local);
    fprintf(fp, "%d,%s,%d,%.9g,%.9g\n", (int)v, g.group_name[grp], (int)local, (double)deg[v], (double)cent[v]);
  }
  if (csv) PetscCall(cdn_afile_commit(&af));
  PetscCall(PetscFree2(deg, cent));
  PetscCall(cdn_graph_destroy(&g));
  cdn_snapshot_free(&desc);
  PetscFunctionReturn(0);
}

static int snapshot_command(int argc, char **argv, PetscErrorCode *ierr, const char *cmd, const char *flag)
{
  const char *snap = NULL, *file = NULL;
  PetscMPIInt rank;

  *ierr = 0;
  for (int i = 0; i < argc; i++) {
    if (!strcmp(argv[i], flag)) {
      if (++i == argc) return cdn_cli_usage_error("%s needs a file name", flag);
      file = argv[i];
    } else if (argv[i][0] == '-') return cdn_cli_usage_error("unknown option '%s'", argv[i]);
    else if (snap) return cdn_cli_usage_error("unexpected argument '%s' (one snapshot only)", argv[i]);
    else snap = argv[i];
  }
  if (!snap) return cdn_cli_usage_error("%s: no snapshot folder given", cmd);
  MPI_Comm_rank(PETSC_COMM_WORLD, &rank);
  if (!strcmp(cmd, "graph")) {
    if (!file) return cdn_cli_usage_error("%s", "graph: --export FILE.mtx is required");
    if (rank == 0) *ierr = graph_export(snap, file);
  } else if (rank == 0) *ierr = node_stats(snap, file);
  *ierr = cdn_error_share(PETSC_COMM_WORLD, *ierr);
  return 0;
}

int cdn_cli_graph(int argc, char **argv, PetscErrorCode *ierr) { return snapshot_command(argc, argv, ierr, "graph", "--export"); }
int cdn_cli_stats(int argc, char **argv, PetscErrorCode *ierr) { return snapshot_command(argc, argv, ierr, "stats", "--out"); }
