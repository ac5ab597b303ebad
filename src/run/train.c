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

#define rec_curve    cdn_record_curve
#define rec_time     cdn_record_time
#define rec_features cdn_record_features

static PetscErrorCode evaluate(cdn_net_t *net, const cdn_data_t *data, const cdn_images_t *set, double *loss,
                               double *acc)
{
  PetscFunctionBeginUser;
  *loss = *acc = NAN;
  if (set->n > 0) PetscCall(cdn_net_evaluate(net, data, set, loss, acc));
  PetscFunctionReturn(0);
}

static PetscErrorCode snapshot(const char *outdir, int model, int epoch, const cdn_model_desc_t *desc,
                               cdn_snapshot_format_t format)
{
  char dir[PETSC_MAX_PATH_LEN];

  PetscFunctionBeginUser;
  snprintf(dir, sizeof dir, "%s/snapshots/model-%06d", outdir, model);
  if (format == CDN_SNAPSHOT_NPY) PetscCall(cdn_mkdir_p(dir)); /* npz: one file beside it instead */
  snprintf(dir, sizeof dir, "%s/snapshots/model-%06d/epoch-%03d", outdir, model, epoch);
  PetscCall(cdn_snapshot_write_as(dir, desc, format));
  PetscFunctionReturn(0);
}

/* Continues from the model's checkpoint, if it has a sound one: *e0 is the first epoch still to
   run. Snapshot folders from e0 on were written by a run killed before their epoch's checkpoint
   (or after a checkpoint now found damaged): the resumed run writes them again, and snapshots never
   replace an existing folder. */
