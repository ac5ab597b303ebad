#pragma once
/* Pieces of the run module shared between its files. */
#include "cnndyn/data.h"
#include "cnndyn/graph.h"
#include "cnndyn/nn.h"
#include "cnndyn/jobspec.h"
#include "cnndyn/layout.h"
#include "cnndyn/population.h"
#include "cnndyn/progress.h"
#include "cnndyn/results.h"
#include "cnndyn/run.h"

typedef struct {
  PetscLogStage train, evaluate, graph, snapshot;
} cdn_stages_t;

/* The shared model counter (schedule.c). */
typedef struct {
  MPI_Win win;
  long   *base;
  int     locked; /* the passive-target epoch is open */
} cdn_sched_t;

/* Collective: the counter starts at first. *s is allocated here, NULL after an error. */
PetscErrorCode cdn_sched_create(MPI_Comm comm, int first, cdn_sched_t **s);
/* The next model id for this rank (ids past the population mean: no work left). */
PetscErrorCode cdn_sched_next(cdn_sched_t *s, long *model);
/* Asks every rank to stop after its current epoch; any rank may poll. */
PetscErrorCode cdn_sched_raise_stop(cdn_sched_t *s);
PetscErrorCode cdn_sched_stop_raised(cdn_sched_t *s, PetscBool *stop);
/* Collective: frees the window and *s; *s NULL afterwards (NULL is fine). */
PetscErrorCode cdn_sched_destroy(cdn_sched_t **s);

/* Root, before any work (resume.c): a resumable folder (opt->resume and DIR/job.ini present: the
   spec must match it; *complete when its reports were written), else a folder fit for a new run. */
PetscErrorCode cdn_outdir_prepare(const cdn_jobspec_t *spec, const char *outdir, const cdn_run_options_t *opt,
                                  PetscBool *resuming, PetscBool *complete);
PetscErrorCode cdn_outdir_create(const cdn_jobspec_t *spec, const char *outdir, PetscBool resuming);
PetscErrorCode cdn_outdir_mark_complete(const char *outdir);
/* Root: records the data set's checksums in outdir/checkpoints (a new run), or checks the data
   files against that record (resuming: CDN_ERR_INPUT naming a changed file); data_record.c. */
PetscErrorCode cdn_data_record(const cdn_jobspec_t *spec, const char *outdir, PetscBool resuming);
/* Checks that outdir is absent, empty, or (force) holds no snapshots that this run would write over. */
PetscErrorCode cdn_outdir_check(const char *outdir, PetscBool force, PetscBool snapshots);

/* ---- part runs (part.c) -------------------------------------------------------------------- */
/* Root. A new run records its part in DIR/part.txt (nothing for a whole run); a resumed one must
   name the same part as that record, so that no model is trained into the wrong folder. */
PetscErrorCode cdn_part_check(const char *outdir, const cdn_run_options_t *opt, int N, PetscBool resuming);
PetscErrorCode cdn_part_write(const char *outdir, const cdn_run_options_t *opt, int N);
/* merge_tree.c: src's files hard-linked (copied across file systems) into dst, created as needed;
   a file already in dst is CDN_ERR_INPUT. And rm -r, quietly, for a failed merge's folder. */
PetscErrorCode cdn_tree_link(const char *src, const char *dst);
PetscErrorCode cdn_tree_copy_file(const char *src, const char *dst);
void           cdn_tree_remove(const char *path);

/* ---- checkpoints (checkpoint.c) ------------------------------------------------------------ */
PetscErrorCode cdn_ckpt_save(const char *outdir, int model, int epoch, const cdn_rng_t *rng, const double *rec,
                             int reclen, const cdn_net_t *net);
/* *found false (and nothing changed) when the model has no checkpoint, or a damaged one (a bad
   checksum, size or header), which is then reported on stderr and in log unless log is NULL (team
   members, who read the leader's file too): the model starts again from scratch. */
PetscErrorCode cdn_ckpt_load(const char *outdir, int model, int *epoch, cdn_rng_t *rng, double *rec, int reclen,
                             cdn_net_t *net, FILE *log, PetscBool *found);
/* The finished record replaces the model's checkpoint; a damaged one is handled as above. */
PetscErrorCode cdn_ckpt_save_done(const char *outdir, int model, const double *rec, int reclen);
PetscErrorCode cdn_ckpt_load_done(const char *outdir, int model, double *rec, int reclen, FILE *log, PetscBool *found);
PetscErrorCode cdn_ckpt_drop_snapshot(const char *dir);

/* ---- stop requests (signals.c) ------------------------------------------------------------- */
void cdn_signals_install(void);
int  cdn_signals_caught(void); /* the signal number, 0 if none */
/* Test hooks, -cnndyn_test_* options (see signals.c); none changes a result. */
PetscErrorCode cdn_test_epoch_pause(void);      /* -cnndyn_test_epoch_pause SECONDS */
PetscErrorCode cdn_test_fail_point(int rank);   /* -cnndyn_test_fail_rank R */
/* -cnndyn_test_graph_fault R[:conv|:early]; returns ierr when the hook does not apply */
PetscErrorCode cdn_test_graph_fault(int rank, PetscErrorCode ierr);
PetscErrorCode cdn_test_graph_fault_early(int rank); /* R:early: fails instead of the statistics */
PetscErrorCode cdn_team_wait_seconds(double *seconds); /* 600 s; -cnndyn_test_team_wait for tests */

