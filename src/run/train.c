/* One model's life: initialise, then per epoch train, evaluate, read the weights as a graph and
   summarise it, snapshot. A model that diverges keeps the rows it has and stops there. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "cnndyn/features.h"
#include "cnndyn/graph.h"
#include "cnndyn/nn.h"
#include "cnndyn/run.h"
#include "cnndyn/snapshot.h"
#include "cnndyn/stats.h"
#include "run_internal.h"

/* Random streams of one model, derived from its seed: changing one use never shifts another. */
enum { STREAM_INIT = 1, STREAM_TRAIN = 2 };

int cdn_record_length(int epochs, int nfeat)
{
  return REC_HEADER + (epochs + 1) * (CDN_CURVE_COLS + CDN_TIME_COLS + nfeat);
}

static double *rec_curve(double *rec, int e) { return rec + REC_HEADER + e * CDN_CURVE_COLS; }
static double *rec_time(double *rec, int epochs, int e)
{
  return rec + REC_HEADER + (epochs + 1) * CDN_CURVE_COLS + e * CDN_TIME_COLS;
}
static double *rec_features(double *rec, int epochs, int nfeat, int e)
{
  return rec + REC_HEADER + (epochs + 1) * (CDN_CURVE_COLS + CDN_TIME_COLS) + e * nfeat;
}

static PetscErrorCode evaluate(cdn_net_t *net, const cdn_data_t *data, const cdn_images_t *set, double *loss,
                               double *acc)
{
  PetscFunctionBeginUser;
  *loss = *acc = NAN;
  if (set->n > 0) PetscCall(cdn_net_evaluate(net, data, set, loss, acc));
  PetscFunctionReturn(0);
}

static PetscErrorCode snapshot(const char *outdir, int model, int epoch, const cdn_model_desc_t *desc)
{
  char dir[PETSC_MAX_PATH_LEN];

  PetscFunctionBeginUser;
  snprintf(dir, sizeof dir, "%s/snapshots/model-%06d", outdir, model);
  PetscCall(cdn_mkdir_p(dir));
  snprintf(dir, sizeof dir, "%s/snapshots/model-%06d/epoch-%03d", outdir, model, epoch);
  PetscCall(cdn_snapshot_write(dir, desc));
  PetscFunctionReturn(0);
}

/* Continues from the model's checkpoint, if it has one: *e0 is the first epoch still to run. */
static PetscErrorCode resume_model(const cdn_jobspec_t *spec, const cdn_model_config_t *cfg, const char *outdir,
                                   int nfeat, double *rec, cdn_rng_t *train_rng, cdn_net_t *net,
                                   cdn_train_ctl_t *ctl, FILE *log, int *e0)
{
  PetscBool found;
  int       done;

  PetscFunctionBeginUser;
  if (!ctl->resume) PetscFunctionReturn(0);
  PetscCall(cdn_ckpt_load(outdir, cfg->id, &done, train_rng, rec, cdn_record_length(spec->epochs, nfeat), net, &found));
  if (!found) PetscFunctionReturn(0);
  *e0 = done + 1;
  if (spec->snapshots && ctl->team_rank == 0) {
    char dir[PETSC_MAX_PATH_LEN];
    snprintf(dir, sizeof dir, "%s/snapshots/model-%06d/epoch-%03d", outdir, cfg->id, *e0);
    PetscCall(cdn_ckpt_drop_snapshot(dir));
  }
  if (log) fprintf(log, "model %d: resumed after epoch %d\n", cfg->id, done), fflush(log);
  PetscFunctionReturn(0);
}

/* This model's graph: held by the leader alone on PETSC_COMM_SELF, or, when it has at least
   [graph] distribute_edges edges and the team more than one rank, by the whole team as a parallel
   matrix, each member holding the rows it owns and joining every graph call. */
typedef struct {
  cdn_graph_t g;
  MPI_Comm    team;  /* the team holding the graph; MPI_COMM_NULL when the leader holds it alone */
  char       *state; /* team graphs: the leader's network state, broadcast every epoch */
  size_t      bytes;
} model_graph_t;

/* Pattern once per model; on a team every member plans the same graph and so reaches the same
   decision, and a failure on any member (memory for the pattern, say) or of the leader building
   its own graph stops all of them. */
