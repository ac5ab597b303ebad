#pragma once
/* Which predictors a run compares, on which inputs: the graph summaries against the signals a
   practitioner already has, all on the same models, folds and epoch budgets, on two subsets,
   repeated over fold shuffles, shared out over the ranks of a communicator. */
#include "cnndyn/jobspec.h"
#include "cnndyn/predict.h"
#include "cnndyn/results.h"

/* Methods: an input (feature set) and the learners that may read it. Order = job spec names. */
typedef enum {
  CDN_METHOD_DEGREE,           /* degree.* features at epochs 0..k */
  CDN_METHOD_DEGREE_DIFF,      /* the same plus the k epoch-to-epoch differences */
  CDN_METHOD_EIGENVECTOR,
  CDN_METHOD_EIGENVECTOR_DIFF,
  CDN_METHOD_GRAPH,            /* every graph statistic's features (all but weights.*) */
  CDN_METHOD_GRAPH_DIFF,
  CDN_METHOD_GRAPH_CURVE,      /* hybrid: graph_diff plus the curve method's inputs */
  CDN_METHOD_VAL_ACC,          /* baseline: validation accuracy at epoch k, raw */
  CDN_METHOD_VAL_LOSS,         /* baseline: minus the validation loss at epoch k, raw */
  CDN_METHOD_TSE,              /* baseline: minus the sum of training losses over epochs 1..k, raw */
  CDN_METHOD_WEIGHTS,          /* baseline: weights.* statistics at epoch k */
  CDN_METHOD_CURVE,            /* baseline: val accuracy at 1..k, its differences, hyperparameters */
  CDN_METHOD_HPARAMS,          /* baseline: the hyperparameters alone (budget 0) */
  CDN_METHOD_MAJORITY,         /* baseline: the training-fold mean / majority class (budget 0) */
  /* Graph summaries the paper did not use (issue 16), last so the rows of older jobs keep their
     order; each has rows only when its statistic is in the run's [graph] statistics. */
  CDN_METHOD_SINGULAR_DIFF,    /* singular.* (per-layer spectral norms) at 0..k plus differences */
  CDN_METHOD_SPECTRAL_DIFF,    /* spectral.all.value (leading eigenvalue) at 0..k plus differences */
  CDN_METHOD_ENTROPY_DIFF,     /* degree_entropy.* at 0..k plus differences */
  CDN_METHOD_COUNT
} cdn_method_t;

/* What a method's inputs are made of: graph-only (computed from the graph alone), baseline (no
   graph input: curves, weight statistics, hyperparameters, nothing), or hybrid (graph plus anything
   else). Reports keep the three apart: a hybrid is evidence for neither graphs nor baselines. */
typedef enum { CDN_FAMILY_GRAPH, CDN_FAMILY_BASELINE, CDN_FAMILY_HYBRID, CDN_FAMILY_COUNT } cdn_family_t;

const char  *cdn_method_name(cdn_method_t m);
/* 1 if the method reads the graph feature rows (graph-only and hybrid methods). */
int          cdn_method_is_graph(cdn_method_t m);
/* The family each method's definition declares (methods.c). */
cdn_family_t cdn_method_family(cdn_method_t m);
const char  *cdn_family_name(cdn_family_t f); /* "graph", "baseline", "hybrid" */
/* Bit mask of the learners a method runs with (before the job spec's learners filter it). */
unsigned    cdn_method_learners(cdn_method_t m);
/* The families whose 0/1 indicator columns the method's inputs hold, comma-separated in name
   order ("-" for none: a single-family population, or a method without the hyperparameters). */
void        cdn_method_families(cdn_method_t m, const cdn_results_t *res, char *buf, size_t len);
/* Whether m's inputs carry those family columns at all (the hyperparameter-based methods). */
int         cdn_method_has_families(cdn_method_t m);
/* How many (method, learner) pairs of the two masks the comparison would run (0: nothing). */
int         cdn_method_pairs(unsigned method_mask, unsigned learner_mask);
/* The one statistic (cdn_stat_t) whose columns a method reads (degree, eigenvector and the
   layer statistics' methods), or -1 (graph reads every graph column; baselines none): a run that
   did not compute it has no rows for that method ([graph] statistics; a directed graph has in and
   out strength instead of degree), and a method listed by name then is refused. */