/* ---- pruning (prune.c; the rule and its reasons at the top of that file) ------------------- */
typedef struct cdn_pruner cdn_pruner_t; /* NULL: [pruning] policy = none */
struct cdn_train_ctl;
/* Root, before the output folder exists: a saved predictor that does not fit the run is refused. */
PetscErrorCode cdn_pruner_check(const cdn_jobspec_t *spec, const char *outdir, PetscBool resuming, int nfeat,
                                const cdn_column_t *cols);
/* Collective: the run's order of models and the board on the root (after the output folder exists). */
PetscErrorCode cdn_pruner_create(MPI_Comm comm, const cdn_jobspec_t *spec, const char *outdir, PetscBool resuming,
                                 int nfeat, const cdn_column_t *cols, int num_classes, cdn_pruner_t **p);
PetscErrorCode cdn_pruner_destroy(cdn_pruner_t **p); /* collective */
/* The model at position pos of the run's order (pos itself without pruning). */
int            cdn_pruner_model(const cdn_pruner_t *p, long pos);
/* Leader, at the end of epoch e (rec filled through e): whether the policy stops the model here,
   after waiting for earlier models as needed; *interrupted when a stop request came first. */
PetscErrorCode cdn_pruner_decide(cdn_pruner_t *p, struct cdn_train_ctl *ctl, FILE *log, double *rec, int e,
                                 PetscBool *prune, PetscBool *interrupted);
/* Leader: what rec says (trained, resumed or loaded; finished or not) onto the board. */
PetscErrorCode cdn_pruner_post(cdn_pruner_t *p, const double *rec, PetscBool finished);
double         cdn_pruner_waited(const cdn_pruner_t *p); /* seconds this rank waited */

/* What training of one model needs from the run around it. */
typedef struct cdn_train_ctl {
  const char  *outdir;
  PetscBool    resume;  /* look for the model's checkpoint first */
  cdn_sched_t *sched;   /* to see and raise the stop word */
  PetscBool    stopped; /* out: training stopped at an epoch end, the model is not finished */
  cdn_progress_t *progress; /* events of this rank's models; may be NULL */
  MPI_Comm        team;      /* the ranks training a model together (MPI_COMM_SELF for one) */
  int             team_rank, team_size; /* team rank 0 leads: schedule, measure, checkpoint */
  int             end;       /* models [counter start, end) are this run's: the population, or its part */
  cdn_pruner_t   *pruner;    /* the run's order and stopping decisions; NULL without [pruning] */
} cdn_train_ctl_t;

/* ---- a model's graph during training (model_graph.c) ----------------------------------------- */

/* This model's graph: held by the leader alone on PETSC_COMM_SELF, or, when it has at least
   [graph] distribute_edges edges and the team more than one rank, by the whole team as a parallel
   matrix, each member holding the rows it owns and joining every graph call. */
typedef struct {
  cdn_graph_t *g;
  MPI_Comm    team;  /* the team holding the graph; MPI_COMM_NULL when the leader holds it alone */
  char       *state; /* team graphs: the leader's network state, broadcast every epoch */
  size_t      bytes;
} cdn_model_graph_t;

/* Pattern once per model; collective on the team when ctl has one (model_graph.c). *mg is
   allocated here, NULL after an error with nothing held. */
PetscErrorCode cdn_model_graph_create(const cdn_jobspec_t *spec, cdn_net_t *net, int model, const cdn_train_ctl_t *ctl,
                                      PetscBool leader, FILE *log, cdn_model_graph_t **mg);
/* This epoch's graph and its features into row, on every rank that holds the graph. */
PetscErrorCode cdn_model_graph_epoch(const cdn_jobspec_t *spec, cdn_net_t *net, cdn_model_graph_t *mg, PetscBool leader,
                                     int rank, int model, int e, FILE *log, double *row);
/* Frees the graph, the state buffer and *mg; *mg NULL afterwards (NULL is fine). */
PetscErrorCode cdn_model_graph_destroy(cdn_model_graph_t **mg);

/* Trains one model and fills its record (length cdn_record_length). log may be NULL. With ctl, the
   model continues from its checkpoint (ctl->resume), is checkpointed at every epoch end, and stops
   there when a stop is requested (ctl->stopped; the record is then incomplete). */
PetscErrorCode cdn_train_model(const cdn_jobspec_t *spec, const cdn_data_t *data, const cdn_model_config_t *cfg,
                               const char *outdir, const cdn_stages_t *stages, int rank, int nfeat, FILE *log,
                               double *rec, cdn_train_ctl_t *ctl);

/* ---- teams (team.c) ----------------------------------------------------------------------- */
/* One training epoch (the 1-based epoch) of a team: cdn_net_train_epoch with each minibatch split
   over team's ranks and the gradients summed (allreduce). */
PetscErrorCode cdn_team_train_epoch(cdn_net_t *net, const cdn_data_t *data, const cdn_images_t *set, cdn_rng_t *rng,
                                    uint64_t seed, int epoch, MPI_Comm team, double *mean_loss);

/* ---- this rank's share (share.c) ------------------------------------------------------------ */
/* Takes models from ctl->sched until none are left or a stop is requested (ctl->stopped), and
   appends the record of every finished model to *recs (grown as needed; the caller frees it). */
PetscErrorCode cdn_train_share(const cdn_jobspec_t *spec, const cdn_data_t *data, int rank, int nfeat,
                               const cdn_stages_t *st, cdn_train_ctl_t *ctl, double **recs, int *nmine, double *busy);
