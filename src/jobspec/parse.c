/* Job spec parsing: a strict INI reader driven by one table of keys. Every problem stops the job
   with "FILE:LINE: key: reason" before any work is spent, so the table below is the single place
   that says which keys exist, what they hold and where they are stored. */
#include <ctype.h>
#include <math.h>
#include <stddef.h>
#include <string.h>
#include "cnndyn/model.h"
#include "cnndyn/evaluate.h"
#include "cnndyn/stats.h"
#include "values.h"

#define LINE_MAX_LEN (2 * PETSC_MAX_PATH_LEN)

typedef enum {
  V_AXIS, V_INT, V_U64, V_REAL, V_BOOL, V_DATASET, V_PATH, V_ARCH, V_STATS, V_AGGS, V_CHOICE, V_ENDPOINT,
  V_METHODS, V_LEARNERS, V_CLASSES, V_SUBSETS, V_FILE
} value_kind_t;

typedef struct {
  const char    *section, *key;
  value_kind_t   kind;
  size_t         offset; /* field in cdn_jobspec_t */
  int            lo, hi; /* V_INT */
  cdn_js_range_t range;  /* V_REAL */
  cdn_hparam_t   hp;     /* V_AXIS */
  const char *const *names; /* V_CHOICE: stored as the index (an int) */
  int            nnames;
} key_def_t;

static const char *const sections[] = {"population", "data", "training", "graph", "features", "prediction", "pruning", "output", "cluster"};
#define NSECTIONS ((int)(sizeof sections / sizeof sections[0]))

/* Ranges keep runs meaningful: beyond them a model can only diverge or do nothing. */
#define OPEN_CLOSED(a, b) {.lo = a, .hi = b, .lo_open = 1}
#define CLOSED_OPEN(a, b) {.lo = a, .hi = b, .hi_open = 1}
#define CLOSED(a, b)      {.lo = a, .hi = b}
static const struct {
  const char    *name;
  cdn_js_range_t range;
  double         def;
  int            list_only; /* a [training] axis: the network's shape, a grid of values only */
} hparams[CDN_HP_COUNT] = {
  [CDN_HP_LEARNING_RATE] = {"learning_rate", OPEN_CLOSED(0, 10), 0.01},
  [CDN_HP_MOMENTUM]      = {"momentum", CLOSED_OPEN(0, 1), 0.9},
  [CDN_HP_BATCH_SIZE]    = {"batch_size", {.lo = 1, .hi = 4096, .integer = 1}, 64},
  [CDN_HP_DROPOUT]       = {"dropout", CLOSED_OPEN(0, 1), 0},
  [CDN_HP_WEIGHT_DECAY]  = {"weight_decay", CLOSED(0, 1), 0},
  [CDN_HP_INIT_SCALE]    = {"init_scale", OPEN_CLOSED(0, 100), 1},
  [CDN_HP_WIDTH]         = {"width", OPEN_CLOSED(0, 64), 1, 1},
  [CDN_HP_DEPTH]         = {"depth", {.lo = 0, .hi = 32, .integer = 1}, 0, 1},
};

/* Our own name tables, so that parsing does not need the stats module at link time. */
static const char *const stat_names[CDN_STAT_COUNT] = {[CDN_STAT_DEGREE] = "degree", [CDN_STAT_EIGENVECTOR] = "eigenvector",
  [CDN_STAT_PAGERANK] = "pagerank", [CDN_STAT_SINGULAR] = "singular", [CDN_STAT_IN_STRENGTH] = "in_strength",
  [CDN_STAT_OUT_STRENGTH] = "out_strength", [CDN_STAT_SPECTRAL] = "spectral", [CDN_STAT_DEGREE_ENTROPY] = "degree_entropy"};
static const char *const agg_names[CDN_AGG_COUNT]   = {
  [CDN_AGG_MEAN] = "mean", [CDN_AGG_STD] = "std", [CDN_AGG_MIN] = "min", [CDN_AGG_MAX] = "max",
  [CDN_AGG_MEDIAN] = "median", [CDN_AGG_Q25] = "q25", [CDN_AGG_Q75] = "q75"};
static const char *const datasets[]      = {"fashion-mnist", "idx", "cifar10"};
#define architectures cdn_arch_names /* include/cnndyn/model.h */
/* in the order of the enums in nn.h */
static const char *const optimizers[] = {"sgd", "nesterov", "adam"};
static const char *const schedules[]  = {"constant", "step", "cosine"};
static const char *const inits[]      = {"kaiming", "xavier", "normal", "pytorch"};
static const char *const placements[] = {"cnndyn", "torchvision"};
static const char *const convolutions[] = {"auto", "direct"};
static const char *const policies[]   = {"none", "halving", "predictor"}; /* CDN_PRUNE_* */
static const char *const snapshot_formats[] = {"npy", "npz"}; /* cdn_snapshot_format_t */
/* prediction: in the order of cdn_method_t (evaluate.h) and cdn_learner_t (predict.h) */
static const char *const method_names[]  = {"degree", "degree_diff", "eigenvector", "eigenvector_diff", "graph",
                                            "graph_diff", "graph_curve", "val_acc", "val_loss", "tse",
                                            "weights", "curve", "hparams", "majority", "singular_diff",
                                            "spectral_diff", "degree_entropy_diff"};
