/* One model's life: initialise, then per epoch train, evaluate, read the weights as a graph and
   summarise it, snapshot. A model that diverges keeps the rows it has and stops there. */
#include <math.h>
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

PetscErrorCode cdn_train_model(const cdn_jobspec_t *spec, const cdn_data_t *data, const cdn_model_config_t *cfg,
                               const char *outdir, const cdn_stages_t *stages, int rank, int nfeat, FILE *log,
                               double *rec)
{
  const int               E  = spec->epochs;
  cdn_train_config_t      tc = {.lr           = cfg->hp[CDN_HP_LEARNING_RATE],
                                .momentum     = cfg->hp[CDN_HP_MOMENTUM],
                                .weight_decay = cfg->hp[CDN_HP_WEIGHT_DECAY],
                                .dropout      = cfg->hp[CDN_HP_DROPOUT],
                                .init_scale   = cfg->hp[CDN_HP_INIT_SCALE],
                                .batch_size   = (int)cfg->hp[CDN_HP_BATCH_SIZE]};
  cdn_net_t              *net;
  cdn_rng_t               init_rng, train_rng;
  cdn_graph_t             g;
  const cdn_model_desc_t *desc;
  const cdn_images_t     *tr = &data->train;

  PetscFunctionBeginUser;
  for (int i = 0; i < cdn_record_length(E, nfeat); i++) rec[i] = NAN;
  rec[REC_MODEL]          = cfg->id;
  rec[REC_STATUS]         = CDN_STATUS_OK;
  rec[REC_DIVERGED_EPOCH] = 0;
  rec[REC_RANK]           = rank;

  PetscCall(cdn_net_create(spec->architecture, tr->c, tr->h, tr->w, data->num_classes, &tc, &net));
  cdn_rng_seed(&init_rng, cfg->seed, STREAM_INIT);
  cdn_rng_seed(&train_rng, cfg->seed, STREAM_TRAIN);
  cdn_net_init(net, &init_rng);
  desc = cdn_net_desc(net);
  PetscCall(cdn_graph_create(PETSC_COMM_SELF, desc, &g));

  for (int e = 0; e <= E; e++) {
    double *c = rec_curve(rec, e), *t = rec_time(rec, E, e), t0;

    t[CDN_TIME_TRAIN] = 0;
    if (e > 0) {
      t0 = MPI_Wtime();
      PetscCall(PetscLogStagePush(stages->train));
      PetscCall(cdn_net_train_epoch(net, data, tr, &train_rng, &c[CDN_CURVE_TRAIN_LOSS]));
      PetscCall(PetscLogStagePop());
      t[CDN_TIME_TRAIN] = MPI_Wtime() - t0;
      if (!isfinite(c[CDN_CURVE_TRAIN_LOSS])) {
        c[CDN_CURVE_TRAIN_LOSS] = NAN;
        t[CDN_TIME_TRAIN]       = NAN;
        rec[REC_STATUS]         = CDN_STATUS_DIVERGED;
        rec[REC_DIVERGED_EPOCH] = e;
        if (log) fprintf(log, "model %d epoch %d: diverged (training loss not finite)\n", cfg->id, e), fflush(log);
        break;
      }
    }
    PetscCall(PetscLogStagePush(stages->evaluate));
    PetscCall(evaluate(net, data, &data->val, &c[CDN_CURVE_VAL_LOSS], &c[CDN_CURVE_VAL_ACC]));
    PetscCall(PetscLogStagePop());

    t0 = MPI_Wtime();
    PetscCall(PetscLogStagePush(stages->graph));
    PetscCall(cdn_graph_set_weights(&g, desc));
    PetscCall(cdn_graph_features(&g, spec->stat_mask, spec->agg_mask, rec_features(rec, E, nfeat, e)));
    /* prediction: the weight-statistics baseline, stored as the last feature columns */
    PetscCall(cdn_weight_stats(desc, rec_features(rec, E, nfeat, e) + nfeat - cdn_weight_stats_count(desc)));
    PetscCall(PetscLogStagePop());
    t[CDN_TIME_GRAPH] = MPI_Wtime() - t0;

    if (spec->snapshots) {
      PetscCall(PetscLogStagePush(stages->snapshot));
      PetscCall(snapshot(outdir, cfg->id, e, desc));
      PetscCall(PetscLogStagePop());
    }
    rec[REC_EPOCHS_DONE] = e;
    if (log) {
      fprintf(log, "model %d epoch %d: train_loss %.4f val_loss %.4f val_acc %.4f (%.2f s train, %.3f s graph)\n",
              cfg->id, e, c[CDN_CURVE_TRAIN_LOSS], c[CDN_CURVE_VAL_LOSS], c[CDN_CURVE_VAL_ACC], t[CDN_TIME_TRAIN],
              t[CDN_TIME_GRAPH]);
      fflush(log);
    }
  }
  if (rec[REC_STATUS] == CDN_STATUS_OK) {
    double loss;
    PetscCall(PetscLogStagePush(stages->evaluate));
    PetscCall(evaluate(net, data, &data->test, &loss, &rec[REC_TEST_ACC]));
    PetscCall(PetscLogStagePop());
  }
  PetscCall(cdn_graph_destroy(&g));
  cdn_net_destroy(&net);
  PetscFunctionReturn(0);
}
