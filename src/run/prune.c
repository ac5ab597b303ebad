/* [pruning]: the population stops its own unpromising models while it trains.

   Determinism decides the design. Every decision is a pure function of the job spec: the run
   trains its models in one fixed random order (a permutation of the ids seeded by the spec's
   seed, so that a grid's slowest axis does not put all small learning rates first), and the
   decision for the model at position p at epoch t reads only the models at positions below p,
   waiting for any that has not reached epoch t yet. Arrival order, rank count and restarts change
   when a decision is made, never what it is.

   The evidence lives on a board: an MPI window on the root with one slot per decision epoch and
   position (plus a "finished" slot), written once each with atomic replace and read with atomic
   fetch, so no rank ever waits on the root's attention (the model counter's design, schedule.c).
   A slot holds the model's score at that epoch (validation accuracy for halving, the predicted
   final accuracy for predictor), OUT when the model left the race before (pruned, shadow-pruned
   or diverged), or PENDING. What a slot holds follows from the model's record alone (post), so a
   resumed run rebuilds the board from checkpoints and makes the same decisions.

   The rule, at decision epoch t for the model at position p past the first min_finished positions:
   n = the models at positions <= p still in the race at t, better = those of them before p whose
   score is at least p's; p goes on when better < f * n, f = 1/eta (halving: ASHA's promotion of
   the top 1/eta) or 1 - quantile (predictor: stop below the quantile of the predictions so far).
   The first min_finished positions are never stopped; the predictor policy fits its learner on
   them (method + learner), or scores them with the saved one (model = FILE), once all have
   finished, so its comparisons include them. */
#include <math.h>
#include <string.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>
#include "cnndyn/evaluate.h"
#include "cnndyn/util.h"
#include "run_internal.h"

#define PENDING 1e300  /* not known yet */
#define OUT     -1e300 /* not in the race at this epoch */
#define LOW     -1e299 /* in the race with a non-finite score: ranks below every finite one */
#define MAX_POINTS 32

struct cdn_pruner {
  const cdn_jobspec_t *spec;
  const char          *outdir;
  const cdn_column_t  *cols;
  int                  N, nfeat, len, num_classes, warmup;
  int                 *order, *pos_of;
  int                  npoints, point_epoch[MAX_POINTS];
  double               keep;  /* the fraction that goes on */
  MPI_Win              win;
  double              *base;  /* the board, on the root: slot-major, (npoints + 1) x N */
  cdn_scorer_t        *scorer;
  PetscBool            fitted;     /* the scorer was fitted during the run, on the first positions */
  PetscBool            idle;       /* predictor: too few first models reached k to fit on: no decisions */
  double              *warm_score; /* predictor, saved scorer: the first positions' scores (OUT: not in the race) */
  double               waited;     /* seconds this rank waited for earlier models */
};

int cdn_pruner_model(const cdn_pruner_t *p, long pos) { return p ? p->order[pos] : (int)pos; }
double cdn_pruner_waited(const cdn_pruner_t *p) { return p ? p->waited : 0; }

/* Decision epochs: halving's rungs first_rung * eta^i below the last epoch; predictor's k. */
static void decision_epochs(const cdn_jobspec_t *spec, int k, int *n, int *epoch)
{
  *n = 0;
  if (spec->prune_policy == CDN_PRUNE_PREDICTOR) epoch[(*n)++] = k;
  else
    for (long t = spec->prune_first_rung; t < spec->epochs && *n < MAX_POINTS; t *= spec->prune_eta) epoch[(*n)++] = (int)t;
}

/* The copy of a saved predictor that the run decides with: a resumed run uses the same one even
   if the file named by the job spec changed since. */
static void predictor_copy(const char *outdir, char *path, size_t n) { snprintf(path, n, "%s/checkpoints/pruning.predictor", outdir); }

static int exists(const char *path) { return access(path, F_OK) == 0; }

