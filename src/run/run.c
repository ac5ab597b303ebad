/* cdn_run: the pipeline of DESIGN.md from a validated job spec to the CSV reports. */
#include <math.h>
#include "cnndyn/evaluate.h"
#include "cnndyn/features.h"
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
  /* prediction: the weight-statistics baseline's columns follow the graph features (src/features) */
  PetscCall(PetscMalloc1(*nfeat + cdn_weight_stats_count(cdn_net_desc(net)), names));
  PetscCall(cdn_feature_names(&g, spec->stat_mask, spec->agg_mask, *names));
  cdn_weight_stats_names(cdn_net_desc(net), *names + *nfeat);
  *nfeat += cdn_weight_stats_count(cdn_net_desc(net));
  PetscCall(cdn_graph_destroy(&g));
  cdn_net_destroy(&net);
  PetscFunctionReturn(0);
}

/* Everything after the gather, on every rank: the root unpacks the records, then the prediction
   stage (src/report/stage.c) shares its tasks over the ranks. Errors reach every rank. */
static PetscErrorCode predict_and_report(MPI_Comm comm, const cdn_jobspec_t *spec, int num_classes, int N,
                                         const double *all, int nfeat, char (*names)[64], const char *outdir,
                                         const cdn_run_options_t *opt, PetscLogStage stage, double t0)
{
  cdn_results_t  res = {0};
  PetscMPIInt    rank;
  PetscErrorCode ierr = 0;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  PetscCall(PetscLogStagePush(stage));
  if (rank == 0) {
    ierr = cdn_results_from_records(spec, N, all, nfeat, &res);
    if (!ierr) ierr = PetscMalloc1(nfeat, &res.feat_names);
    if (!ierr) ierr = PetscArraycpy(res.feat_names, names, nfeat);
    res.num_classes = num_classes;
  }
  PetscCall(cdn_error_share(comm, ierr));
  PetscCall(cdn_prediction_stage(comm, spec, &res, outdir, PETSC_FALSE, opt->quiet ? PETSC_TRUE : PETSC_FALSE));
  if (!opt->quiet && rank == 0) {
    printf("Reports in %s (%.1f s)\n", outdir, MPI_Wtime() - t0);
    fflush(stdout);
  }
  PetscCall(cdn_results_free(&res));
  PetscCall(PetscLogStagePop());
  PetscFunctionReturn(0);
}

/* Trains this rank's share; the error, if any, is returned rather than raised so that the caller
   can share it with every rank before anyone waits in the gather. */
static PetscErrorCode train_share(const cdn_jobspec_t *spec, const cdn_data_t *data, const char *outdir, int rank,
                                  int size, int nfeat, const cdn_stages_t *st, double *recs, int *nmine)
{
  const int N = cdn_population_size(spec), len = cdn_record_length(spec->epochs, nfeat);
  char      path[PETSC_MAX_PATH_LEN];
  FILE     *log;

  PetscFunctionBeginUser;
  snprintf(path, sizeof path, "%s/logs/rank-%d.log", outdir, rank);
  log = fopen(path, "w");
  PetscCheck(log, PETSC_COMM_SELF, CDN_ERR_WRITE, "%s: cannot write", path);
  *nmine = 0;
  for (int m = rank; m < N; m += size) {
    cdn_model_config_t cfg;
    PetscErrorCode     ierr;
    cdn_population_config(spec, m, &cfg);
    ierr = cdn_train_model(spec, data, &cfg, outdir, st, rank, nfeat, log, recs + (size_t)(*nmine) * len);
    if (ierr) fclose(log);
    PetscCall(ierr);
    (*nmine)++;
  }
  fclose(log);
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_run(MPI_Comm comm, const cdn_jobspec_t *spec, const char *outdir, const cdn_run_options_t *opt)
{
  PetscMPIInt      rank, size;
  cdn_data_t       data;
  cdn_stages_t     st;
  PetscLogStage    predict_stage;
  int              N = cdn_population_size(spec), nfeat = 0, len, nmine = 0, *counts = NULL, *displs = NULL;
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

  PetscCall(PetscMalloc1((size_t)((N + size - 1) / size) * len + 1, &mine));
  ierr = train_share(spec, &data, outdir, rank, size, nfeat, &st, mine, &nmine);
  PetscCall(cdn_error_share(comm, ierr));

  if (rank == 0) {
    PetscCall(PetscMalloc1(size, &counts));
    PetscCall(PetscMalloc1(size, &displs));
    PetscCall(PetscMalloc1((size_t)N * len + 1, &all));
    for (int r = 0, off = 0; r < size; r++) {
      int nr    = N / size + (r < N % size);
      counts[r] = nr * len;
      displs[r] = off;
      off += counts[r];
    }
  }
  PetscCallMPI(MPI_Gatherv(mine, nmine * len, MPI_DOUBLE, all, counts, displs, MPI_DOUBLE, 0, comm));
  PetscCall(PetscFree(mine));

  ierr = predict_and_report(comm, spec, data.num_classes, N, all, nfeat, names, outdir, opt, predict_stage, t0);
  PetscCall(PetscFree(all));
  PetscCall(PetscFree(counts));
  PetscCall(PetscFree(displs));
  PetscCall(PetscFree(names));
  PetscCall(cdn_error_share(comm, ierr));
  cdn_data_free(&data);
  PetscFunctionReturn(0);
}
