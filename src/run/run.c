/* cdn_run: the pipeline of DESIGN.md from a validated job spec to the CSV reports. */
#include <math.h>
#include "cnndyn/evaluate.h"
#include "cnndyn/graph.h"
#include "cnndyn/nn.h"
#include "cnndyn/report.h"
#include "cnndyn/run.h"
#include "cnndyn/stats.h"
#include "run_internal.h"

/* Feature names come from the graph of an untrained network: the pattern is fixed per architecture. */
static PetscErrorCode feature_layout(const cdn_jobspec_t *spec, const cdn_data_t *data, int *nfeat,
                                     char (**names)[64])
{
  cdn_train_config_t tc = {.lr = 0.1, .batch_size = 1, .init_scale = 1};
  cdn_net_t         *net;
  cdn_graph_t        g;

  PetscFunctionBeginUser;
  PetscCall(cdn_net_create(spec->architecture, data->train.c, data->train.h, data->train.w, data->num_classes, &tc,
                           &net));
  PetscCall(cdn_graph_create(PETSC_COMM_SELF, cdn_net_desc(net), &g));
  *nfeat = cdn_feature_count(&g, spec->stat_mask, spec->agg_mask);
  PetscCall(PetscMalloc1(*nfeat, names));
  PetscCall(cdn_feature_names(&g, spec->stat_mask, spec->agg_mask, *names));
  PetscCall(cdn_graph_destroy(&g));
  cdn_net_destroy(&net);
  PetscFunctionReturn(0);
}

/* Root: everything after the gather. Its error is returned to the caller, which shares it with the
   ranks waiting for the root. */
static PetscErrorCode predict_and_report(const cdn_jobspec_t *spec, int num_classes, int N, const double *all,
                                         int nfeat, char (*names)[64], const char *outdir,
                                         const cdn_run_options_t *opt, PetscLogStage stage, double t0)
{
  cdn_results_t    res = {0};
  cdn_evaluation_t ev;

  PetscFunctionBeginUser;
  PetscCall(PetscLogStagePush(stage));
  PetscCall(cdn_results_from_records(spec, N, all, nfeat, &res));
  PetscCall(PetscMalloc1(nfeat, &res.feat_names));
  PetscCall(PetscArraycpy(res.feat_names, names, nfeat));
  res.num_classes = num_classes;
  PetscCall(cdn_evaluate(spec, &res, &ev));
  PetscCall(cdn_report_write(outdir, &res, &ev));
  if (!opt->quiet) {
    cdn_report_print_summary(stdout, &res, &ev);
    printf("Reports in %s (%.1f s)\n", outdir, MPI_Wtime() - t0);
    fflush(stdout);
  }
  PetscCall(cdn_evaluation_free(&ev));
  PetscCall(cdn_results_free(&res));
  PetscCall(PetscLogStagePop());
  PetscFunctionReturn(0);
}

/* How well the dynamic schedule kept ranks busy: each rank's training time against the wall time
   of the training phase (the difference is time spent waiting for the slowest rank). */
static PetscErrorCode report_balance(MPI_Comm comm, double busy, double wall)
{
  double mn, mx, sum;
  int    size;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_size(comm, &size));
  PetscCallMPI(MPI_Reduce(&busy, &mn, 1, MPI_DOUBLE, MPI_MIN, 0, comm));
  PetscCallMPI(MPI_Reduce(&busy, &mx, 1, MPI_DOUBLE, MPI_MAX, 0, comm));
  PetscCallMPI(MPI_Reduce(&busy, &sum, 1, MPI_DOUBLE, MPI_SUM, 0, comm));
  PetscCall(PetscPrintf(comm, "cnndyn: training took %.1f s; ranks idle %.1f%% of it waiting for the last model\n", wall,
                        wall > 0 ? 100.0 * (size * wall - sum) / (size * wall) : 0.0));
  PetscFunctionReturn(0);
}

/* Trains the models this rank takes from the shared counter, appending their records to *recs
   (grown as needed). The error, if any, is returned rather than raised so that the caller can
   share it with every rank before anyone waits in the gather; it also raises the stop word so
   that the other ranks do not train the rest of the population for nothing. */