int cdn_method_statistic(cdn_method_t m);
/* Whether res's features hold that statistic's columns (always for the other methods). */
int cdn_method_has_inputs(cdn_method_t m, const cdn_results_t *res);
/* Builds the method's n x d input for budget k (owned by the caller, PetscFree). *d = 0 when the
   population has no such columns (e.g. eigenvector not computed): the method is then skipped. */
PetscErrorCode cdn_method_inputs(cdn_method_t m, const cdn_results_t *res, int k, double **X, int *d, char *desc,
                                 size_t desc_len);
/* The same with the family indicator columns of a given list (cdn_method_families' form, "-" for
   none) instead of the population's own: a saved predictor's inputs on another run. A model whose
   family the list lacks is CDN_ERR_INPUT. */
PetscErrorCode cdn_method_inputs_as(cdn_method_t m, const cdn_results_t *res, int k, const char *families, double **X,
                                    int *d, char *desc, size_t desc_len);

/* Subsets of the population a comparison runs on. all and trainable are cross-validated; the
   transfer splits fit on one part and test on the other, once: heldout_F fits on every model of
   the other families and tests on family F (populations with >= 2 families, one subset per
   family), wide fits on the models narrower than the widest and tests on the widest (>= 2 widths).
   Job spec names (bit of [prediction] subsets): all, trainable, heldout, wide. */
typedef enum {
  CDN_SUBSET_KIND_ALL,
  CDN_SUBSET_KIND_TRAINABLE,
  CDN_SUBSET_KIND_HELDOUT,
  CDN_SUBSET_KIND_WIDE,
  CDN_SUBSET_KIND_COUNT
} cdn_subset_kind_t;
/* ev->subset[] always starts with these two (whether or not their rows are run). */
enum { CDN_SUBSET_ALL, CDN_SUBSET_TRAINABLE };
#define CDN_MAX_SUBSETS (3 + CDN_MAX_ARCHS)

typedef struct {
  char              name[32]; /* "all", "trainable", "heldout_vgg", "wide" */
  cdn_subset_kind_t kind;
  int               run;      /* its rows are compared (selected by the job spec, >= 2 models) */
  int               n;
  int              *model;    /* n model ids, ascending */
  int              *test;     /* transfer splits: n flags, 1 = test side; NULL for cross-validation */
  int               ntest;
  double            thresholds[8]; /* the class task's cuts: on the subset's labels, or for a
                                      transfer split on its training side's labels only */
  int              *fold;     /* root, set by the headlines: repeats x n, the outer fold that tested
                                 each model in each repeat (-1: a transfer split's training side);
                                 NULL for a subset not run */
  int               nfolds;   /* outer folds per repeat */
} cdn_subset_t;

/* One row of the comparison: metrics' mean and std (population, over repeats; std NaN for a
   transfer split, which runs once) and every repeat's out-of-fold outputs, repeat q's at
   [q * n .. q * n + n) indexed like the subset's n models (a transfer split predicts its test side
   only; NaN elsewhere); the first n are the first repeat's. */
typedef struct {
  int           subset;
  cdn_method_t  method;
  cdn_learner_t learner;
  int           budget; /* epochs seen; 0 for hparams and majority */
  int           repeats; /* tasks behind mean and std: the job's repeats, 1 for a transfer split */
  char          features[96];
  cdn_metrics_t mean, std;
  double       *pred;       /* regression prediction */
  int          *pred_class;
  int          *true_class; /* the label's class under the cuts of the fold that tested the model */
  double       *rank;       /* what the tau metrics rank (cdn_predict_problem_t.rank_score) */
  double       *select;     /* repeats x folds: inner selection score per outer fold (select.c) */
} cdn_eval_row_t;

/* The headline numbers (headline.c), per run subset and budget k = 1..max_budget: the best row of
   each family chosen by nested selection (in every outer fold of every repeat, the family's row
   with the best inner-fold within-fold tau on that fold's training side; its predictions for the
   outer test fold are what is scored), the paired difference best graph-only minus best baseline,
   and, once per subset, the pre-registered row (degree_diff with xgboost, else svr, else linear,
   at k = min(5, max_budget)). Intervals: 95% percentile bootstrap over configurations
   (CDN_BOOTSTRAP resamples of the subset's configurations with replacement, every model weighted by
   how often its configuration was drawn; the out-of-fold predictions are re-scored, nothing is
   refitted), seeded from the job seed, the same resamples for every statistic of a subset. */