static PetscErrorCode graph_setup(const cdn_jobspec_t *spec, cdn_net_t *net, int model, const cdn_train_ctl_t *ctl,
                                  PetscBool leader, FILE *log, model_graph_t *mg)
{
  const cdn_model_desc_t *desc = cdn_net_desc(net);
  MPI_Comm                comm = PETSC_COMM_SELF;
  PetscErrorCode          ierr = 0;

  PetscFunctionBeginUser;
  PetscCall(PetscMemzero(mg, sizeof *mg));
  mg->team = MPI_COMM_NULL;
  if (ctl && ctl->team_size > 1 && spec->distribute_edges > 0) {
    PetscCall(cdn_graph_plan_as(desc, spec->unrolled, spec->max_edges, &mg->g));
    comm = cdn_graph_comm_for(ctl->team, mg->g.nedges, spec->distribute_edges);
  }
  if (comm != PETSC_COMM_SELF) {
    mg->team  = comm;
    mg->bytes = cdn_net_state_bytes(net);
    ierr      = PetscMalloc1(mg->bytes, &mg->state);
  }
  if (!ierr && (leader || mg->team != MPI_COMM_NULL))
    ierr = cdn_graph_create_as(comm, desc, spec->unrolled, spec->max_edges, &mg->g);
  if (ctl && ctl->team_size > 1) PetscCall(cdn_error_share(ctl->team, ierr));
  PetscCall(ierr);
  if (mg->team != MPI_COMM_NULL && log)
    fprintf(log, "model %d: graph of %lld edges on a team of %d ranks; this rank owns rows %lld..%lld of %lld\n", model,
            (long long)mg->g.nedges, ctl->team_size, (long long)mg->g.rstart, (long long)mg->g.rend - 1,
            (long long)mg->g.nnodes),
      fflush(log);
  PetscFunctionReturn(0);
}

static PetscErrorCode graph_destroy(model_graph_t *mg)
{
  PetscFunctionBeginUser;
  PetscCall(cdn_graph_destroy(&mg->g));
  PetscCall(PetscFree(mg->state));
  PetscFunctionReturn(0);
}

/* Team members take the leader's network state before they read their rows of the graph. Their
   parameters match the leader's (every member takes the same step from the same summed gradient),
   but their BatchNorm running statistics come from their own slices of each batch (team.c), and
   those scale edges. The state travels in pieces that an int count can address. */
static PetscErrorCode share_state(cdn_net_t *net, model_graph_t *mg, PetscBool leader)
{
  const size_t piece = (size_t)1 << 30;

  PetscFunctionBeginUser;
  if (leader) cdn_net_state_save(net, mg->state);
  for (size_t off = 0; off < mg->bytes; off += piece) {
    size_t n = mg->bytes - off < piece ? mg->bytes - off : piece;
    PetscCallMPI(MPI_Bcast(mg->state + off, (int)n, MPI_BYTE, 0, mg->team));
  }
  if (!leader) PetscCall(cdn_net_state_load(net, mg->state, mg->bytes));
  PetscFunctionReturn(0);
}

/* CNNDYN_TEST_GRAPH_FAULT=R makes the graph statistics on world rank R fail, R:conv fail as a
   solver that did not converge would, after the real statistics ran: tests/teamgraph.sh checks
   that a team member's failure reaches its whole team. Nothing else should set it. */
static PetscErrorCode test_graph_fault(int rank, PetscErrorCode ierr)
{
  const char *v = getenv("CNNDYN_TEST_GRAPH_FAULT");
  char       *end;
  long        r = v ? strtol(v, &end, 10) : -1;

  if (ierr || !v || end == v || r != rank) return ierr;
  if (!strcmp(end, ":conv")) SETERRQ(PETSC_COMM_SELF, PETSC_ERR_CONV_FAILED, "test fault: no convergence on rank %d", rank);
  SETERRQ(PETSC_COMM_SELF, PETSC_ERR_LIB, "test fault on rank %d", rank);
}

/* A solver that does not converge on one model's graph (an eigenproblem with a cluster of top
   eigenvalues, say) costs that model this epoch's graph features, which stay empty, not the whole
   population run. Any other error still stops the run. On a team's graph the members agree on the
   verdict (empty only when no member failed otherwise), so that all leave the statistics alike.
   The statistics' own failures (a solver's verdict) are collective; only a failure inside a
   collective call that a single member raises (memory, say) could still leave the others waiting. */
