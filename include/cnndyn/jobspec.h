#pragma once
/* Job specs: strict INI files (jobs/README.md documents every key). Rank 0 parses and validates,
   then broadcasts; any problem stops the job with "file:line: key: reason" (CDN_ERR_INPUT) on every
   rank before any work is spent. */
#include <petscsys.h>
#include <stdint.h>

#define CDN_MAX_AXIS_VALUES 64
/* Architecture families one population may mix ([training] architecture is a list of them). */
#define CDN_MAX_ARCHS 4
#define CDN_ARCH_LEN  16
/* Largest population a job spec may describe (grid x samples x replicates), checked at parse time
   so that model ids always fit an int. */
#define CDN_MAX_MODELS 10000000
/* Where the Debian package dataset-fashion-mnist puts its files: the default [data] path. */
#define CDN_DEFAULT_DATA_DIR "/usr/share/datasets/fashion-mnist"

typedef enum {
  CDN_HP_LEARNING_RATE,
  CDN_HP_MOMENTUM,
  CDN_HP_BATCH_SIZE,
  CDN_HP_DROPOUT,
  CDN_HP_WEIGHT_DECAY,
  CDN_HP_INIT_SCALE,
  CDN_HP_WIDTH, /* [training] width: channel/neuron multiplier (a list only) */
  CDN_HP_DEPTH, /* [training] depth: family-specific, 0 the family's default (a list only) */
  CDN_HP_COUNT
} cdn_hparam_t;

/* A hyperparameter is either a list of values (a grid axis) or a distribution sampled per config. */
typedef enum { CDN_AXIS_LIST, CDN_AXIS_UNIFORM, CDN_AXIS_LOGUNIFORM } cdn_axis_kind_t;

typedef struct {
  cdn_axis_kind_t kind;
  int             n;                      /* list: number of values; distributions: 2 */
  double          v[CDN_MAX_AXIS_VALUES]; /* list values, or (low, high) */
} cdn_axis_t;

enum { CDN_CLASSES_MEDIAN, CDN_CLASSES_TERCILES, CDN_CLASSES_THRESHOLDS };
enum { CDN_PRUNE_NONE, CDN_PRUNE_HALVING, CDN_PRUNE_PREDICTOR };