static const char *const learner_names[] = {"linear", "score", "svr", "xgboost", "majority"};
static const char *const subset_names[]  = {"all", "trainable", "heldout", "wide"}; /* cdn_subset_kind_t */
#define NMETHOD_NAMES  ((int)(sizeof method_names / sizeof method_names[0]))
#define NLEARNER_NAMES ((int)(sizeof learner_names / sizeof learner_names[0]))
#define NSUBSET_NAMES  ((int)(sizeof subset_names / sizeof subset_names[0]))
#define NARCH_NAMES    CDN_ARCH_COUNT

#define F(field)                 offsetof(cdn_jobspec_t, field)
#define KEY(s, k, v, f)          {.section = s, .key = k, .kind = v, .offset = F(f)}
#define KINT(s, k, f, a, b)      {.section = s, .key = k, .kind = V_INT, .offset = F(f), .lo = a, .hi = b}
#define KPOS(s, k, f)            {.section = s, .key = k, .kind = V_REAL, .offset = F(f), .range = {.lo = 0, .hi = HUGE_VAL, .lo_open = 1}}
#define KCHOICE(s, k, f, t)      {.section = s, .key = k, .kind = V_CHOICE, .offset = F(f), .names = t, .nnames = (int)(sizeof t / sizeof t[0])}
#define KRANGE(s, k, f, r)       {.section = s, .key = k, .kind = V_REAL, .offset = F(f), .range = r}
#define AXIS(h)                  {.section = "population", .kind = V_AXIS, .hp = h}
#define TAXIS(h)                 {.section = "training", .kind = V_AXIS, .hp = h}
static const key_def_t keys[] = {
  KEY("population", "seed", V_U64, seed),
  KINT("population", "replicates", replicates, 1, 1000),
  KINT("population", "samples", samples, 1, 100000),
  AXIS(CDN_HP_LEARNING_RATE), AXIS(CDN_HP_MOMENTUM), AXIS(CDN_HP_BATCH_SIZE),
  AXIS(CDN_HP_DROPOUT), AXIS(CDN_HP_WEIGHT_DECAY), AXIS(CDN_HP_INIT_SCALE),
  KEY("data", "dataset", V_DATASET, dataset),
  KEY("data", "path", V_PATH, data_dir),
  KINT("data", "train_size", train_size, 0, 60000),
  KINT("data", "validation_size", validation_size, 0, 59999),
  KINT("data", "test_size", test_size, 0, 10000),
  KEY("training", "architecture", V_ARCH, narchs),
  KINT("training", "epochs", epochs, 1, 1000),
  KEY("graph", "statistics", V_STATS, stat_mask),
  KEY("graph", "unrolled", V_BOOL, unrolled),
  KINT("graph", "max_edges", max_edges, 1, 2000000000),
  KEY("graph", "directed", V_BOOL, directed),
  KINT("graph", "distribute_edges", distribute_edges, 0, 2000000000),
  KINT("features", "budget", budget, 1, 1000),
  KEY("features", "aggregators", V_AGGS, agg_mask),
  KEY("features", "differences", V_BOOL, differences),
  KINT("prediction", "folds", folds, 2, 100),
  KPOS("prediction", "ridge_lambda", ridge_lambda),
  KPOS("prediction", "logistic_c", logistic_c),
  KINT("prediction", "repeats", repeats, 1, 100),
  KINT("prediction", "inner_folds", inner_folds, 0, 20),
  KEY("prediction", "methods", V_METHODS, method_mask),
  KEY("prediction", "learners", V_LEARNERS, learner_mask),
  KEY("prediction", "classes", V_CLASSES, class_task),
  KEY("prediction", "subsets", V_SUBSETS, subset_mask),
  {.section = "prediction", .key = "trainable_above", .kind = V_REAL, .offset = F(trainable_above), .range = CLOSED_OPEN(0, 1)},
  {.section = "prediction", .key = "prune_fraction", .kind = V_REAL, .offset = F(prune_fraction), .range = {.lo = 0, .hi = 1, .lo_open = 1, .hi_open = 1}},
  KEY("output", "snapshots", V_BOOL, snapshots),
  KCHOICE("pruning", "policy", prune_policy, policies),
  KEY("pruning", "shadow", V_BOOL, prune_shadow),
  KINT("pruning", "first_rung", prune_first_rung, 1, 1000),
  KINT("pruning", "eta", prune_eta, 2, 100),
  KINT("pruning", "k", prune_k, 1, 1000),
  {.section = "pruning", .key = "quantile", .kind = V_REAL, .offset = F(prune_quantile), .range = {.lo = 0, .hi = 1, .lo_open = 1, .hi_open = 1}},
  KINT("pruning", "min_finished", prune_min_finished, 1, CDN_MAX_MODELS),
  KEY("pruning", "model", V_FILE, prune_model),
  KCHOICE("pruning", "method", prune_method, method_names),
  KCHOICE("pruning", "learner", prune_learner, learner_names),
  KCHOICE("output", "snapshot_format", snapshot_format, snapshot_formats),
  TAXIS(CDN_HP_WIDTH), TAXIS(CDN_HP_DEPTH),
  KCHOICE("training", "optimizer", optimizer, optimizers),
  KCHOICE("training", "schedule", schedule, schedules),
  KINT("training", "step_size", step_size, 1, 1000),
  KRANGE("training", "gamma", gamma, OPEN_CLOSED(0, 1)),
  KCHOICE("training", "init", init, inits),
  KRANGE("training", "init_std", init_std, OPEN_CLOSED(0, 10)),
  KCHOICE("training", "dropout_placement", dropout_placement, placements),
  KINT("training", "threads", threads, 1, 256),
  KCHOICE("training", "convolution", convolution, convolutions),
  KEY("data", "augment", V_BOOL, augment),
  KEY("cluster", "progress", V_ENDPOINT, progress),
  KINT("cluster", "team_size", team_size, 1, 4096),
};
#define NKEYS ((int)(sizeof keys / sizeof keys[0]))