static PetscErrorCode graph_features(const cdn_jobspec_t *spec, model_graph_t *mg, int rank, int model, int e,
                                     FILE *log, double *row)
{
  PetscErrorCode ierr;
  const char    *why;

  PetscFunctionBeginUser;
  PetscCall(cdn_error_push_quiet());
  ierr = test_graph_fault(rank, cdn_layout_graph_row(spec, &mg->g, row));
  why  = cdn_error_message();
  if (mg->team != MPI_COMM_NULL) {
    int mine = !ierr ? 0 : ierr == PETSC_ERR_CONV_FAILED ? 1 : 2, worst = 2;
    if (MPI_Allreduce(&mine, &worst, 1, MPI_INT, MPI_MAX, mg->team)) ierr = PETSC_ERR_MPI;
    else if (worst == 2) ierr = cdn_error_share(mg->team, mine == 2 ? ierr : 0), why = cdn_error_message();
    else if (worst == 1 && !ierr) ierr = PETSC_ERR_CONV_FAILED, why = "a solver did not converge on another team member";
  }
  PetscCall(cdn_error_pop_quiet());
  if (ierr == PETSC_ERR_CONV_FAILED) {
    for (int k = 0; k < cdn_layout_graph_count(spec, &mg->g); k++) row[k] = NAN;
    if (log) fprintf(log, "model %d epoch %d: graph features left empty: %s\n", model, e, why);
    PetscFunctionReturn(0);
  }
  PetscCheck(!ierr, PETSC_COMM_SELF, ierr, "model %d epoch %d: graph statistics failed: %s", model, e, why);
  PetscFunctionReturn(0);
}

/* This epoch's graph and its features, on every rank that holds the graph. A team graph's outcome
   is the same on every member: the state broadcast and the statistics are collective, and their
   verdict is agreed. */
static PetscErrorCode graph_epoch(const cdn_jobspec_t *spec, cdn_net_t *net, model_graph_t *mg, PetscBool leader,
                                  int rank, int model, int e, FILE *log, double *row)
{
  PetscFunctionBeginUser;
  if (mg->team != MPI_COMM_NULL) PetscCall(share_state(net, mg, leader));
  PetscCall(cdn_graph_set_weights(&mg->g, cdn_net_desc(net)));
  PetscCall(graph_features(spec, mg, rank, model, e, leader ? log : NULL, row));
  PetscFunctionReturn(0);
}

/* The leader's work at an epoch end, after the graph: validation, the weight-statistics baseline,
   snapshot, log, progress. t_graph: seconds the graph took. */
static PetscErrorCode measure_epoch(const cdn_jobspec_t *spec, const cdn_data_t *data, cdn_net_t *net,
                                    const char *outdir, int model, int e, const cdn_stages_t *stages, int nfeat,
                                    int rank, FILE *log, cdn_train_ctl_t *ctl, double t_graph, double *rec)
{
  const int               E    = spec->epochs;
  const cdn_model_desc_t *desc = cdn_net_desc(net);
  double                 *c = rec_curve(rec, e), *t = rec_time(rec, E, e), t0;

  PetscFunctionBeginUser;
  PetscCall(PetscLogStagePush(stages->evaluate));
  PetscCall(evaluate(net, data, &data->val, &c[CDN_CURVE_VAL_LOSS], &c[CDN_CURVE_VAL_ACC]));
  PetscCall(PetscLogStagePop());

  t0 = MPI_Wtime();
  PetscCall(PetscLogStagePush(stages->graph));
  /* prediction: the weight-statistics baseline, stored as the last feature columns */
  PetscCall(cdn_layout_weight_row(spec, desc, rec_features(rec, E, nfeat, e) + nfeat - cdn_layout_weight_count(spec, desc)));
  PetscCall(PetscLogStagePop());
  t[CDN_TIME_GRAPH] = t_graph + MPI_Wtime() - t0;

  if (spec->snapshots) {
    PetscCall(PetscLogStagePush(stages->snapshot));
    PetscCall(snapshot(outdir, model, e, desc));
    PetscCall(PetscLogStagePop());
  }
  if (ctl) cdn_progress_epoch(ctl->progress, model, e, c[CDN_CURVE_TRAIN_LOSS], c[CDN_CURVE_VAL_LOSS], c[CDN_CURVE_VAL_ACC], t[CDN_TIME_TRAIN] + t[CDN_TIME_GRAPH], rank);
  if (log) {
    fprintf(log, "model %d epoch %d: train_loss %.4f val_loss %.4f val_acc %.4f (%.2f s train, %.3f s graph)\n",
            model, e, c[CDN_CURVE_TRAIN_LOSS], c[CDN_CURVE_VAL_LOSS], c[CDN_CURVE_VAL_ACC], t[CDN_TIME_TRAIN],
            t[CDN_TIME_GRAPH]);
    fflush(log);
  }
  PetscFunctionReturn(0);
}