typedef struct {
  char source[PETSC_MAX_PATH_LEN]; /* the file it came from */

  /* [population] */
  uint64_t   seed;
  int        samples;    /* draws of the distribution axes per grid point */
  int        replicates; /* seeds per configuration */
  cdn_axis_t axis[CDN_HP_COUNT];

  /* [data] */
  char dataset[32];                  /* "fashion-mnist", "idx" or "cifar10" */
  char data_dir[PETSC_MAX_PATH_LEN]; /* folder with the four IDX files (.gz or raw) */
  int  train_size;                   /* 0: all that is left after validation */
  int  validation_size;
  int  test_size;                    /* 0: all */

  /* [training] */
  /* "lenet5", "alexnet", "vgg", "resnet": a grid axis, the slowest of all (population.h);
     width and depth are the axes axis[CDN_HP_WIDTH] and axis[CDN_HP_DEPTH] */
  int  narchs;
  char archs[CDN_MAX_ARCHS][CDN_ARCH_LEN];
  int  epochs;
  int    optimizer; /* cdn_optimizer_t (nn.h): sgd, nesterov, adam */
  int    schedule;  /* cdn_schedule_t: constant, step, cosine */
  int    step_size; /* step schedule: epochs between decays */
  double gamma;     /* step schedule: decay factor */
  int    init;      /* cdn_init_t: kaiming, xavier, normal, pytorch */
  double init_std;  /* init = normal */
  int    dropout_placement; /* cdn_dropout_placement_t: cnndyn, torchvision */
  int    threads;   /* BLAS threads per rank */
  int    convolution; /* 0 auto (Winograd where it is faster), 1 direct */
  int    augment;   /* [data]: random crop + flip of training batches */

  /* [graph] */
  unsigned stat_mask; /* bit cdn_stat_t */
  int      unrolled;         /* one node per channel and pixel (small sequential nets) */
  int      max_edges;        /* refuse a graph with more edges (the unrolled graph's size guard) */
  int      directed;         /* degree becomes in_strength and out_strength */
  int      distribute_edges; /* graphs with at least this many edges live on the model's team; 0 never */

  /* [features] */
  int      budget;      /* epochs of training the predictor may see (k) */
  unsigned agg_mask;    /* bit cdn_agg_t */
  int      differences; /* add epoch-to-epoch differences to the summary */

  /* [prediction] */
  int    folds;
  double ridge_lambda;
  double logistic_c;
  unsigned method_mask;     /* bit cdn_method_t (evaluate.h); names in jobs/README.md */
  unsigned learner_mask;    /* bit cdn_learner_t (predict.h) */
  int      repeats;         /* cross-validation repeated with different fold shuffles */
  int      inner_folds;     /* folds of the inner cross-validation that picks hyperparameters */
  int      class_task;      /* CDN_CLASSES_* */
  int      nthresholds;     /* CDN_CLASSES_THRESHOLDS: ascending label cuts */
  double   thresholds[8];
  double   trainable_above; /* the trainable subset: not diverged and final test accuracy above this */
  double   prune_fraction;  /* early stopping: fraction of models stopped after k epochs */
  unsigned subset_mask;     /* bit cdn_subset_kind_t (evaluate.h): all, trainable, heldout, wide */

  /* [pruning] (src/run/prune.c): stopping models during the run */
  int    prune_policy;       /* CDN_PRUNE_* */
  int    prune_shadow;       /* decide, record, but train every model to the end */
  int    prune_first_rung;   /* halving: the first rung's epoch */
  int    prune_eta;          /* halving: rungs at first_rung * eta^i; the top 1/eta go on */
  int    prune_k;            /* predictor: the epoch of the decision */
  double prune_quantile;     /* predictor: stop below this quantile of the predictions so far */
  int    prune_min_finished; /* the first models of the run's order, never stopped */
  char   prune_model[PETSC_MAX_PATH_LEN]; /* predictor: a saved predictor file, "" none */
  int    prune_method;       /* predictor: cdn_method_t fitted during the run, -1 none */
  int    prune_learner;      /* predictor: cdn_learner_t, -1 none */

  /* [output] */
  int snapshots;       /* write a snapshot per model and epoch */
  int snapshot_format; /* cdn_snapshot_format_t (snapshot.h): 0 npy folders, 1 one npz per model */

  /* [cluster] */
  char progress[256]; /* ZeroMQ endpoint the root publishes progress on; "" = off */
  int  team_size;     /* ranks that train one model together (batch split, gradients summed) */
} cdn_jobspec_t;

/* Where progress is published unless the job spec or the command line says otherwise. */
#define CDN_DEFAULT_PROGRESS "tcp://127.0.0.1:5557"

/* Pure parsing, for tests and for rank 0: name is used in messages. Fills spec with defaults first. */
PetscErrorCode cdn_jobspec_parse_string(const char *name, const char *text, cdn_jobspec_t *spec);
/* Collective on comm: rank 0 reads and parses path, every rank receives the spec or the error. */
PetscErrorCode cdn_jobspec_load(MPI_Comm comm, const char *path, cdn_jobspec_t *spec);
const char    *cdn_hparam_name(cdn_hparam_t h); /* the job spec key, e.g. "learning_rate"; "?" if invalid */
/* Whether v is a value the job spec accepts for h (its range, whole numbers where it asks for
   them); if not, range (n bytes) says which, e.g. "(0, 10]". */
int            cdn_hparam_valid(cdn_hparam_t h, double v, char *range, size_t n);
/* The defaults of every key, exactly as cdn_jobspec_parse_string starts from. */
void           cdn_jobspec_defaults(cdn_jobspec_t *spec);