const char *cdn_hparam_name(cdn_hparam_t h) { return (h >= 0 && h < CDN_HP_COUNT) ? hparams[h].name : "?"; }

int cdn_hparam_valid(cdn_hparam_t h, double v, char *range, size_t n)
{
  const cdn_js_range_t *r;
  int                   ok;

  if (h < 0 || h >= CDN_HP_COUNT) return 0;
  r  = &hparams[h].range;
  ok = cdn_js_in_range(r, v) && (!r->integer || v == floor(v));
  if (!ok) cdn_js_range_text(r, range, n);
  return ok;
}

static const char *key_name(const key_def_t *k) { return k->kind == V_AXIS ? hparams[k->hp].name : k->key; }

void cdn_jobspec_defaults(cdn_jobspec_t *spec)
{
  memset(spec, 0, sizeof *spec);
  spec->seed       = 1;
  spec->samples    = 1;
  spec->replicates = 1;
  for (int h = 0; h < CDN_HP_COUNT; h++) {
    spec->axis[h].kind = CDN_AXIS_LIST;
    spec->axis[h].n    = 1;
    spec->axis[h].v[0] = hparams[h].def;
  }
  snprintf(spec->dataset, sizeof spec->dataset, "%s", "fashion-mnist");
  snprintf(spec->data_dir, sizeof spec->data_dir, "%s", CDN_DEFAULT_DATA_DIR);
  spec->validation_size = 5000;
  spec->narchs = 1;
  snprintf(spec->archs[0], sizeof spec->archs[0], "%s", "lenet5");
  spec->epochs       = 10;
  spec->step_size    = 30;
  spec->gamma        = 0.1;
  spec->init_std     = 0.01;
  spec->threads      = 1;
  spec->stat_mask    = (1u << CDN_STAT_DEGREE) | (1u << CDN_STAT_EIGENVECTOR);
  spec->budget       = 3;
  spec->max_edges    = 50000000;
  spec->agg_mask     = (1u << CDN_AGG_MEAN) | (1u << CDN_AGG_STD) | (1u << CDN_AGG_MIN) | (1u << CDN_AGG_MAX) |
                   (1u << CDN_AGG_MEDIAN);
  spec->differences  = 1;
  spec->folds        = 5;
  spec->ridge_lambda = 1.0;
  spec->logistic_c   = 1.0;
  spec->snapshots    = 0;
  snprintf(spec->progress, sizeof spec->progress, "%s", CDN_DEFAULT_PROGRESS);
  spec->team_size = 1;
  spec->method_mask     = (1u << NMETHOD_NAMES) - 1;
  spec->learner_mask    = (1u << NLEARNER_NAMES) - 1;
  spec->repeats         = 3;
  spec->inner_folds     = 3;
  spec->class_task      = CDN_CLASSES_MEDIAN;
  spec->trainable_above = 0.2;
  spec->prune_fraction  = 0.5;
  spec->subset_mask     = (1u << NSUBSET_NAMES) - 1;
  spec->prune_first_rung   = 1;
  spec->prune_eta          = 3;
  spec->prune_k            = 2;
  spec->prune_quantile     = 0.5;
  spec->prune_min_finished = 16;
  spec->prune_method       = -1;
  spec->prune_learner      = -1;
}