static PetscErrorCode train_share(const cdn_jobspec_t *spec, const cdn_data_t *data, const char *outdir, int rank,
                                  int nfeat, const cdn_stages_t *st, cdn_sched_t *sched, double **recs, int *nmine,
                                  double *busy)
{
  const int N = cdn_population_size(spec), len = cdn_record_length(spec->epochs, nfeat);
  char      path[PETSC_MAX_PATH_LEN];
  FILE     *log;
  int       cap = 0;
  double    t0  = MPI_Wtime();

  PetscFunctionBeginUser;
  snprintf(path, sizeof path, "%s/logs/rank-%d.log", outdir, rank);
  log = fopen(path, "w");
  PetscCheck(log, PETSC_COMM_SELF, CDN_ERR_WRITE, "%s: cannot write", path);
  *nmine = 0;
  for (;;) {
    cdn_model_config_t cfg;
    PetscErrorCode     ierr = 0;
    long               m;
    PetscBool          stop;

    PetscCall(cdn_sched_stop_raised(sched, &stop));
    if (stop) break;
    PetscCall(cdn_sched_next(sched, &m));
    if (m >= N) break;
    if (*nmine == cap) {
      double *grown;
      cap = cap ? 2 * cap : 4;
      ierr = PetscMalloc1((size_t)cap * len, &grown);
      if (!ierr) ierr = PetscArraycpy(grown, *recs, (size_t)(*nmine) * len);
      if (!ierr) ierr = PetscFree(*recs);
      if (!ierr) *recs = grown;
    }
    if (!ierr) {
      cdn_population_config(spec, (int)m, &cfg);
      ierr = cdn_train_model(spec, data, &cfg, outdir, st, rank, nfeat, log, *recs + (size_t)(*nmine) * len);
    }
    if (ierr) {
      fclose(log);
      (void)cdn_sched_raise_stop(sched);
    }
    PetscCall(ierr);
    (*nmine)++;
  }
  *busy = MPI_Wtime() - t0;
  fprintf(log, "rank %d: %d models in %.2f s\n", rank, *nmine, *busy);
  fclose(log);
  PetscFunctionReturn(0);
}

/* Root receives every rank's records; their order does not matter (records name their model). */
static PetscErrorCode gather_records(MPI_Comm comm, int size, int len, const double *mine, int nmine, double *all)
{
  PetscMPIInt rank;
  int        *counts = NULL, *displs = NULL, mycount = nmine * len;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  if (rank == 0) PetscCall(PetscMalloc2(size, &counts, size, &displs));
  PetscCallMPI(MPI_Gather(&mycount, 1, MPI_INT, counts, 1, MPI_INT, 0, comm));
  if (rank == 0)
    for (int r = 0, off = 0; r < size; r++) displs[r] = off, off += counts[r];
  PetscCallMPI(MPI_Gatherv(mine, mycount, MPI_DOUBLE, all, counts, displs, MPI_DOUBLE, 0, comm));
  if (rank == 0) PetscCall(PetscFree2(counts, displs));
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_run(MPI_Comm comm, const cdn_jobspec_t *spec, const char *outdir, const cdn_run_options_t *opt)
{
  PetscMPIInt      rank, size;
  cdn_data_t       data;
  cdn_stages_t     st;
  PetscLogStage    predict_stage;
  int              N = cdn_population_size(spec), nfeat = 0, len, nmine = 0;
  cdn_sched_t      sched;
  double           busy = 0, t_train;
  char (*names)[64];
  double          *mine, *all = NULL;
  PetscErrorCode   ierr = 0;
  double           t0 = MPI_Wtime();

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  PetscCallMPI(MPI_Comm_size(comm, &size));
  PetscCall(PetscLogStageRegister("Train", &st.train));
  PetscCall(PetscLogStageRegister("Evaluate", &st.evaluate));
  PetscCall(PetscLogStageRegister("Graph+stats", &st.graph));
  PetscCall(PetscLogStageRegister("Snapshot", &st.snapshot));
  PetscCall(PetscLogStageRegister("Predict+report", &predict_stage));

  /* Everything that can be wrong with the input is found before the output folder exists. */
  if (rank == 0) ierr = cdn_outdir_check(outdir, opt->force, spec->snapshots ? PETSC_TRUE : PETSC_FALSE);
  PetscCall(cdn_error_share(comm, ierr));
  PetscCall(cdn_data_load(comm, spec, &data));
  if (rank == 0) {
    ierr = cdn_mkdir_p(outdir);
    if (!ierr) {
      char logs[PETSC_MAX_PATH_LEN];
      snprintf(logs, sizeof logs, "%s/logs", outdir);
      ierr = cdn_mkdir_p(logs);
    }
  }
  PetscCall(cdn_error_share(comm, ierr));
  PetscCall(feature_layout(spec, &data, &nfeat, &names));
  len = cdn_record_length(spec->epochs, nfeat);
  PetscCall(PetscPrintf(comm, "cnndyn: %d models x %d epochs on %d rank%s; %d/%d/%d train/validation/test images; logs in %s/logs\n",
                        N, spec->epochs, size, size > 1 ? "s" : "", data.train.n, data.val.n, data.test.n, outdir));
  t_train = MPI_Wtime();

  PetscCall(cdn_sched_create(comm, 0, &sched));
  mine = NULL;
  ierr = train_share(spec, &data, outdir, rank, nfeat, &st, &sched, &mine, &nmine, &busy);
  PetscCall(cdn_error_share(comm, ierr));
  PetscCall(cdn_sched_destroy(&sched));

  if (rank == 0) PetscCall(PetscMalloc1((size_t)N * len + 1, &all));
  PetscCall(gather_records(comm, size, len, mine, nmine, all));
  PetscCall(PetscFree(mine));
  PetscCall(report_balance(comm, busy, MPI_Wtime() - t_train));

  if (rank == 0) ierr = predict_and_report(spec, data.num_classes, N, all, nfeat, names, outdir, opt, predict_stage, t0);
  PetscCall(PetscFree(all));
  PetscCall(PetscFree(names));
  PetscCall(cdn_error_share(comm, ierr));
  cdn_data_free(&data);
  PetscFunctionReturn(0);
}