/* A failure of the leader alone (failed: its measurement; or the checkpoint) stops the members too
   instead of leaving them in the team's next collective call: flag 2 tells them. */
static PetscErrorCode team_follow(MPI_Comm team, int model, const char *when, PetscErrorCode failed, int *flag)
{
  PetscFunctionBeginUser;
  if (failed) *flag = 2;
  PetscCallMPI(MPI_Bcast(flag, 1, MPI_INT, 0, team));
  PetscCall(failed);
  PetscCheck(*flag != 2, PETSC_COMM_SELF, PETSC_ERR_LIB, "model %d: the team's leader failed %s", model, when);
  PetscFunctionReturn(0);
}

/* Checkpoint (leader) and the stop decision, which the leader shares with its team; failed is the
   leader's error earlier in this epoch, if any. */
static PetscErrorCode epoch_end(const cdn_jobspec_t *spec, int model, int e, const cdn_rng_t *train_rng, double *rec,
                                int nfeat, cdn_net_t *net, cdn_train_ctl_t *ctl, PetscBool leader, int team_size,
                                int rank, PetscErrorCode failed, PetscBool *stop)
{
  PetscErrorCode ierr = failed;
  int            flag = 0; /* 0 go on, 1 stop, 2 the leader failed */
  char           when[64];

  PetscFunctionBeginUser;
  if (leader) {
    if (!ierr) ierr = cdn_ckpt_save(ctl->outdir, model, e, train_rng, rec, cdn_record_length(spec->epochs, nfeat), net);
    if (!ierr) cdn_test_epoch_pause();
    if (!ierr) ierr = cdn_test_fail_point(rank);
    if (!ierr && cdn_signals_caught()) ierr = cdn_sched_raise_stop(ctl->sched);
    if (!ierr) ierr = cdn_sched_stop_raised(ctl->sched, stop);
    flag = ierr ? 2 : (*stop ? 1 : 0);
  }
  snprintf(when, sizeof when, "at the end of epoch %d", e);
  if (team_size > 1) PetscCall(team_follow(ctl->team, model, when, ierr, &flag));
  PetscCall(ierr);
  *stop = flag == 1 ? PETSC_TRUE : PETSC_FALSE;
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_train_model(const cdn_jobspec_t *spec, const cdn_data_t *data, const cdn_model_config_t *cfg,
                               const char *outdir, const cdn_stages_t *stages, int rank, int nfeat, FILE *log,
                               double *rec, cdn_train_ctl_t *ctl)
{
  const int               E  = spec->epochs;
  cdn_train_config_t      tc = {.lr           = cfg->hp[CDN_HP_LEARNING_RATE],
                                .momentum     = cfg->hp[CDN_HP_MOMENTUM],
                                .weight_decay = cfg->hp[CDN_HP_WEIGHT_DECAY],
                                .dropout      = cfg->hp[CDN_HP_DROPOUT],
                                .init_scale   = cfg->hp[CDN_HP_INIT_SCALE],
                                .batch_size   = (int)cfg->hp[CDN_HP_BATCH_SIZE],
                                .width        = cfg->hp[CDN_HP_WIDTH],
                                .depth        = (int)cfg->hp[CDN_HP_DEPTH],
                                .optimizer    = (cdn_optimizer_t)spec->optimizer,
                                .schedule     = (cdn_schedule_t)spec->schedule,
                                .epochs       = spec->epochs,
                                .step_size    = spec->step_size,
                                .gamma        = spec->gamma,
                                .init         = (cdn_init_t)spec->init,
                                .init_std     = spec->init_std,
                                .augment      = spec->augment,
                                .pad_value    = -data->mean / data->std,
                                .threads      = spec->threads};
  cdn_net_t              *net;
  cdn_rng_t               init_rng, train_rng;
  model_graph_t           mg;
  const cdn_images_t     *tr = &data->train;
  int                     e0 = 0, team_size = ctl ? ctl->team_size : 1;
  PetscBool               leader = !ctl || ctl->team_rank == 0;
  PetscErrorCode          ierr   = 0; /* the leader's failure, shared with the team (team_follow) */

  PetscFunctionBeginUser;
  for (int i = 0; i < cdn_record_length(E, nfeat); i++) rec[i] = NAN;
  rec[REC_MODEL]          = cfg->id;
  rec[REC_STATUS]         = CDN_STATUS_OK;
  rec[REC_DIVERGED_EPOCH] = 0;
  rec[REC_RANK]           = rank;

  PetscCall(cdn_net_create(cfg->arch, tr->c, tr->h, tr->w, data->num_classes, &tc, &net));
  cdn_rng_seed(&init_rng, cfg->seed, STREAM_INIT);
  cdn_rng_seed(&train_rng, cfg->seed, STREAM_TRAIN);
  cdn_net_init(net, &init_rng);
  PetscCall(graph_setup(spec, net, cfg->id, ctl, leader, log, &mg));
  if (ctl) PetscCall(resume_model(spec, cfg, outdir, nfeat, rec, &train_rng, net, ctl, leader ? log : NULL, &e0));

  for (int e = e0; e <= E; e++) {
    double *c = rec_curve(rec, e), *t = rec_time(rec, E, e), t0;

    t[CDN_TIME_TRAIN] = 0;
    if (e > 0) {
      t0 = MPI_Wtime();
      PetscCall(PetscLogStagePush(stages->train));
      if (team_size > 1)
        PetscCall(cdn_team_train_epoch(net, data, tr, &train_rng, cfg->seed, e, tc.batch_size, ctl->team,
                                       &c[CDN_CURVE_TRAIN_LOSS]));
      else PetscCall(cdn_net_train_epoch(net, data, tr, &train_rng, &c[CDN_CURVE_TRAIN_LOSS]));
      PetscCall(PetscLogStagePop());
      t[CDN_TIME_TRAIN] = MPI_Wtime() - t0;
      if (!isfinite(c[CDN_CURVE_TRAIN_LOSS])) {
        c[CDN_CURVE_TRAIN_LOSS] = NAN;
        t[CDN_TIME_TRAIN]       = NAN;
        rec[REC_STATUS]         = CDN_STATUS_DIVERGED;
        rec[REC_DIVERGED_EPOCH] = e;
        if (log && leader) fprintf(log, "model %d epoch %d: diverged (training loss not finite)\n", cfg->id, e), fflush(log);
        break;
      }
    }
    if (leader || mg.team != MPI_COMM_NULL) {
      PetscErrorCode gerr;
      t0 = MPI_Wtime();
      PetscCall(PetscLogStagePush(stages->graph));
      gerr = graph_epoch(spec, net, &mg, leader, rank, cfg->id, e, log, rec_features(rec, E, nfeat, e));
      PetscCall(PetscLogStagePop());
      if (mg.team != MPI_COMM_NULL) PetscCall(gerr); /* the team agreed on it: every member leaves */
      ierr = gerr;
      if (!ierr && leader)
        ierr = measure_epoch(spec, data, net, outdir, cfg->id, e, stages, nfeat, rank, log, ctl, MPI_Wtime() - t0, rec);
    }
    rec[REC_EPOCHS_DONE] = e;
    if (ctl && e < E) {
      PetscBool stop = PETSC_FALSE;
      PetscCall(epoch_end(spec, cfg->id, e, &train_rng, rec, nfeat, net, ctl, leader, team_size, rank, ierr, &stop));
      if (stop) {
        if (log && leader) fprintf(log, "model %d: stopped after epoch %d, checkpointed\n", cfg->id, e), fflush(log);
        ctl->stopped = PETSC_TRUE;
        break;
      }
    }
    if (ierr) break; /* no epoch end to share it at: after the loop */
  }
  if (!ierr && leader && rec[REC_STATUS] == CDN_STATUS_OK && !(ctl && ctl->stopped)) {
    double loss;
    PetscCall(PetscLogStagePush(stages->evaluate));
    ierr = evaluate(net, data, &data->test, &loss, &rec[REC_TEST_ACC]);
    PetscCall(PetscLogStagePop());
  }
  if (team_size > 1) {
    int flag = 0;
    PetscCall(team_follow(ctl->team, cfg->id, "after training", ierr, &flag));
  }
  PetscCall(ierr);
  PetscCall(graph_destroy(&mg));
  cdn_net_destroy(&net);
  PetscFunctionReturn(0);
}