/* "median", "terciles", or ascending label thresholds in (0, 1), e.g. "0.7, 0.85". */
static PetscErrorCode parse_classes(const cdn_js_where_t *w, char *value, cdn_jobspec_t *spec)
{
  cdn_js_range_t r = {.lo = 0, .hi = 1, .lo_open = 1, .hi_open = 1};
  cdn_axis_t     a;

  PetscFunctionBeginUser;
  if (!strcmp(value, "median")) spec->class_task = CDN_CLASSES_MEDIAN;
  else if (!strcmp(value, "terciles")) spec->class_task = CDN_CLASSES_TERCILES;
  else {
    if (strchr(value, '(')) CDN_JS_FAIL(w, "'%s': expected median, terciles or a list of accuracy thresholds", value);
    PetscCall(cdn_js_axis(w, value, &r, &a));
    if (a.n > 8) CDN_JS_FAIL(w, "%d thresholds: at most 8", a.n);
    for (int i = 1; i < a.n; i++)
      if (!(a.v[i] > a.v[i - 1])) CDN_JS_FAIL(w, "thresholds must increase (%g after %g)", a.v[i], a.v[i - 1]);
    spec->class_task  = CDN_CLASSES_THRESHOLDS;
    spec->nthresholds = a.n;
    for (int i = 0; i < a.n; i++) spec->thresholds[i] = a.v[i];
  }
  PetscFunctionReturn(0);
}

/* A comma list of families, kept in the order given (the order of the population's grid). */
static PetscErrorCode parse_architectures(const cdn_js_where_t *w, char *value, cdn_jobspec_t *spec)
{
  char     copy[LINE_MAX_LEN], *comma;
  unsigned mask;
  int      choice;

  PetscFunctionBeginUser;
  snprintf(copy, sizeof copy, "%s", value);
  /* unknown names, repeats and empty items are refused here with the usual messages */
  PetscCall(cdn_js_names(w, copy, architectures, NARCH_NAMES, &mask));
  spec->narchs = 0;
  for (char *t = value; t; t = comma ? comma + 1 : NULL) {
    if ((comma = strchr(t, ','))) *comma = '\0';
    PetscCall(cdn_js_choice(w, cdn_js_trim(t), architectures, NARCH_NAMES, &choice));
    snprintf(spec->archs[spec->narchs++], sizeof spec->archs[0], "%s", architectures[choice]);
  }
  PetscFunctionReturn(0);
}

static PetscErrorCode set_value(const cdn_js_where_t *w, const key_def_t *k, char *value, cdn_jobspec_t *spec)
{
  void *field = (char *)spec + k->offset;
  int   choice;

  PetscFunctionBeginUser;
  switch (k->kind) {
  case V_AXIS:
    PetscCall(cdn_js_axis(w, value, &hparams[k->hp].range, &spec->axis[k->hp]));
    if (hparams[k->hp].list_only && spec->axis[k->hp].kind != CDN_AXIS_LIST)
      CDN_JS_FAIL(w, "%s", "takes one value or a list, not a distribution (the network's shape is a grid axis)");
    break;
  case V_INT: PetscCall(cdn_js_int(w, value, k->lo, k->hi, (int *)field)); break;
  case V_U64: PetscCall(cdn_js_u64(w, value, (uint64_t *)field)); break;
  case V_REAL: PetscCall(cdn_js_real(w, value, &k->range, (double *)field)); break;
  case V_BOOL: PetscCall(cdn_js_bool(w, value, (int *)field)); break;
  case V_DATASET:
    PetscCall(cdn_js_choice(w, value, datasets, 3, &choice));
    snprintf(spec->dataset, sizeof spec->dataset, "%s", datasets[choice]);
    break;
  case V_ARCH: PetscCall(parse_architectures(w, value, spec)); break;
  case V_PATH:
    if (strlen(value) >= sizeof spec->data_dir) CDN_JS_FAIL(w, "longer than %d characters", (int)sizeof spec->data_dir - 1);
    snprintf(spec->data_dir, sizeof spec->data_dir, "%s", value);
    break;
  case V_STATS: PetscCall(cdn_js_names(w, value, stat_names, CDN_STAT_COUNT, (unsigned *)field)); break;
  case V_AGGS: PetscCall(cdn_js_names(w, value, agg_names, CDN_AGG_COUNT, (unsigned *)field)); break;
  case V_CHOICE: PetscCall(cdn_js_choice(w, value, k->names, k->nnames, (int *)field)); break;
  case V_ENDPOINT: PetscCall(cdn_js_endpoint(w, value, spec->progress, sizeof spec->progress)); break;
  case V_METHODS: PetscCall(cdn_js_names(w, value, method_names, NMETHOD_NAMES, (unsigned *)field)); break;
  case V_LEARNERS: PetscCall(cdn_js_names(w, value, learner_names, NLEARNER_NAMES, (unsigned *)field)); break;
  case V_CLASSES: PetscCall(parse_classes(w, value, spec)); break;
  case V_SUBSETS: PetscCall(cdn_js_names(w, value, subset_names, NSUBSET_NAMES, (unsigned *)field)); break;
  case V_FILE:
    if (!value[0]) CDN_JS_FAIL(w, "%s", "empty: expected a file name");
    if (strlen(value) >= PETSC_MAX_PATH_LEN) CDN_JS_FAIL(w, "longer than %d characters", PETSC_MAX_PATH_LEN - 1);
    snprintf((char *)field, PETSC_MAX_PATH_LEN, "%s", value);
    break;
  }
  PetscFunctionReturn(0);
}