/* The run's order of the N model ids: one permutation seeded by the job seed. */
static void run_order(const cdn_jobspec_t *spec, int N, int *order)
{
  cdn_rng_t rng;

  for (int i = 0; i < N; i++) order[i] = i;
  cdn_rng_seed(&rng, spec->seed, 0x7072756e65ull); /* "prune" */
  cdn_rng_shuffle(&rng, order, N);
}

/* A predictor fitted during the run learns from the first min_finished models of the order: every
   architecture of the population must be among them, or it would stop models of a family it has
   never seen (a saved predictor is held to the same by its fitted_on line). */
static PetscErrorCode warmup_families(const cdn_jobspec_t *spec)
{
  const int N = cdn_population_size(spec), W = PetscMin(spec->prune_min_finished, N);
  int      *order;

  PetscFunctionBeginUser;
  if (spec->narchs < 2) PetscFunctionReturn(0);
  PetscCall(PetscMalloc1(N, &order));
  run_order(spec, N, order);
  for (int a = 0; a < spec->narchs; a++) {
    int seen = 0;
    for (int i = 0; i < W && !seen; i++) {
      cdn_model_config_t c;
      cdn_population_config(spec, order[i], &c);
      seen = !strcmp(c.arch, spec->archs[a]);
    }
    if (!seen) {
      PetscCall(PetscFree(order));
      SETERRQ(PETSC_COMM_SELF, CDN_ERR_INPUT,
              "%s: [pruning] min_finished: the first %d models of the run's order (the predictor is fitted on them) "
              "hold no %s model; raise min_finished so that every architecture is among them",
              spec->source, W, spec->archs[a]);
    }
  }
  PetscCall(PetscFree(order));
  PetscFunctionReturn(0);
}

/* Methods that read the validation curves: with no validation set they would see NaN only. */
static int reads_validation(int method)
{
  return method == CDN_METHOD_VAL_ACC || method == CDN_METHOD_VAL_LOSS || method == CDN_METHOD_CURVE ||
         method == CDN_METHOD_GRAPH_CURVE;
}

/* The run's columns as a results table of one model per architecture, no values: what a saved
   predictor's inputs are checked against before any training. Architecture is the population's
   slowest axis, so model a * N / narchs is of architecture a. */