#define CDN_BOOTSTRAP 1000
enum { CDN_HEADLINE_DIFF = CDN_FAMILY_COUNT, CDN_HEADLINE_PREREG, CDN_HEADLINE_KINDS };
typedef struct {
  int           subset, budget;
  int           kind;       /* a cdn_family_t, CDN_HEADLINE_DIFF or CDN_HEADLINE_PREREG */
  int           row;        /* the row chosen in most outer folds (PREREG: its row); -1: no such row */
  int           chosen, choices, candidates; /* row chosen in `chosen` of `choices` outer folds; rows competing */
  cdn_metrics_t mean, std;  /* over repeats; DIFF: tau_fold and accuracy only, the rest NaN */
  double        tau_ci[2], acc_ci[2]; /* of mean.tau_fold and mean.accuracy; NaN if undefined */
  double       *pred;       /* the first repeat's nested out-of-fold predictions (subset order) */
  int          *choice;     /* families: repeats x nfolds, the row the inner folds chose for each
                               outer fold (-1: none); NULL otherwise */
} cdn_headline_t;

typedef struct {
  int     n;           /* models */
  double *label;       /* n: final test accuracy, chance for diverged models */
  int     nclasses;
  double  thresholds[8]; /* nclasses - 1 label cuts of the classification task (all models) */
  int    *label_class;   /* n */
  int          nsubsets;
  cdn_subset_t subset[CDN_MAX_SUBSETS];
  int     max_budget, repeats, folds, ntasks;
  int     nrows;
  cdn_eval_row_t *row;
  double  seconds; /* wall time of the prediction stage on the root */
  int             nheadlines; /* root only */
  cdn_headline_t *headline;
  int                nearly, early_k; /* root only: cdn_evaluation_early_stop */
  struct cdn_early_curve_s *early;
} cdn_evaluation_t;

/* Collective on comm; res must be complete on every rank (cdn_results_bcast). Runs every selected
   (subset, method, learner, budget, repeat) task, task t on rank t mod size, and gathers the
   results to every rank's ev in task order, so that ev is identical for any rank count. Budgets run
   1..spec->budget. Errors on any rank are shared (cdn_error_share) before anyone waits. *ev is
   allocated here, NULL after an error (nothing left held). */
PetscErrorCode cdn_evaluate(MPI_Comm comm, const cdn_jobspec_t *spec, const cdn_results_t *res, cdn_evaluation_t **ev);
/* Frees everything ev holds and ev itself; *ev is NULL afterwards (NULL is fine). */
PetscErrorCode cdn_evaluation_destroy(cdn_evaluation_t **ev);
/* The headline numbers of ev (cdn_headline_t), from its gathered rows, then the early-stopping
   curves that prune by them (cdn_evaluation_early_stop); root, called by cdn_evaluate.
   Deterministic in (spec->seed, ev), so the same at any rank count. */
PetscErrorCode cdn_evaluation_headlines(const cdn_jobspec_t *spec, const cdn_results_t *res, cdn_evaluation_t *ev);
/* The headline of kind at (subset, k) (k ignored for PREREG), or NULL. */
const cdn_headline_t *cdn_evaluation_headline(const cdn_evaluation_t *ev, int subset, int k, int kind);
/* The first step of cdn_evaluate, on one rank: labels, the class task and every subset of ev
   (*ev allocated here, NULL after an error; cdn_evaluation_destroy releases it). Families are told apart by name in
   model-id order, widths by hp[CDN_HP_WIDTH] (NaN, as in runs from before width was recorded: no
   wide split). Replicates share family and width, so no configuration is on both sides. */
PetscErrorCode cdn_evaluation_subsets(const cdn_jobspec_t *spec, const cdn_results_t *res, cdn_evaluation_t **ev);

