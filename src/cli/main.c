/* cnndyn: the command line. Parses arguments and hands over to the library; holds no logic a
   library user would need. Exit status: 0 success, 1 bad input (one message on stderr), 2 bad
   usage, 3 internal error (PETSc traceback). */
#include <string.h>
#include "cli.h"
#include "cnndyn/util.h"

static const char usage[] =
  "usage: cnndyn run JOB.ini --out DIR [--part I/N] [--force] [--quiet] [--progress ENDPOINT|off] [PETSc options]\n"
  "       cnndyn run [JOB.ini] --resume DIR [--part I/N] [--quiet] [PETSc options]\n"
  "       cnndyn merge PART_DIR... --out DIR [--quiet]\n"
  "       cnndyn graph SNAPSHOT --export FILE.mtx [--unrolled]\n"
  "       cnndyn stats SNAPSHOT [--out FILE.csv] [--unrolled] [--statistics LIST]\n"
  "       cnndyn stats RUN_DIR[/snapshots] [--out FILE.csv] [--unrolled] [--statistics LIST] [--aggregators LIST]\n"
  "       cnndyn watch ENDPOINT [--timeout SECONDS]\n"
  "       cnndyn predict DIR [--job JOB.ini] [--budget K] [--methods LIST] [--learners LIST]\n"
  "                      [--repeats R] [--folds F] [--classes median|terciles|T1,T2]\n"
  "                      [--subsets all,trainable,heldout,wide] [--quiet]\n"
  "                      [--save FILE | --model FILE]\n"
  "       cnndyn --help | --version\n"
  "\n"
  "  run     train the population of JOB.ini (run under mpirun or srun for several ranks) and\n"
  "          write models.csv, curves.csv, timing.csv, features.csv, then predictions.csv,\n"
  "          selection.csv, report.csv, report.md, early_stop.csv and logs/ into DIR; snapshots/\n"
  "          too when the job asks for them\n"
  "          --resume DIR continues a stopped or killed run from its checkpoints (exit 75 means\n"
  "          stopped by SIGTERM/SIGUSR1 and resumable)\n"
  "          --part I/N trains only part I (0 <= I < N) of the population's model ids cut into N\n"
  "          contiguous ranges (Slurm array tasks: --part $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT),\n"
  "          and writes that part's rows without predictions; resume it with the same --part\n"
  "  merge   merge the folders of every part of one population into DIR, a run folder equal to a\n"
  "          whole run's (rows in model order, snapshots linked), and run the prediction stage on it\n"
  "  graph   write a snapshot's rolled weight graph in Matrix Market format\n"
  "  watch   live progress of a run publishing on ENDPOINT (run --progress, [cluster] progress;\n"
  "          default tcp://127.0.0.1:5557); exit 0 when the run ends, 1 when the publisher is gone\n"
  "  stats   per-node statistics of a snapshot's graph as CSV (stdout unless --out); given a run's\n"
  "          snapshots, one features.csv row per snapshot, recomputed without training\n"
  "  predict rerun prediction on a finished run DIR from its CSVs (no training); rewrites its\n"
  "          predictions.csv, selection.csv, report.csv, report.md and early_stop.csv; --save FILE\n"
  "          fits one learner (--learners, default xgboost) for one method (--methods) at --budget\n"
  "          on all its models; --model FILE scores DIR's models with a saved predictor into\n"
  "          DIR/scores.csv;\n"
  "          settings from --job (default DIR/job.ini, the run's own), then the options\n"
  "\n"
  "Options after the first argument that starts with a single '-' go to PETSc, for example\n"
  "  -log_view                          time per pipeline stage\n"
  "  -eigenvector_eps_tol 1e-12         eigenvector centrality solver tolerance\n"
  "  -pagerank_damping 0.9              PageRank damping (also -pagerank_tol, -pagerank_max_it)\n"
  "  -singular_svd_tol 1e-8             per-layer singular value solver tolerance\n"
  "  -cnndyn_xgb_rounds 100             XGBoost rounds (50; also -cnndyn_xgb_max_depth 3,\n"
  "                                     -cnndyn_xgb_colsample 0.5, -cnndyn_xgb_max_bin 32)\n"
  "  -cnndyn_svr_tol 1e-3               SVR solver stopping tolerance (1e-2)\n"
  "See docs/cli.md for every command, jobs/README.md for job specs and docs/formats.md for every output column.\n";

int cdn_cli_usage_error(const char *fmt, const char *arg)
{
  PetscMPIInt rank;
  MPI_Comm_rank(PETSC_COMM_WORLD, &rank);
  if (rank == 0) {
    fprintf(stderr, "cnndyn: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n\n%s", usage);
  }
  return CDN_CLI_USAGE;
}

/* Our arguments end where PETSc's begin: at the first one with a single leading dash. */
static int own_argc(int argc, char **argv)
{
  for (int i = 1; i < argc; i++)
    if (argv[i][0] == '-' && argv[i][1] != '-' && argv[i][1] != '\0') return i;
  return argc;
}

/* `cnndyn --help`, `cnndyn -h` and `cnndyn COMMAND ... --help`: the usage, exit 0. */
static int wants_help(int n, char **argv)
{
  if (!strcmp(argv[1], "-h")) return 1;
  for (int i = 1; i < n; i++)
    if (!strcmp(argv[i], "--help")) return 1;
  return 0;
}

int main(int argc, char **argv)
{
  int            n, status = 0;
  PetscMPIInt    rank;
  PetscErrorCode ierr;

  ierr = cdn_initialize(&argc, &argv, NULL);
  if (ierr) return CDN_CLI_INTERNAL;
  MPI_Comm_rank(PETSC_COMM_WORLD, &rank);
  n = own_argc(argc, argv);
  if (argc >= 2 && wants_help(n, argv)) {
    if (rank == 0) fputs(usage, stdout);
  } else if (n < 2) status = cdn_cli_usage_error("%s", "no command given");
  else if (!strcmp(argv[1], "--version")) {
    if (rank == 0) printf("cnndyn %s\n", CDN_VERSION);
  } else if (!strcmp(argv[1], "run")) status = cdn_cli_run(n - 2, argv + 2, &ierr);
  else if (!strcmp(argv[1], "graph")) status = cdn_cli_graph(n - 2, argv + 2, &ierr);
  else if (!strcmp(argv[1], "stats")) status = cdn_cli_stats(n - 2, argv + 2, &ierr);
  else if (!strcmp(argv[1], "watch")) status = cdn_cli_watch(n - 2, argv + 2, &ierr);
  else if (!strcmp(argv[1], "predict")) status = cdn_cli_predict(n - 2, argv + 2, &ierr);
  else if (!strcmp(argv[1], "merge")) status = cdn_cli_merge(n - 2, argv + 2, &ierr);
  else status = cdn_cli_usage_error("unknown command '%s'", argv[1]);

  if (ierr) {
    status = cdn_error_is_user(ierr) ? CDN_CLI_INPUT : CDN_CLI_INTERNAL;
    if (rank == 0 && status == CDN_CLI_INPUT) fprintf(stderr, "cnndyn: error: %s\n", cdn_error_message());
  }
  if (cdn_finalize()) return CDN_CLI_INTERNAL;
  return status;
}