/* Comments start with # or ; at the start of a line or after whitespace, so values such as
   "a#b" survive but "0.1  # why" loses its remark. */
static void strip_comment(char *s)
{
  for (int i = 0; s[i]; i++)
    if ((s[i] == '#' || s[i] == ';') && (i == 0 || isspace((unsigned char)s[i - 1]))) {
      s[i] = '\0';
      return;
    }
}

static void join_names(char *buf, size_t n, const char *const *names, int count)
{
  buf[0] = '\0';
  for (int i = 0; i < count; i++) {
    strncat(buf, i ? ", " : "", n - strlen(buf) - 1);
    strncat(buf, names[i], n - strlen(buf) - 1);
  }
}

typedef struct {
  const char *file;
  int         section;            /* -1 before the first header */
  int         section_line[NSECTIONS];
  int         key_line[NKEYS];
} parser_t;

static PetscErrorCode parse_section(parser_t *ps, int line, char *s)
{
  char           *close = strchr(s, ']'), *name, expected[256], head[80];
  cdn_js_where_t  w     = {ps->file, line, s};

  PetscFunctionBeginUser;
  if (!close || close[1] != '\0') CDN_JS_FAIL(&w, "%s", "a section header must be '[name]' with nothing after ']'");
  *close = '\0';
  name = cdn_js_trim(s + 1);
  snprintf(head, sizeof head, "[%s]", name);
  w.key = head;
  for (int i = 0; i < NSECTIONS; i++) {
    if (strcmp(name, sections[i])) continue;
    /* a section split over two places is almost always a copy-paste accident: refuse it */
    if (ps->section_line[i]) CDN_JS_FAIL(&w, "section appears twice (first at line %d)", ps->section_line[i]);
    ps->section_line[i] = line;
    ps->section         = i;
    PetscFunctionReturn(0);
  }
  join_names(expected, sizeof expected, sections, NSECTIONS);
  CDN_JS_FAIL(&w, "unknown section (expected one of: %s)", expected);
}

static PetscErrorCode parse_assignment(parser_t *ps, int line, char *s, cdn_jobspec_t *spec)
{
  char           *eq = strchr(s, '='), *key, *value, expected[512], head[41];
  cdn_js_where_t  w  = {ps->file, line, head};
  int             n  = 0;

  PetscFunctionBeginUser;
  snprintf(head, sizeof head, "%s", s); /* enough of a malformed line to find it */
  if (!eq) CDN_JS_FAIL(&w, "%s", "expected 'key = value' or '[section]'");
  *eq   = '\0';
  key   = cdn_js_trim(s);
  value = cdn_js_trim(eq + 1);
  w.key = key;
  if (!key[0]) {
    w.key = "(no key)";
    CDN_JS_FAIL(&w, "%s", "missing key before '='");
  }
  if (ps->section < 0) CDN_JS_FAIL(&w, "%s", "key outside a section (put it under a [section] header)");
  expected[0] = '\0';
  for (int i = 0; i < NKEYS; i++) {
    const key_def_t *k = &keys[i];
    if (strcmp(k->section, sections[ps->section])) continue;
    strncat(expected, n++ ? ", " : "", sizeof expected - strlen(expected) - 1);
    strncat(expected, key_name(k), sizeof expected - strlen(expected) - 1);
    if (strcmp(key, key_name(k))) continue;
    if (ps->key_line[i]) CDN_JS_FAIL(&w, "duplicate key (first at line %d)", ps->key_line[i]);
    if (!value[0]) CDN_JS_FAIL(&w, "%s", "empty value");
    ps->key_line[i] = line;
    PetscCall(set_value(&w, k, value, spec));
    PetscFunctionReturn(0);
  }
  CDN_JS_FAIL(&w, "unknown key in [%s] (expected one of: %s)", sections[ps->section], expected);
}