/* Early stopping at equal compute (early_stop.c), simulated on the finished population, where every
   model's curve and final label are known. A policy spends epochs and keeps some models to the end;
   its regret is the best final label minus the best among the models it trained to the end, its
   epochs saved the share of epochs not trained against training every model to the end. Each
   stopping rule takes a fraction f (CDN_STOP_*): prune trains every model k epochs and stops the
   ceil-rounded share f predicted worst (at least one model goes on); successive halving stops the
   share f by validation accuracy at every rung k, 2k, 4k, ... < epochs (f = 0.5: classic halving);
   random stopping stops a uniformly random share f, reported as its exact expectation (the limit of
   averaging infinitely many seeded draws: a smooth floor with no seed). */
typedef enum { CDN_STOP_PRUNE, CDN_STOP_HALVING, CDN_STOP_RANDOM } cdn_stop_rule_t;
/* One rule on a population given as m model ids (a model may repeat: a bootstrap resample), label
   and score indexed by model id (score: prune's prediction, higher = better; NaN ranks last; unused
   otherwise). *saved and *regret NaN when k >= res->epochs or m = 0. */
PetscErrorCode cdn_early_stop_rule(const cdn_results_t *res, const int *model, int m, const double *label,
                                   const double *score, cdn_stop_rule_t rule, int k, double fraction, double *saved,
                                   double *regret);
/* Piecewise-linear y at x = at through the points (x[i], y[i]) (any order; points at the same x
   count by their mean y); NaN outside [min x, max x] (no extrapolation) or for non-finite points. */
double cdn_early_interpolate(const double *x, const double *y, int n, double at);

/* The policies compared per budget: prune by each family's nested best, successive halving on
   validation accuracy, random stopping. */
enum { CDN_POLICY_PRUNE_GRAPH, CDN_POLICY_PRUNE_BASELINE, CDN_POLICY_PRUNE_HYBRID, CDN_POLICY_HALVING,
       CDN_POLICY_RANDOM, CDN_POLICIES };
#define CDN_EARLY_MAX_FRACTIONS 10 /* 0.1, 0.2, ..., 0.9 and the job's prune_fraction */
#define CDN_EARLY_LEVELS        19 /* common epochs-saved levels 0.05, 0.10, ..., 0.95 */
static inline double cdn_early_level(int l) { return 0.05 * (l + 1); }
/* Subset all at one budget. Every number has a 95% percentile interval over the headlines' bootstrap
   resamples of configurations (the same resamples, nothing refitted): the policies are re-run on
   each resampled population. at[][l]: the regret interpolated at epochs saved cdn_early_level(l)
   (NaN outside the policy's sweep). span[p]: the levels where policy p and prune by best graph-only
   are both defined; mean[p]: p's regret averaged over them; diff[p]: prune by best graph-only minus
   p averaged over them (negative: graph-only pruning loses less at the same compute). */
typedef struct cdn_early_curve_s {
  int    budget;
  int    run[CDN_POLICIES]; /* 0: no such predictor at this budget (no hybrid rows, say) */
  int    nf;
  double fraction[CDN_EARLY_MAX_FRACTIONS];
  double saved[CDN_POLICIES][CDN_EARLY_MAX_FRACTIONS], regret[CDN_POLICIES][CDN_EARLY_MAX_FRACTIONS];
  double regret_ci[CDN_POLICIES][CDN_EARLY_MAX_FRACTIONS][2];
  double at[CDN_POLICIES][CDN_EARLY_LEVELS], at_ci[CDN_POLICIES][CDN_EARLY_LEVELS][2];
  double span[CDN_POLICIES][2];
  double mean[CDN_POLICIES], mean_ci[CDN_POLICIES][2], diff[CDN_POLICIES], diff_ci[CDN_POLICIES][2];
} cdn_early_curve_t;
/* The policies' names in early_stop.csv: policy, predictor, family. */
void cdn_early_policy_names(int p, const char **policy, const char **predictor, const char **family);
/* ev->early at budgets 1..max_budget below the last epoch, and ev->early_k, the budget where the
   best graph-only headline's within-fold tau is highest (ties: the smaller k; 0: none). Root, after
   the headlines; deterministic in (spec->seed, ev). */
PetscErrorCode cdn_evaluation_early_stop(const cdn_jobspec_t *spec, const cdn_results_t *res, cdn_evaluation_t *ev);