static PetscErrorCode resume_model(const cdn_jobspec_t *spec, const cdn_model_config_t *cfg, const char *outdir,
                                   int nfeat, double *rec, cdn_rng_t *train_rng, cdn_net_t *net,
                                   cdn_train_ctl_t *ctl, FILE *log, int *e0)
{
  PetscBool found;
  int       done;

  PetscFunctionBeginUser;
  if (!ctl->resume) PetscFunctionReturn(0);
  PetscCall(cdn_ckpt_load(outdir, cfg->id, &done, train_rng, rec, cdn_record_length(spec->epochs, nfeat), net, log,
                          &found));
  if (found) *e0 = done + 1;
  if (found && ctl->team_rank == 0) PetscCall(cdn_pruner_post(ctl->pruner, rec, PETSC_FALSE));
  if (spec->snapshots && ctl->team_rank == 0)
    for (int e = *e0; e <= spec->epochs; e++) {
      char dir[PETSC_MAX_PATH_LEN];
      snprintf(dir, sizeof dir, "%s/snapshots/model-%06d/epoch-%03d", outdir, cfg->id, e);
      PetscCall(cdn_ckpt_drop_snapshot(dir));
    }
  if (found && log) fprintf(log, "model %d: resumed after epoch %d\n", cfg->id, done), fflush(log);
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
  const cdn_layout_t      lay  = cdn_layout_of(spec);
  double                 *c = rec_curve(rec, e), *t = rec_time(rec, E, e), t0;

  PetscFunctionBeginUser;
  PetscCall(PetscLogStagePush(stages->evaluate));
  PetscCall(evaluate(net, data, &data->val, &c[CDN_CURVE_VAL_LOSS], &c[CDN_CURVE_VAL_ACC]));
  PetscCall(PetscLogStagePop());

  t0 = MPI_Wtime();
  PetscCall(PetscLogStagePush(stages->graph));
  /* prediction: the weight-statistics baseline, stored as the last feature columns */
  PetscCall(cdn_layout_weight_row(&lay, desc, rec_features(rec, E, nfeat, e) + nfeat - cdn_layout_weight_count(&lay, desc)));
  PetscCall(PetscLogStagePop());
  t[CDN_TIME_GRAPH] = t_graph + MPI_Wtime() - t0;

  if (spec->snapshots) {
    PetscCall(PetscLogStagePush(stages->snapshot));
    PetscCall(snapshot(outdir, model, e, desc, (cdn_snapshot_format_t)spec->snapshot_format));
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

/* The pruning decision, checkpoint (leader) and the stop decision, which the leader shares with
   its team; failed is the leader's error earlier in this epoch, if any. The decision comes before
   the checkpoint: a run killed in between trains the epoch again and decides the same. *pruned: the
   live policy stopped the model (its record is final); a stop request that came while the decision
   waited for earlier models leaves this epoch unsaved, so that a resumed run decides it. */
static PetscErrorCode epoch_end(const cdn_jobspec_t *spec, const cdn_data_t *data, cdn_net_t *net, int model, int e,
                                const cdn_rng_t *train_rng, double *rec, int nfeat, cdn_train_ctl_t *ctl,
                                PetscBool leader, int team_size, int rank, FILE *log, PetscErrorCode failed,
                                PetscBool *stop, PetscBool *pruned)
{
  PetscErrorCode ierr = failed;
  int            flag = 0; /* 0 go on, 1 stop, 2 the leader failed, 3 pruned */
  char           when[64];

  PetscFunctionBeginUser;
  if (leader) {
    PetscBool prune = PETSC_FALSE, interrupted = PETSC_FALSE;
    if (!ierr) ierr = cdn_pruner_decide(ctl->pruner, ctl, log, rec, e, &prune, &interrupted);
    if (!ierr && prune) { /* the test accuracy where it stops (or would stop): what regret is measured on */
      double loss;
      rec[REC_PRUNED_EPOCH] = e;
      ierr = evaluate(net, data, &data->test, &loss, &rec[REC_PRUNED_TEST_ACC]);
      if (!spec->prune_shadow) rec[REC_STATUS] = CDN_STATUS_PRUNED;
      if (!ierr && log)
        fprintf(log, "model %d: %s after epoch %d (test accuracy %.4f)\n", model,
                spec->prune_shadow ? "would be pruned (shadow)" : "pruned", e, rec[REC_PRUNED_TEST_ACC]), fflush(log);
    }
    /* an interrupted decision left this epoch's score unset: nothing of it goes on the board */
    if (!ierr && !interrupted) ierr = cdn_pruner_post(ctl->pruner, rec, PETSC_FALSE);
    *pruned = prune && !spec->prune_shadow;
    if (!ierr && !interrupted && !*pruned)
      ierr = cdn_ckpt_save(ctl->outdir, model, e, train_rng, rec, cdn_record_length(spec->epochs, nfeat), net);
    if (!ierr) ierr = cdn_test_epoch_pause();
    if (!ierr) ierr = cdn_test_fail_point(rank);
    if (!ierr && cdn_signals_caught()) ierr = cdn_sched_raise_stop(ctl->sched);
    if (!ierr) ierr = cdn_sched_stop_raised(ctl->sched, stop);
    if (interrupted) *stop = PETSC_TRUE;
    if (log && *stop && !ierr) /* which checkpoint a resumed run starts from */
      fprintf(log, interrupted ? "model %d: stopped at the end of epoch %d, not checkpointed (its pruning decision was waiting)\n"
                               : "model %d: stopped after epoch %d, checkpointed\n", model, e), fflush(log);
    flag = ierr ? 2 : *pruned ? 3 : (*stop ? 1 : 0);
  }
  snprintf(when, sizeof when, "at the end of epoch %d", e);
  if (team_size > 1) PetscCall(team_follow(ctl->team, model, when, ierr, &flag));
  PetscCall(ierr);
  *pruned = flag == 3 ? PETSC_TRUE : PETSC_FALSE;
  *stop   = flag == 1 ? PETSC_TRUE : PETSC_FALSE;
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
                                .dropout_placement = (cdn_dropout_placement_t)spec->dropout_placement,
                                .augment      = spec->augment,
                                .pad_value    = -data->mean / data->std,
                                .threads      = spec->threads,
                                .direct_conv  = spec->convolution == 1};
  cdn_net_t              *net;
  cdn_rng_t               init_rng, train_rng;
  cdn_model_graph_t      *mg = NULL;
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
  rec[REC_PRUNED_EPOCH]   = 0;

  PetscCall(cdn_net_create(cfg->arch, tr->c, tr->h, tr->w, data->num_classes, &tc, &net));
  cdn_rng_seed(&init_rng, cfg->seed, STREAM_INIT);
  cdn_rng_seed(&train_rng, cfg->seed, STREAM_TRAIN);
  cdn_net_init(net, &init_rng);
  PetscCall(cdn_model_graph_create(spec, net, cfg->id, ctl, leader, log, &mg));
  if (ctl) PetscCall(resume_model(spec, cfg, outdir, nfeat, rec, &train_rng, net, ctl, leader ? log : NULL, &e0));

  for (int e = e0; e <= E; e++) {
    double *c = rec_curve(rec, e), *t = rec_time(rec, E, e), t0;

    t[CDN_TIME_TRAIN] = 0;
    if (e > 0) {
      t0 = MPI_Wtime();
      PetscCall(PetscLogStagePush(stages->train));
      if (team_size > 1)
        PetscCall(cdn_team_train_epoch(net, data, tr, &train_rng, cfg->seed, e, ctl->team, &c[CDN_CURVE_TRAIN_LOSS]));
      else PetscCall(cdn_net_train_epoch(net, data, tr, &train_rng, NULL, &c[CDN_CURVE_TRAIN_LOSS]));
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
    if (leader || mg->team != MPI_COMM_NULL) {
      PetscErrorCode gerr;
      t0 = MPI_Wtime();
      PetscCall(PetscLogStagePush(stages->graph));
      gerr = cdn_model_graph_epoch(spec, net, mg, leader, rank, cfg->id, e, log, rec_features(rec, E, nfeat, e));
      PetscCall(PetscLogStagePop());
      if (mg->team != MPI_COMM_NULL) PetscCall(gerr); /* the team agreed on it: every member leaves */
      ierr = gerr;
      if (!ierr && leader)
        ierr = measure_epoch(spec, data, net, outdir, cfg->id, e, stages, nfeat, rank, log, ctl, MPI_Wtime() - t0, rec);
    }
    rec[REC_EPOCHS_DONE] = e;
    if (ctl && e < E) {
      PetscBool stop = PETSC_FALSE, pruned = PETSC_FALSE;
      PetscCall(epoch_end(spec, data, net, cfg->id, e, &train_rng, rec, nfeat, ctl, leader, team_size, rank,
                          leader ? log : NULL, ierr, &stop, &pruned));
      if (pruned) break; /* finished: its record is final */
      if (stop) {
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
  PetscCall(cdn_model_graph_destroy(&mg));
  PetscCall(cdn_net_destroy(&net));
  PetscFunctionReturn(0);
}