/* Line of a key in the file, 0 if absent. */
static int line_of(const parser_t *ps, const char *key)
{
  for (int i = 0; i < NKEYS; i++)
    if (!strcmp(key_name(&keys[i]), key)) return ps->key_line[i];
  return 0;
}

/* [pruning]: each key belongs to one policy, and a policy must be able to stop something. */
/* Why a directed job has no degree columns, for the messages of methods that read them. */
#define DIRECTED_NOTE(spec, st) \
  ((spec)->directed && (st) == CDN_STAT_DEGREE ? " (a directed graph has in_strength and out_strength instead)" : "")

static PetscErrorCode check_pruning(const parser_t *ps, const cdn_jobspec_t *spec)
{
  static const char *const halving_keys[] = {"first_rung", "eta"};
  static const char *const predictor_keys[] = {"k", "quantile", "model", "method", "learner"};
  cdn_js_where_t w = {ps->file, 0, ""};
  const int      P = spec->prune_policy;
  double         models = (double)spec->samples * spec->replicates * spec->narchs;

  PetscFunctionBeginUser;
  for (int h = 0; h < CDN_HP_COUNT; h++)
    if (spec->axis[h].kind == CDN_AXIS_LIST) models *= spec->axis[h].n;
  for (int i = 0; i < 2; i++)
    if (P != CDN_PRUNE_HALVING && (w.line = line_of(ps, halving_keys[i]))) {
      w.key = halving_keys[i];
      CDN_JS_FAIL(&w, "%s", "applies to policy = halving only");
    }
  for (int i = 0; i < 5; i++)
    if (P != CDN_PRUNE_PREDICTOR && (w.line = line_of(ps, predictor_keys[i]))) {
      w.key = predictor_keys[i];
      CDN_JS_FAIL(&w, "%s", "applies to policy = predictor only");
    }
  if (P == CDN_PRUNE_NONE) {
    static const char *const any[] = {"shadow", "min_finished"};
    for (int i = 0; i < 2; i++)
      if ((w.line = line_of(ps, any[i]))) {
        w.key = any[i];
        CDN_JS_FAIL(&w, "%s", "set policy = halving or predictor first");
      }
    PetscFunctionReturn(0);
  }
  /* halving and the methods that read validation curves decide on the validation set */
  if (spec->validation_size == 0 &&
      (P == CDN_PRUNE_HALVING || spec->prune_method == CDN_METHOD_VAL_ACC || spec->prune_method == CDN_METHOD_VAL_LOSS ||
       spec->prune_method == CDN_METHOD_CURVE || spec->prune_method == CDN_METHOD_GRAPH_CURVE)) {
    w.line = line_of(ps, "validation_size"), w.key = "validation_size";
    CDN_JS_FAIL(&w, "0, but [pruning] %s decides on validation accuracy or loss: give a validation set",
                P == CDN_PRUNE_HALVING ? "policy = halving" : "method");
  }
  if (P == CDN_PRUNE_HALVING && spec->prune_first_rung >= spec->epochs) {
    w.line = line_of(ps, "first_rung") ? line_of(ps, "first_rung") : line_of(ps, "policy"), w.key = "first_rung";
    CDN_JS_FAIL(&w, "%d: the first rung must come before the last epoch (%d)", spec->prune_first_rung, spec->epochs);
  }
  if (P == CDN_PRUNE_PREDICTOR) {
    const int has_model = spec->prune_model[0] != 0, has_method = spec->prune_method >= 0;
    w.line = line_of(ps, "policy"), w.key = "policy";
    if (has_model == has_method)
      CDN_JS_FAIL(&w, "%s", "predictor needs either model = FILE (from cnndyn predict --save) or method and learner");
    if (has_model && line_of(ps, "learner")) {
      w.line = line_of(ps, "learner"), w.key = "learner";
      CDN_JS_FAIL(&w, "%s", "a saved predictor (model = FILE) has its own learner: leave learner out");
    }
    if (has_model && line_of(ps, "k")) {
      w.line = line_of(ps, "k"), w.key = "k";
      CDN_JS_FAIL(&w, "%s", "a saved predictor decides at the epoch budget it was fitted with");
    }
    if (has_method) {
      const int m = spec->prune_method, l = spec->prune_learner, st = cdn_method_statistic((cdn_method_t)m);
      w.line = line_of(ps, "method"), w.key = "method";
      if (m == CDN_METHOD_HPARAMS || m == CDN_METHOD_MAJORITY)
        CDN_JS_FAIL(&w, "%s reads no epoch: it cannot tell models apart during training", method_names[m]);
      if (st >= 0 && !(spec->stat_mask >> st & 1u))
        CDN_JS_FAIL(&w, "%s needs %s in [graph] statistics, which this job does not compute%s", method_names[m],
                    cdn_stat_name((cdn_stat_t)st), DIRECTED_NOTE(spec, st));
      if (l < 0) CDN_JS_FAIL(&w, "%s", "needs learner = NAME too");
      w.line = line_of(ps, "learner"), w.key = "learner";
      if (l == CDN_LEARNER_MAJORITY || !(cdn_method_learners((cdn_method_t)m) & (1u << l)))
        CDN_JS_FAIL(&w, "%s cannot predict with method %s (docs/formats.md lists each method's learners)", learner_names[l],
                    method_names[m]);
      if (spec->prune_k >= spec->epochs) {
        w.line = line_of(ps, "k") ? line_of(ps, "k") : line_of(ps, "policy"), w.key = "k";
        CDN_JS_FAIL(&w, "%d: the decision must come before the last epoch (%d)", spec->prune_k, spec->epochs);
      }
    }
    if (has_method && spec->prune_min_finished < 4) {
      w.line = line_of(ps, "min_finished"), w.key = "min_finished";
      CDN_JS_FAIL(&w, "%d: a predictor fitted during the run needs at least 4 finished models", spec->prune_min_finished);
    }
  }
  if (spec->prune_min_finished >= models) {
    w.line = line_of(ps, "min_finished") ? line_of(ps, "min_finished") : line_of(ps, "policy"), w.key = "min_finished";
    CDN_JS_FAIL(&w, "%d (the default is 16): the population has only %.0f models, none could be stopped",
                spec->prune_min_finished, models);
  }
  PetscFunctionReturn(0);
}