/* A fitted predictor for use outside cross-validation: learner on method's inputs at budget k (0
   for the budgetless methods hparams and majority), fitted on every model of res exactly as one
   fold of the comparison fits it on its training models: the same preparation, inner CV (spec's
   inner_folds, seeded from spec's seed) and class task (spec's classes, cut on res's labels).
   The file is a text header and the learner's fitted state (docs/formats.md, "Saved predictors"), written
   atomically. A learner the method does not take, or a method without inputs in res, is
   CDN_ERR_INPUT. */
PetscErrorCode cdn_predictor_save(const char *path, const cdn_jobspec_t *spec, cdn_method_t method,
                                  cdn_learner_t learner, int k, const cdn_results_t *res);

typedef struct {
  cdn_method_t  method;
  cdn_learner_t learner;
  int           budget;
  int           ncuts;   /* class of a label or prediction: how many of cuts lie below it */
  double        cuts[8];
  char          fitted_on[128]; /* the architectures of the models it was fitted on, in name order,
                                   comma-separated; "" for files of format 3 and older */
} cdn_predictor_info_t;

/* Scores every model of res with a saved predictor: pred and pred_class (nmodels), label_class =
   each model's label binned by the predictor's class cuts. A file that is not a whole predictor is
   CDN_ERR_CORRUPT (naming the file); a run without the predictor's method, with a different input
   width (statistics, aggregators, architecture) or fewer epochs than its budget is CDN_ERR_INPUT. */
PetscErrorCode cdn_predictor_score(const char *path, const cdn_results_t *res, double *pred, int *pred_class,
                                   int *label_class, cdn_predictor_info_t *info);

/* A scorer (scorer.c): a fitted predictor in memory, the object behind the two calls above and
   behind [pruning] policy = predictor. fit: as cdn_predictor_save fits (name is used in messages);
   load: a saved file, CDN_ERR_CORRUPT unless whole; check: CDN_ERR_INPUT when res's columns or
   families do not fit its inputs, or res holds an architecture it was not fitted on (a file too old
   to say which is refused); predict: every model of res (pred and pred_class: nmodels each), CDN_ERR_CORRUPT for an absurd prediction. */
typedef struct cdn_scorer cdn_scorer_t;
PetscErrorCode cdn_scorer_fit(const cdn_jobspec_t *spec, cdn_method_t method, cdn_learner_t learner, int k,
                              const cdn_results_t *res, const char *name, cdn_scorer_t **s);
PetscErrorCode cdn_scorer_load(const char *path, cdn_scorer_t **s);
PetscErrorCode cdn_scorer_write(const cdn_scorer_t *s, const char *path);
PetscErrorCode cdn_scorer_check(const cdn_scorer_t *s, const cdn_results_t *res);
PetscErrorCode cdn_scorer_predict(const cdn_scorer_t *s, const cdn_results_t *res, double *pred, int *pred_class);
const cdn_predictor_info_t *cdn_scorer_info(const cdn_scorer_t *s);
int            cdn_scorer_bin(const cdn_scorer_t *s, double v); /* a label's class under its cuts */
PetscErrorCode cdn_scorer_destroy(cdn_scorer_t **s);

/* The stage as one call (src/predict/stage.c), the entry point of `cnndyn run`, `cnndyn predict`
   and `cnndyn merge`. */
/* The prediction stage, collective on comm: *res complete on the root (NULL elsewhere, where the
   broadcast allocates it: the caller destroys it on every rank) is broadcast, evaluated with the
   tasks spread over the ranks, written by the root (cdn_report_write) and summarised on stdout
   unless quiet. Errors reach every rank. */
PetscErrorCode cdn_prediction_stage(MPI_Comm comm, const cdn_jobspec_t *spec, cdn_results_t **res, const char *outdir,
                                    PetscBool prediction_only, PetscBool quiet);
/* `cnndyn predict DIR`: DIR's CSVs read on the root (cdn_results_load_whole), the budget checked
   against its epochs, then the prediction stage rewriting DIR's prediction outputs. Collective. */
PetscErrorCode cdn_prediction_stage_dir(MPI_Comm comm, const cdn_jobspec_t *spec, const char *dir, PetscBool quiet);