static PetscErrorCode layout_table(const cdn_jobspec_t *spec, int nfeat, const cdn_column_t *cols, cdn_results_t *res)
{
  const int N = cdn_population_size(spec), A = spec->narchs;

  PetscFunctionBeginUser;
  PetscCall(cdn_results_alloc_models(res, A));
  PetscCall(cdn_results_alloc_epochs(res, spec->epochs, nfeat));
  for (int a = 0; a < A; a++) cdn_population_config(spec, a * (N / A), &res->config[a]), res->epochs_done[a] = spec->epochs;
  PetscCall(PetscArraycpy(res->columns, cols, nfeat));
  res->num_classes = 10;
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_pruner_check(const cdn_jobspec_t *spec, const char *outdir, PetscBool resuming, int nfeat,
                                const cdn_column_t *cols)
{
  char           path[PETSC_MAX_PATH_LEN];
  cdn_scorer_t  *s;
  cdn_results_t *res = NULL;
  PetscErrorCode ierr;

  PetscFunctionBeginUser;
  if (spec->prune_policy == CDN_PRUNE_PREDICTOR && !spec->prune_model[0]) PetscCall(warmup_families(spec));
  if (spec->prune_policy != CDN_PRUNE_PREDICTOR || !spec->prune_model[0]) PetscFunctionReturn(0);
  predictor_copy(outdir, path, sizeof path);
  PetscCall(cdn_scorer_load(resuming && exists(path) ? path : spec->prune_model, &s));
  if (reads_validation(cdn_scorer_info(s)->method) && spec->validation_size == 0) {
    const char *method = cdn_method_name(cdn_scorer_info(s)->method);
    PetscCall(cdn_scorer_destroy(&s));
    SETERRQ(PETSC_COMM_SELF, CDN_ERR_INPUT, "%s: [pruning] model: its method %s reads validation curves, and this job's "
            "[data] validation_size is 0", spec->source, method);
  }
  ierr = cdn_scorer_info(s)->budget < 1 || cdn_scorer_info(s)->budget >= spec->epochs
             ? PetscError(PETSC_COMM_SELF, __LINE__, PETSC_FUNCTION_NAME, __FILE__, CDN_ERR_INPUT, PETSC_ERROR_INITIAL,
                          "%s: [pruning] model: fitted at %d epochs; a decision needs 1 .. %d (this job's epochs - 1)",
                          spec->source, cdn_scorer_info(s)->budget, spec->epochs - 1)
             : 0;
  if (!ierr) ierr = cdn_results_create(&res);
  if (!ierr) ierr = layout_table(spec, nfeat, cols, res);
  if (!ierr) ierr = cdn_scorer_check(s, res); /* width, statistics, families: refused before any training */
  PetscCall(cdn_results_destroy(&res));
  PetscCall(cdn_scorer_destroy(&s));
  PetscCall(ierr);
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_pruner_create(MPI_Comm comm, const cdn_jobspec_t *spec, const char *outdir, PetscBool resuming,
                                 int nfeat, const cdn_column_t *cols, int num_classes, cdn_pruner_t **out)
{
  cdn_pruner_t  *p;
  PetscMPIInt    rank;
  int            N = cdn_population_size(spec);
  MPI_Aint       bytes;
  PetscErrorCode ierr = 0;

  PetscFunctionBeginUser;
  *out = NULL;
  if (spec->prune_policy == CDN_PRUNE_NONE) PetscFunctionReturn(0);
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  PetscCall(PetscNew(&p));
  *p = (cdn_pruner_t){.spec = spec, .outdir = outdir, .cols = cols, .N = N, .nfeat = nfeat,
                      .len = cdn_record_length(spec->epochs, nfeat), .num_classes = num_classes,
                      .warmup = PetscMin(spec->prune_min_finished, N)};
  p->keep = spec->prune_policy == CDN_PRUNE_HALVING ? 1.0 / spec->prune_eta : 1.0 - spec->prune_quantile;
  PetscCall(PetscMalloc2(N, &p->order, N, &p->pos_of));
  run_order(spec, N, p->order);
  for (int i = 0; i < N; i++) p->pos_of[p->order[i]] = i;

  if (spec->prune_policy == CDN_PRUNE_PREDICTOR && spec->prune_model[0]) {
    char copy[PETSC_MAX_PATH_LEN];
    predictor_copy(outdir, copy, sizeof copy);
    if (rank == 0 && !(resuming && exists(copy))) { /* whole or not at all: a resumed run trusts it */
      char tmp[PETSC_MAX_PATH_LEN + 8];
      snprintf(tmp, sizeof tmp, "%s.tmp", copy);
      ierr = cdn_tree_copy_file(spec->prune_model, tmp);
      if (!ierr && rename(tmp, copy))
        ierr = PetscError(PETSC_COMM_SELF, __LINE__, PETSC_FUNCTION_NAME, __FILE__, CDN_ERR_WRITE, PETSC_ERROR_INITIAL,
                          "%s: cannot write", copy);
    }
    PetscCall(cdn_error_share(comm, ierr));
    ierr = cdn_scorer_load(copy, &p->scorer);
    PetscCall(cdn_error_share(comm, ierr));
  }
  decision_epochs(spec, p->scorer ? cdn_scorer_info(p->scorer)->budget : spec->prune_k, &p->npoints, p->point_epoch);

  bytes = rank == 0 ? (MPI_Aint)sizeof(double) * (p->npoints + 1) * N : 0;
  PetscCallMPI(MPI_Win_allocate(bytes, sizeof(double), MPI_INFO_NULL, comm, &p->base, &p->win));
  if (rank == 0)
    for (size_t i = 0; i < (size_t)(p->npoints + 1) * N; i++) p->base[i] = PENDING;
  PetscCallMPI(MPI_Barrier(comm)); /* no rank reads the board before the root has cleared it */
  PetscCallMPI(MPI_Win_lock_all(MPI_MODE_NOCHECK, p->win));
  *out = p;
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_pruner_destroy(cdn_pruner_t **pp)
{
  cdn_pruner_t *p = *pp;

  PetscFunctionBeginUser;
  if (!p) PetscFunctionReturn(0);
  PetscCallMPI(MPI_Win_unlock_all(p->win));
  PetscCallMPI(MPI_Win_free(&p->win));
  PetscCall(cdn_scorer_destroy(&p->scorer));
  PetscCall(PetscFree2(p->order, p->pos_of));
  PetscCall(PetscFree(p->warm_score));
  PetscCall(PetscFree(p));
  *pp = NULL;
  PetscFunctionReturn(0);
}

/* What a model's record says for decision point d: its score, OUT or PENDING. */
static double slot_value(const cdn_pruner_t *p, const double *rec, int d, PetscBool finished)
{
  const int t = p->point_epoch[d], done = (int)rec[REC_EPOCHS_DONE], pe = (int)rec[REC_PRUNED_EPOCH];
  double    s;

  if (pe > 0 && t > pe) return OUT; /* stopped (or, in shadow mode, would have been) before t */
  if (t > done) return finished ? OUT : PENDING;
  s = p->spec->prune_policy == CDN_PRUNE_PREDICTOR ? rec[REC_PRUNE_SCORE] : cdn_record_curve((double *)rec, t)[CDN_CURVE_VAL_ACC];
  return isfinite(s) ? s : LOW;
}

PetscErrorCode cdn_pruner_post(cdn_pruner_t *p, const double *rec, PetscBool finished)
{
  const int pos = p ? p->pos_of[(int)rec[REC_MODEL]] : 0;

  PetscFunctionBeginUser;
  if (!p) PetscFunctionReturn(0);
  for (int d = 0; d <= p->npoints; d++) {
    double v = d < p->npoints ? slot_value(p, rec, d, finished) : finished ? 1.0 : PENDING;
    if (v == PENDING) continue;
    PetscCallMPI(MPI_Accumulate(&v, 1, MPI_DOUBLE, 0, (MPI_Aint)d * p->N + pos, 1, MPI_DOUBLE, MPI_REPLACE, p->win));
  }
  PetscCallMPI(MPI_Win_flush(0, p->win));
  PetscFunctionReturn(0);
}

/* Slots [lo, hi) of point d into v, waiting until none is PENDING; *interrupted when a stop was
   requested meanwhile (the caller then stops without deciding). */
static PetscErrorCode wait_slots(cdn_pruner_t *p, cdn_train_ctl_t *ctl, int d, int lo, int hi, double *v,
                                 PetscBool *interrupted)
{
  double t0 = MPI_Wtime(), nap = 1e-3;
  int    at = lo;

  PetscFunctionBeginUser;
  *interrupted = PETSC_FALSE;
  while (at < hi) {
    PetscBool stop;
    PetscCallMPI(MPI_Get_accumulate(NULL, 0, MPI_DOUBLE, v + at - lo, hi - at, MPI_DOUBLE, 0, (MPI_Aint)d * p->N + at,
                                    hi - at, MPI_DOUBLE, MPI_NO_OP, p->win));
    PetscCallMPI(MPI_Win_flush(0, p->win));
    while (at < hi && v[at - lo] != PENDING) at++;
    if (at == hi) break;
    if (cdn_signals_caught()) PetscCall(cdn_sched_raise_stop(ctl->sched));
    PetscCall(cdn_sched_stop_raised(ctl->sched, &stop));
    if (stop) {
      *interrupted = PETSC_TRUE;
      break;
    }
    nanosleep(&(struct timespec){.tv_nsec = (long)(nap * 1e9)}, NULL);
    nap = PetscMin(2 * nap, 0.05);
  }
  p->waited += MPI_Wtime() - t0;
  PetscFunctionReturn(0);
}

/* The records of the first min_finished positions, in id order, as a results table. */
static PetscErrorCode warmup_table(cdn_pruner_t *p, cdn_results_t **res)
{
  const int      W = p->warmup;
  int           *ids;
  double        *recs;
  PetscErrorCode ierr = 0;

  PetscFunctionBeginUser;
  PetscCall(PetscMalloc2(W, &ids, (size_t)W * p->len, &recs));
  for (int i = 0; i < W; i++) ids[i] = p->order[i];
  PetscCall(PetscSortInt(W, ids));
  for (int i = 0; i < W && !ierr; i++) {
    PetscBool found;
    ierr = cdn_ckpt_load_done(p->outdir, ids[i], recs + (size_t)i * p->len, p->len, NULL, &found);
    if (!ierr && !found)
      ierr = PetscError(PETSC_COMM_SELF, __LINE__, PETSC_FUNCTION_NAME, __FILE__, CDN_ERR_OPEN, PETSC_ERROR_INITIAL,
                        "[pruning]: model %d finished but its record in %s/checkpoints cannot be read", ids[i], p->outdir);
  }
  if (!ierr) ierr = cdn_results_from_records(p->spec, 0, ids, W, recs, p->nfeat, res);
  PetscCall(PetscFree2(ids, recs));
  PetscCall(ierr);
  (*res)->num_classes = p->num_classes;
  PetscCall(PetscArraycpy((*res)->columns, p->cols, p->nfeat));
  PetscFunctionReturn(0);
}

/* Predictor: once the first min_finished positions have finished, the scorer. Fitted during the
   run, it learns from those of them that reached the decision epoch (a model that diverged before
   has no inputs there); with fewer than 4 of them, or one final accuracy for all, it could only
   predict a constant, so no model is stopped (the rank's log says so). A saved scorer also scores
   them, out of sample, for the comparisons; a fitted one has seen their labels, so they are left
   out of the comparisons (their fitted values would be in-sample). */
static PetscErrorCode warm_up(cdn_pruner_t *p, cdn_train_ctl_t *ctl, FILE *log, PetscBool *interrupted)
{
  const int      W = p->warmup, k = p->point_epoch[0];
  cdn_results_t *res = NULL, *fit = NULL;
  double        *v, *pred = NULL;
  int           *cls = NULL;
  char          *keep = NULL;
  PetscErrorCode ierr = 0;

  PetscFunctionBeginUser;
  if (p->warm_score || p->idle) PetscFunctionReturn(0);
  PetscCall(PetscMalloc1(W, &v));
  ierr = wait_slots(p, ctl, p->npoints, 0, W, v, interrupted);
  PetscCall(PetscFree(v));
  PetscCall(ierr);
  if (*interrupted) PetscFunctionReturn(0);
  PetscCall(warmup_table(p, &res));
  if (!p->scorer) {
    int    n = 0, varied = 0;
    double first = NAN;
    PetscCall(PetscMalloc1(W, &keep));
    for (int i = 0; i < W; i++) {
      keep[i] = res->epochs_done[i] >= k;
      if (!keep[i]) continue;
      if (!n++) first = cdn_results_label(res, i);
      varied |= cdn_results_label(res, i) != first;
    }
    if (n < 4 || !varied) {
      p->idle = PETSC_TRUE;
      if (log)
        fprintf(log, "[pruning]: %d of the first %d models reached epoch %d%s: too little to fit on, no model is stopped\n", n,
                W, k, n >= 4 ? ", all with one final accuracy" : ""), fflush(log);
    }
    if (!p->idle) ierr = cdn_results_select(res, keep, &fit);
    if (!ierr && !p->idle)
      ierr = cdn_scorer_fit(p->spec, (cdn_method_t)p->spec->prune_method, (cdn_learner_t)p->spec->prune_learner, k, fit,
                            "[pruning] predictor fitted on the first finished models", &p->scorer);
    p->fitted = PETSC_TRUE;
  }
  if (!ierr && !p->idle) ierr = PetscMalloc1(W, &p->warm_score);
  /* only a saved scorer's values of them are compared: a fitted one's are in-sample */
  if (!ierr && !p->idle && !p->fitted) ierr = PetscMalloc2(W, &pred, W, &cls);
  if (!ierr && !p->idle && !p->fitted) ierr = cdn_scorer_predict(p->scorer, res, pred, cls);
  for (int i = 0; i < W && !ierr && !p->idle; i++) /* res is in id order; warm_score by position */
    p->warm_score[p->pos_of[res->config[i].id]] =
      p->fitted || res->epochs_done[i] < k ? OUT : isfinite(pred[i]) ? pred[i] : LOW;
  if (pred) PetscCall(PetscFree2(pred, cls));
  if (ierr) PetscCall(PetscFree(p->warm_score));
  PetscCall(PetscFree(keep));
  PetscCall(cdn_results_destroy(&fit));
  PetscCall(cdn_results_destroy(&res));
  PetscCall(ierr);
  PetscFunctionReturn(0);
}

/* Predictor: the model's own predicted final accuracy from its record through epoch k. */
static PetscErrorCode own_score(cdn_pruner_t *p, const double *rec, double *score)
{
  cdn_results_t *res = NULL;
  int            cls;
  PetscErrorCode ierr;

  PetscFunctionBeginUser;
  PetscCall(cdn_results_from_records(p->spec, (int)rec[REC_MODEL], NULL, 1, rec, p->nfeat, &res));
  res->num_classes = p->num_classes;
  PetscCall(PetscArraycpy(res->columns, p->cols, p->nfeat));
  ierr = cdn_scorer_predict(p->scorer, res, score, &cls);
  PetscCall(cdn_results_destroy(&res));
  PetscCall(ierr);
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_pruner_decide(cdn_pruner_t *p, cdn_train_ctl_t *ctl, FILE *log, double *rec, int e, PetscBool *prune,
                                 PetscBool *interrupted)
{
  const int model = (int)rec[REC_MODEL];
  int       d = 0, pos, lo, n = 1, better = 0;
  double    score, *v;

  PetscFunctionBeginUser;
  *prune = *interrupted = PETSC_FALSE;
  if (!p) PetscFunctionReturn(0);
  while (d < p->npoints && p->point_epoch[d] != e) d++;
  pos = p->pos_of[model];
  if (d == p->npoints || pos < p->warmup) PetscFunctionReturn(0); /* no decision here; the first are kept */
  if (rec[REC_PRUNED_EPOCH] > 0) PetscFunctionReturn(0);            /* shadow mode: decided already */
  if (p->spec->prune_policy == CDN_PRUNE_PREDICTOR) {
    PetscCall(warm_up(p, ctl, log, interrupted));
    if (*interrupted || p->idle) PetscFunctionReturn(0);
    PetscCall(own_score(p, rec, &rec[REC_PRUNE_SCORE]));
  }
  score = slot_value(p, rec, d, PETSC_FALSE);
  /* predictor: the first positions' scores are the warm-up's, the board holds the others' */
  lo = p->spec->prune_policy == CDN_PRUNE_PREDICTOR ? p->warmup : 0;
  PetscCall(PetscMalloc1(pos - lo + 1, &v));
  PetscCall(wait_slots(p, ctl, d, lo, pos, v, interrupted));
  for (int j = 0; j < pos && !*interrupted; j++) {
    double s = j < lo ? p->warm_score[j] : v[j - lo];
    if (s == OUT) continue;
    n++;
    better += s > score; /* a tie is not better: "not below the quantile" goes on */
  }
  PetscCall(PetscFree(v));
  if (*interrupted) PetscFunctionReturn(0);
  /* better < keep * n, with keep = 1/eta or 1 - quantile read as the exact decimal the job spec
     gave (1 - 0.7 is 0.30000000000000004 in binary: 3 of 10 must not pass as below 3.0000000000000004) */
  *prune = (double)better < p->keep * n - 1e-9 ? PETSC_FALSE : PETSC_TRUE;
  PetscFunctionReturn(0);
}