/* Checks that involve several keys; each names the line of the key the user should change. */
static PetscErrorCode check_spec(const parser_t *ps, const cdn_jobspec_t *spec, int whole_job)
{
  cdn_js_where_t w    = {ps->file, 0, ""};
  int            dist = 0, last = 0;
  double         models;

  PetscFunctionBeginUser;
  /* every architecture with every depth of the grid, here with the line rather than after the data
     has loaded (the builders ask the same rule) */
  for (int a = 0; a < spec->narchs && spec->axis[CDN_HP_DEPTH].kind == CDN_AXIS_LIST; a++)
    for (int i = 0; i < spec->axis[CDN_HP_DEPTH].n; i++) {
      char rule[96];
      int  d = (int)spec->axis[CDN_HP_DEPTH].v[i];
      if (!cdn_arch_depth_ok(spec->archs[a], d, rule, sizeof rule)) {
        w.line = line_of(ps, "depth"), w.key = "depth";
        CDN_JS_FAIL(&w, "%s, not %d", rule, d);
      }
    }
  if (spec->budget > spec->epochs) {
    if (line_of(ps, "budget")) {
      w.line = line_of(ps, "budget"), w.key = "budget";
      CDN_JS_FAIL(&w, "%d is more than epochs (%d): the predictor can only see trained epochs", spec->budget, spec->epochs);
    }
    w.line = line_of(ps, "epochs"), w.key = "epochs";
    CDN_JS_FAIL(&w, "%d is less than budget (%d, the default): set [features] budget too", spec->epochs, spec->budget);
  }
  for (int h = 0; h < CDN_HP_COUNT; h++) dist |= spec->axis[h].kind != CDN_AXIS_LIST;
  /* a whole job only: `predict` options are checked once merged with their job (src/cli/predict.c) */
  if (whole_job && !cdn_method_pairs(spec->method_mask, spec->learner_mask)) {
    w.line = line_of(ps, "learners") ? line_of(ps, "learners") : line_of(ps, "methods");
    w.key  = line_of(ps, "learners") ? "learners" : "methods";
    CDN_JS_FAIL(&w, "%s", "no method of [prediction] methods takes any of the learners: nothing would be compared (docs/formats.md lists each method's learners)");
  }
  /* a method listed by name whose statistic the job does not compute would have no rows: found
     after hours of training otherwise (with the default list such methods just have none) */
  for (int m = 0; whole_job && line_of(ps, "methods") && m < NMETHOD_NAMES; m++) {
    int st = cdn_method_statistic((cdn_method_t)m);
    if (st >= 0 && (spec->method_mask >> m & 1u) && !(spec->stat_mask >> st & 1u)) {
      w.line = line_of(ps, "methods"), w.key = "methods";
      CDN_JS_FAIL(&w, "%s needs %s in [graph] statistics, which this job does not compute%s", method_names[m],
                  cdn_stat_name((cdn_stat_t)st), DIRECTED_NOTE(spec, st));
    }
  }
  PetscCall(check_pruning(ps, spec));
  if (spec->samples > 1 && !dist) {
    w.line = line_of(ps, "samples"), w.key = "samples";
    CDN_JS_FAIL(&w, "%d draws per grid point, but no hyperparameter is uniform(...) or loguniform(...)", spec->samples);
  }
  if (!strcmp(spec->dataset, "idx") && !line_of(ps, "path")) {
    w.line = line_of(ps, "dataset"), w.key = "dataset";
    CDN_JS_FAIL(&w, "%s", "dataset = idx needs path = FOLDER (with the four IDX files) in [data]");
  }
  if (!strcmp(spec->dataset, "cifar10") && !line_of(ps, "path")) {
    w.line = line_of(ps, "dataset"), w.key = "dataset";
    CDN_JS_FAIL(&w, "%s", "dataset = cifar10 needs path = FOLDER (with data_batch_1.bin .. test_batch.bin) in [data]");
  }
  if (spec->train_size > 0 && spec->train_size + spec->validation_size > 60000) {
    w.line = line_of(ps, "train_size"), w.key = "train_size";
    CDN_JS_FAIL(&w, "%d + validation_size %d is more than the 60000 training images", spec->train_size, spec->validation_size);
  }
  /* in floating point, so a huge grid cannot overflow before it is refused */
  models = (double)spec->samples * spec->replicates * spec->narchs;
  for (int h = 0; h < CDN_HP_COUNT; h++)
    if (spec->axis[h].kind == CDN_AXIS_LIST) models *= spec->axis[h].n;
  if (models > CDN_MAX_MODELS) {
    /* blame the last line that multiplied the population */
    for (int i = 0; i < NKEYS; i++) {
      const key_def_t *k    = &keys[i];
      int              grow = k->kind == V_AXIS ? spec->axis[k->hp].kind == CDN_AXIS_LIST && spec->axis[k->hp].n > 1
                            : k->offset == offsetof(cdn_jobspec_t, samples) ? spec->samples > 1
                            : k->offset == offsetof(cdn_jobspec_t, replicates) ? spec->replicates > 1
                            : k->kind == V_ARCH ? spec->narchs > 1 : 0;
      if (grow && ps->key_line[i] > last) last = ps->key_line[i], w.key = key_name(k);
    }
    w.line = last;
    CDN_JS_FAIL(&w, "the population has %.0f models, more than the limit of %d", models, CDN_MAX_MODELS);
  }
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_js_parse_counted(const char *name, const char *text, int whole_job, cdn_jobspec_t *spec, int *nkeys)
{
  parser_t ps = {name, -1, {0}, {0}};
  char     buf[LINE_MAX_LEN];
  int      line = 0;

  PetscFunctionBeginUser;
  cdn_jobspec_defaults(spec);
  snprintf(spec->source, sizeof spec->source, "%s", name);
  *nkeys = 0;
  text = cdn_skip_bom(text);
  for (const char *p = text; *p;) {
    const char    *nl  = strchr(p, '\n');
    size_t         len = nl ? (size_t)(nl - p) : strlen(p);
    char          *s;
    cdn_js_where_t w = {name, ++line, "line"};

    if (len >= sizeof buf) CDN_JS_FAIL(&w, "longer than %d characters", (int)sizeof buf - 1);
    memcpy(buf, p, len);
    buf[len] = '\0';
    p += len + (nl ? 1 : 0);
    strip_comment(buf);
    s = cdn_js_trim(buf); /* also drops the '\r' of CRLF files */
    if (!s[0]) continue;
    if (s[0] == '[') PetscCall(parse_section(&ps, line, s));
    else PetscCall(parse_assignment(&ps, line, s, spec));
  }
  for (int i = 0; i < NKEYS; i++) *nkeys += ps.key_line[i] != 0;
  /* The directed variant reads strength with a direction: degree splits into its two halves
     (before the checks: a method reading degree has no columns then). */
  if (spec->directed && (spec->stat_mask & (1u << CDN_STAT_DEGREE)))
    spec->stat_mask = (spec->stat_mask & ~(1u << CDN_STAT_DEGREE)) | 1u << CDN_STAT_IN_STRENGTH | 1u << CDN_STAT_OUT_STRENGTH;
  PetscCall(check_spec(&ps, spec, whole_job));
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_jobspec_parse_string(const char *name, const char *text, cdn_jobspec_t *spec)
{
  int nkeys;

  PetscFunctionBeginUser;
  PetscCall(cdn_js_parse_counted(name, text, 0, spec, &nkeys));
  PetscFunctionReturn(0);
}
