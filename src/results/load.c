/* A finished run read back from its CSVs (the columns docs/formats.md documents), for `cnndyn predict`.
   Nothing is taken on trust: every header is the one the writer (csv.c) prints, every row has the
   header's fields, every number is plain decimal text in its range, every (model, epoch) row
   appears exactly once and every model's rows are all there. The first problem stops the load
   with "FILE:LINE: column NAME: reason", and everything read so far is freed. */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "cnndyn/model.h"
#include "cnndyn/results.h"
#include "cnndyn/stats.h"
#include "cnndyn/util.h"

#define LINE       65536
#define MAX_FIELDS 4096
#define MAX_EPOCHS 1000 /* the job spec's limit */

typedef struct {
  FILE *fp;
  char  path[PETSC_MAX_PATH_LEN];
  char  line[LINE + 3]; /* + a byte order mark before the first line */
  char *field[MAX_FIELDS];
  char  head[MAX_FIELDS][64]; /* the header's names, for messages */
  int   nfield, nhead, lineno;
} csv_t;

#define BAD(c, ...) SETERRQ(PETSC_COMM_SELF, CDN_ERR_CORRUPT, __VA_ARGS__)

static PetscErrorCode csv_open(csv_t *c, const char *dir, const char *name)
{
  PetscFunctionBeginUser;
  PetscCheck(snprintf(c->path, sizeof c->path, "%s/%s", dir, name) < (int)sizeof c->path, PETSC_COMM_SELF,
             CDN_ERR_INPUT, "%s: path too long", dir);
  c->fp     = fopen(c->path, "r");
  c->lineno = 0;
  PetscCheck(c->fp, PETSC_COMM_SELF, CDN_ERR_OPEN, "%s: cannot open (is this a finished cnndyn run?)", c->path);
  PetscFunctionReturn(0);
}

static void csv_close(csv_t *c)
{
  if (c->fp) fclose(c->fp);
  c->fp = NULL;
}

/* Next row split into fields in place (RFC 4180 quoting: "a,b" and "" inside quotes); *more = 0
   at the end of the file. */
static PetscErrorCode csv_next(csv_t *c, int *more)
{
  char *r, *w;
  size_t len;

  PetscFunctionBeginUser;
  *more = fgets(c->line, sizeof c->line, c->fp) != NULL;
  if (!*more) PetscFunctionReturn(0);
  c->lineno++;
  len = strlen(c->line);
  if (c->lineno == 1) { /* a byte order mark is not part of the line, nor of its length */
    size_t bom = (size_t)(cdn_skip_bom(c->line) - c->line);
    memmove(c->line, c->line + bom, len - bom + 1), len -= bom;
  }
  if (len > LINE - 1 || (len == LINE - 1 && c->line[len - 1] != '\n'))
    BAD(c, "%s:%d: longer than %d characters", c->path, c->lineno, LINE - 2);
  c->line[strcspn(c->line, "\r\n")] = '\0';
  c->nfield = 0;
  for (r = w = c->line;;) {
    if (c->nfield == MAX_FIELDS) BAD(c, "%s:%d: more than %d fields", c->path, c->lineno, MAX_FIELDS);
    c->field[c->nfield++] = w;
    if (*r == '"') {
      for (r++;; r++) {
        if (*r == '\0') BAD(c, "%s:%d: field %d: quote not closed", c->path, c->lineno, c->nfield);
        if (*r == '"' && r[1] == '"') *w++ = '"', r++;
        else if (*r == '"') break;
        else *w++ = *r;
      }
      r++;
      if (*r != ',' && *r != '\0') BAD(c, "%s:%d: field %d: text after the closing quote", c->path, c->lineno, c->nfield);
    } else
      while (*r && *r != ',') *w++ = *r++;
    if (*r == '\0') {
      *w = '\0';
      break;
    }
    *w++ = '\0', r++;
  }
  PetscFunctionReturn(0);
}

/* Reads the header row; every name once. */
static PetscErrorCode csv_header(csv_t *c)
{
  int more;

  PetscFunctionBeginUser;
  PetscCall(csv_next(c, &more));
  if (!more) BAD(c, "%s: empty (no header)", c->path);
  c->nhead = c->nfield;
  for (int i = 0; i < c->nfield; i++) {
    if (strlen(c->field[i]) >= sizeof c->head[i]) BAD(c, "%s:1: column %d: name too long", c->path, i + 1);
    snprintf(c->head[i], sizeof c->head[i], "%s", c->field[i]);
    for (int j = 0; j < i; j++)
      if (!strcmp(c->head[j], c->head[i])) BAD(c, "%s:1: column %s appears twice", c->path, c->head[i]);
  }
  PetscFunctionReturn(0);
}

/* Next data row with exactly the header's fields. */
static PetscErrorCode csv_row(csv_t *c, int *more)
{
  PetscFunctionBeginUser;
  PetscCall(csv_next(c, more));
  if (*more && c->nfield != c->nhead)
    BAD(c, "%s:%d: %d fields, the header has %d", c->path, c->lineno, c->nfield, c->nhead);
  PetscFunctionReturn(0);
}

static int column(const csv_t *c, const char *name)
{
  for (int i = 0; i < c->nhead; i++)
    if (!strcmp(c->head[i], name)) return i;
  return -1;
}

/* A real number: empty is NaN and "inf" / "-inf" infinite (the writer's spellings, when allowed),
   else plain decimal text. */
static PetscErrorCode real(const csv_t *c, int col, PetscBool empty_ok, double lo, double hi, double *v)
{
  const char  *s = c->field[col];
  cdn_number_t got;

  PetscFunctionBeginUser;
  if (!s[0] && empty_ok) *v = NAN;
  else if (!strcmp(s, "inf") || !strcmp(s, "-inf")) *v = s[0] == '-' ? -INFINITY : INFINITY;
  else if (!s[0]) BAD(c, "%s:%d: column %s: empty, a number is expected", c->path, c->lineno, c->head[col]);
  else if ((got = cdn_parse_real(s, v)) != CDN_NUMBER_OK && got != CDN_NUMBER_TINY)
    BAD(c, "%s:%d: column %s: '%s' %s", c->path, c->lineno, c->head[col], s, cdn_number_problem(got));
  if (!isnan(*v) && !(*v >= lo && *v <= hi))
    BAD(c, "%s:%d: column %s: %s is outside [%g, %g]", c->path, c->lineno, c->head[col], s, lo, hi);
  PetscFunctionReturn(0);
}

static PetscErrorCode integer(const csv_t *c, int col, long long lo, long long hi, int *v)
{
  const char *s = c->field[col];
  long long   x;

  PetscFunctionBeginUser;
  if (cdn_parse_integer(s, &x) == CDN_NUMBER_SYNTAX)
    BAD(c, "%s:%d: column %s: '%s' is not an integer", c->path, c->lineno, c->head[col], s);
  if (cdn_parse_integer(s, &x) != CDN_NUMBER_OK || x < lo || x > hi)
    BAD(c, "%s:%d: column %s: %s is outside [%lld, %lld]", c->path, c->lineno, c->head[col], s, lo, hi);
  *v = (int)x;
  PetscFunctionReturn(0);
}

/* models.csv: one row per model in id order. */
/* Models of one configuration (replicates) share its architecture and hyperparameters: a row
   moved to another configuration would change which models the cross-validation keeps together. */
static PetscErrorCode same_configs(csv_t *c, const cdn_results_t *res)
{
  int *first;

  PetscFunctionBeginUser;
  PetscCall(PetscMalloc1(res->nmodels, &first));
  for (int k = 0; k < res->nmodels; k++) first[k] = -1;
  for (int m = 0; m < res->nmodels; m++) {
    const cdn_model_config_t *a = &res->config[m], *b;
    int                       same;
    if (first[a->config_id] < 0) {
      first[a->config_id] = m;
      continue;
    }
    b    = &res->config[first[a->config_id]];
    same = !strcmp(a->arch, b->arch);
    for (int h = 0; h < CDN_HP_COUNT; h++) same &= a->hp[h] == b->hp[h] || (isnan(a->hp[h]) && isnan(b->hp[h]));
    if (!same) {
      PetscCall(PetscFree(first));
      BAD(c, "%s:%d: model %d is in configuration %d, but its architecture or hyperparameters are not those of model %d "
             "in it (replicates of a configuration share them)", c->path, m + 2, m, a->config_id, b->id);
    }
  }
  PetscCall(PetscFree(first));
  PetscFunctionReturn(0);
}

static const char *const model_columns[] = {"model", "config", "replicate", "seed", "architecture", "status",
                                            "diverged_epoch", "epochs_trained", "final_val_loss",
                                            "final_val_accuracy", "final_test_accuracy", "label", "pruned_epoch",
                                            "pruned_test_accuracy"};
#define NMODEL_COLUMNS ((int)(sizeof model_columns / sizeof model_columns[0]))

/* pruned_epoch and pruned_test_accuracy (absent in runs before [pruning]): a pruned model stopped
   at its last row (pruned_epoch = epochs_trained); a model that trained on past a shadow decision
   has one before its end; either way the test accuracy at that epoch is there, and only then. */
static PetscErrorCode pruning_columns(const csv_t *c, const int *col, int m, cdn_results_t *res)
{
  const int   done = res->epochs_done[m];
  const char *pe   = col[12] >= 0 ? c->field[col[12]] : "";

  PetscFunctionBeginUser;
  if (res->status[m] == CDN_STATUS_PRUNED && !pe[0])
    BAD(c, "%s:%d: column pruned_epoch: empty for a pruned model", c->path, c->lineno);
  if (pe[0]) {
    if (res->status[m] == CDN_STATUS_PRUNED) PetscCall(integer(c, col[12], PetscMax(done, 1), done, &res->pruned_epoch[m]));
    else if (res->status[m] == CDN_STATUS_OK) PetscCall(integer(c, col[12], 1, done - 1, &res->pruned_epoch[m]));
    else PetscCall(integer(c, col[12], 1, done, &res->pruned_epoch[m]));
  }
  if (col[13] >= 0) {
    if (!pe[0] && c->field[col[13]][0])
      BAD(c, "%s:%d: column pruned_test_accuracy: '%s' without a pruned_epoch", c->path, c->lineno, c->field[col[13]]);
    PetscCall(real(c, col[13], !pe[0], 0, 1, &res->pruned_test_acc[m]));
  } else if (pe[0]) BAD(c, "%s:%d: a pruned_epoch needs the column pruned_test_accuracy", c->path, c->lineno);
  PetscFunctionReturn(0);
}

static PetscErrorCode load_models(csv_t *c, const char *dir, cdn_results_t *res)
{
  int    n = 0, more, cm[CDN_HP_COUNT], col[NMODEL_COLUMNS], E = 0;
  char   range[64];
  double v;

  PetscFunctionBeginUser;
  PetscCall(csv_open(c, dir, "models.csv"));
  PetscCall(csv_header(c));
  for (int i = 0; i < c->nhead; i++) { /* a renamed column is an unknown one */
    int known = 0;
    for (int j = 0; j < NMODEL_COLUMNS; j++) known |= !strcmp(c->head[i], model_columns[j]);
    for (int h = 0; h < CDN_HP_COUNT; h++) known |= !strcmp(c->head[i], cdn_hparam_name((cdn_hparam_t)h));
    if (!known) BAD(c, "%s:1: unknown column '%s'", c->path, c->head[i]);
  }
  for (int j = 0; j < NMODEL_COLUMNS; j++) col[j] = column(c, model_columns[j]);
  for (int h = 0; h < CDN_HP_COUNT; h++) cm[h] = column(c, cdn_hparam_name((cdn_hparam_t)h));
  /* architecture, replicate, seed and the later hyperparameters are absent in older runs */
  if (col[0] != 0 || col[1] < 0 || col[5] < 0 || col[7] < 0 || col[10] < 0)
    BAD(c, "%s:1: header must start with model and hold config, status, epochs_trained and final_test_accuracy", c->path);
  for (;; n++) {
    PetscCall(csv_row(c, &more));
    if (!more) break;
  }
  if (n == 0) BAD(c, "%s: no models (header only)", c->path);
  res->num_classes = 10;
  PetscCall(cdn_results_alloc_models(res, n));
  rewind(c->fp), c->lineno = 0;
  PetscCall(csv_header(c));
  for (int m = 0; m < n; m++) {
    cdn_model_config_t *cf = &res->config[m];
    const char         *st;
    int                 id;
    PetscCall(csv_row(c, &more));
    if (!more) BAD(c, "%s: changed while it was read", c->path);
    PetscCall(integer(c, 0, 0, INT_MAX, &id));
    if (id != m) BAD(c, "%s:%d: column model: %d where %d was expected (rows in model order, each once)", c->path, c->lineno, id, m);
    cf->id = m;
    PetscCall(integer(c, col[1], 0, n - 1, &cf->config_id)); /* never more configurations than models */
    if (col[2] >= 0) PetscCall(integer(c, col[2], 0, n - 1, &cf->replicate));
    if (col[3] >= 0) {
      const char *s = c->field[col[3]];
      char       *end;
      cf->seed = strtoull(s, &end, 10);
      if (!(s[0] >= '0' && s[0] <= '9') || *end || strlen(s) > 20 || (strlen(s) == 20 && strcmp(s, "18446744073709551615") > 0))
        BAD(c, "%s:%d: column seed: '%s' is not an unsigned 64-bit integer", c->path, c->lineno, s);
    }
    if (col[4] >= 0) {
      if (!c->field[col[4]][0] || strlen(c->field[col[4]]) >= sizeof cf->arch)
        BAD(c, "%s:%d: column architecture: empty or longer than %d characters", c->path, c->lineno, (int)sizeof cf->arch - 1);
      if (!cdn_arch_known(c->field[col[4]]))
        BAD(c, "%s:%d: column architecture: '%s' is not lenet5, alexnet, vgg or resnet", c->path, c->lineno, c->field[col[4]]);
      snprintf(cf->arch, sizeof cf->arch, "%s", c->field[col[4]]);
    }
    for (int h = 0; h < CDN_HP_COUNT; h++) {
      cf->hp[h] = NAN;
      if (cm[h] >= 0) PetscCall(real(c, cm[h], PETSC_TRUE, -HUGE_VAL, HUGE_VAL, &cf->hp[h]));
      if (isinf(cf->hp[h])) BAD(c, "%s:%d: column %s: not finite", c->path, c->lineno, c->head[cm[h]]);
      if (!isnan(cf->hp[h]) && !cdn_hparam_valid((cdn_hparam_t)h, cf->hp[h], range, sizeof range))
        BAD(c, "%s:%d: column %s: %s is not %s (the job spec's range)", c->path, c->lineno, c->head[cm[h]], c->field[cm[h]],
            range);
    }
    st = c->field[col[5]];
    if (strcmp(st, "ok") && strcmp(st, "diverged") && strcmp(st, "pruned"))
      BAD(c, "%s:%d: column status: '%s' is not ok, diverged or pruned", c->path, c->lineno, st);
    res->status[m] = st[0] == 'd' ? CDN_STATUS_DIVERGED : st[0] == 'p' ? CDN_STATUS_PRUNED : CDN_STATUS_OK;
    PetscCall(integer(c, col[7], 0, MAX_EPOCHS, &res->epochs_done[m]));
    /* a model that diverged in epoch d has complete rows for epochs 0..d-1: epochs_trained = d - 1;
       a model that did not diverge has no diverged_epoch */
    if (col[6] >= 0 && res->status[m] != CDN_STATUS_DIVERGED && c->field[col[6]][0])
      BAD(c, "%s:%d: column diverged_epoch: '%s' for a model whose status is %s", c->path, c->lineno, c->field[col[6]],
          cdn_status_name(res->status[m]));
    if (col[6] >= 0 && res->status[m] == CDN_STATUS_DIVERGED)
      PetscCall(integer(c, col[6], res->epochs_done[m] + 1, res->epochs_done[m] + 1, &res->diverged_epoch[m]));
    /* the final validation columns repeat curves.csv's last row: checked, not kept */
    if (col[8] >= 0) PetscCall(real(c, col[8], PETSC_TRUE, 0, HUGE_VAL, &v));
    if (col[9] >= 0) PetscCall(real(c, col[9], PETSC_TRUE, 0, 1, &v));
    PetscCall(pruning_columns(c, col, m, res));
    if (res->status[m] == CDN_STATUS_PRUNED && c->field[col[10]][0])
      BAD(c, "%s:%d: column final_test_accuracy: '%s' for a pruned model (it has no final epoch)", c->path, c->lineno,
          c->field[col[10]]);
    PetscCall(real(c, col[10], res->status[m] != CDN_STATUS_OK, 0, 1, &res->test_acc[m]));
    if (col[11] >= 0) {
      PetscCall(real(c, col[11], PETSC_TRUE, 0, 1, &v));
      if (res->status[m] == CDN_STATUS_PRUNED && !isnan(v))
        BAD(c, "%s:%d: column label: '%s' for a pruned model (it has no final accuracy)", c->path, c->lineno,
            c->field[col[11]]);
      /* a diverged model's label is chance, 1/classes: the class count comes from it */
      if (res->status[m] == CDN_STATUS_DIVERGED) {
        long k = v > 0 ? lround(1 / v) : 0;
        if (k < 2 || fabs(v * (double)k - 1) > 1e-6)
          BAD(c, "%s:%d: column label: %s is not chance (1/classes) for a diverged model", c->path, c->lineno,
              c->field[col[11]]);
        res->num_classes = (int)k;
      }
      /* an ok model learns its own final accuracy (the writer prints both from one number) */
      if (res->status[m] == CDN_STATUS_OK && !(v == res->test_acc[m]))
        BAD(c, "%s:%d: column label: '%s' is not the model's final_test_accuracy '%s'", c->path, c->lineno,
            c->field[col[11]], c->field[col[10]]);
    }
    E = res->epochs_done[m] > E ? res->epochs_done[m] : E;
  }
  PetscCall(same_configs(c, res));
  csv_close(c);
  res->epochs = E;
  /* the run's epochs are the most any model trained: an ok model trained them all, and a decision
     to prune comes before the last one */
  for (int m = 0; m < n; m++) {
    if (res->status[m] == CDN_STATUS_OK && res->epochs_done[m] != E)
      BAD(c, "%s:%d: model %d is ok with %d epochs_trained, but the run trained %d (a finished model trains them all)",
          c->path, m + 2, m, res->epochs_done[m], E);
    if (res->pruned_epoch[m] >= E)
      BAD(c, "%s:%d: model %d: pruned_epoch %d is the run's last epoch (%d): no decision is made there", c->path, m + 2,
          m, res->pruned_epoch[m], E);
  }
  PetscFunctionReturn(0);
}

/* The (model, epoch) of a curves.csv or features.csv row, checked against models.csv; seen counts
   the rows of each pair so that a duplicate is found at once and a gap at the end. */
static PetscErrorCode row_key(const csv_t *c, const cdn_results_t *res, char *seen, int *m, int *e)
{
  PetscFunctionBeginUser;
  PetscCall(integer(c, 0, 0, INT_MAX, m));
  PetscCall(integer(c, 1, 0, MAX_EPOCHS, e));
  if (*m >= res->nmodels)
    BAD(c, "%s:%d: model %d, but models.csv has only %d models (is models.csv cut short?)", c->path, c->lineno, *m,
        res->nmodels);
  if (*e > res->epochs_done[*m])
    BAD(c, "%s:%d: model %d epoch %d, but models.csv says it trained %d epochs", c->path, c->lineno, *m, *e,
        res->epochs_done[*m]);
  if (seen[(size_t)*m * (res->epochs + 1) + *e]++) BAD(c, "%s:%d: second row for model %d epoch %d", c->path, c->lineno, *m, *e);
  PetscFunctionReturn(0);
}

static PetscErrorCode all_rows_seen(const csv_t *c, const cdn_results_t *res, const char *seen)
{
  PetscFunctionBeginUser;
  for (int m = 0; m < res->nmodels; m++)
    for (int e = 0; e <= res->epochs_done[m]; e++)
      if (!seen[(size_t)m * (res->epochs + 1) + e])
        BAD(c, "%s: no row for model %d epoch %d (models.csv says it trained %d epochs)", c->path, m, e, res->epochs_done[m]);
  PetscFunctionReturn(0);
}

static PetscErrorCode load_curves(csv_t *c, const char *dir, cdn_results_t *res, char *seen)
{
  static const char *const head[] = {"model", "epoch", "train_loss", "val_loss", "val_accuracy"};
  int                      more, m, e;

  PetscFunctionBeginUser;
  PetscCall(csv_open(c, dir, "curves.csv"));
  PetscCall(csv_header(c));
  if (c->nhead != 5) BAD(c, "%s:1: %d columns, expected model,epoch,train_loss,val_loss,val_accuracy", c->path, c->nhead);
  for (int i = 0; i < 5; i++)
    if (strcmp(c->head[i], head[i])) BAD(c, "%s:1: column %d is '%s', expected %s", c->path, i + 1, c->head[i], head[i]);
  for (;;) {
    double *row;
    PetscCall(csv_row(c, &more));
    if (!more) break;
    PetscCall(row_key(c, res, seen, &m, &e));
    row = cdn_results_curve(res, m, e);
    PetscCall(real(c, 2, PETSC_TRUE, 0, HUGE_VAL, &row[CDN_CURVE_TRAIN_LOSS]));
    if (e == 0 && !isnan(row[CDN_CURVE_TRAIN_LOSS]))
      BAD(c, "%s:%d: column train_loss: '%s' at epoch 0 (the initial weights have no training loss)", c->path, c->lineno,
          c->field[2]);
    PetscCall(real(c, 3, PETSC_TRUE, 0, HUGE_VAL, &row[CDN_CURVE_VAL_LOSS]));
    PetscCall(real(c, 4, PETSC_TRUE, 0, 1, &row[CDN_CURVE_VAL_ACC]));
  }
  PetscCall(all_rows_seen(c, res, seen));
  csv_close(c);
  PetscFunctionReturn(0);
}

/* Every header cell must name a column cnndyn writes (read by cdn_column_parse, the inverse of the
   one function that names columns), and each kind must be a full product: a node statistic over
   every group and aggregator, a weight statistic over every tensor and its seven aggregates. A
   renamed column has an unknown part, a dropped one breaks the product. */
static PetscErrorCode read_feature_columns(const csv_t *c, cdn_results_t *res)
{
  int            ngraph = 0, nweight = 0, nstat = 0, ngroup = 0, nagg = 0, ntensor = 0;
  char           stat[CDN_STAT_COUNT][16], agg[CDN_AGG_COUNT][8], (*group)[64], (*tensor)[80];
  PetscErrorCode ierr = 0;

  PetscFunctionBeginUser;
  PetscCall(PetscMalloc2(res->nfeat, &group, res->nfeat, &tensor));
  for (int f = 0; f < res->nfeat && !ierr; f++) {
    cdn_column_t *col = &res->columns[f];
    int           k;
    if (cdn_column_parse(c->head[2 + f], col)) {
      ierr = PetscError(PETSC_COMM_SELF, __LINE__, PETSC_FUNCTION_NAME, __FILE__, CDN_ERR_CORRUPT, PETSC_ERROR_INITIAL,
                        "%s:1: column %d: '%s' is not a feature cnndyn writes (STAT.GROUP.AGG or weights.TENSOR.STAT)",
                        c->path, f + 3, c->head[2 + f]);
      break;
    }
    if (cdn_column_is_weight(col)) {
      char key[80];
      snprintf(key, sizeof key, "%s/%s", col->layer, col->statistic);
      for (k = 0; k < ntensor && strcmp(tensor[k], key); k++) {}
      if (k == ntensor) snprintf(tensor[ntensor++], sizeof tensor[0], "%s", key);
      nweight++;
    } else if (cdn_stat_kind((cdn_stat_t)cdn_stat_from_name(col->statistic)) == CDN_STAT_KIND_NODE) {
      /* the other kinds (per edge block, per graph, per scope) are taken as named */
      for (k = 0; k < nstat && strcmp(stat[k], col->statistic); k++) {}
      if (k == nstat) snprintf(stat[nstat++], sizeof stat[0], "%s", col->statistic);
      for (k = 0; k < nagg && strcmp(agg[k], col->aggregator); k++) {}
      if (k == nagg) snprintf(agg[nagg++], sizeof agg[0], "%s", col->aggregator);
      for (k = 0; k < ngroup && strcmp(group[k], col->layer); k++) {}
      if (k == ngroup) snprintf(group[ngroup++], sizeof group[0], "%s", col->layer);
      ngraph++;
    }
  }
  if (!ierr && (ngraph != nstat * ngroup * nagg || nweight != ntensor * 7))
    ierr = PetscError(PETSC_COMM_SELF, __LINE__, PETSC_FUNCTION_NAME, __FILE__, CDN_ERR_CORRUPT, PETSC_ERROR_INITIAL,
                      "%s:1: columns missing: %d graph columns for %d statistics x %d groups x %d aggregators, %d weight columns for %d tensors x 7",
                      c->path, ngraph, nstat, ngroup, nagg, nweight, ntensor);
  PetscCall(PetscFree2(group, tensor));
  PetscCall(ierr);
  PetscFunctionReturn(0);
}

static PetscErrorCode load_features(csv_t *c, const char *dir, cdn_results_t *res, char *seen)
{
  int more, m, e;

  PetscFunctionBeginUser;
  PetscCall(csv_open(c, dir, "features.csv"));
  PetscCall(csv_header(c));
  if (c->nhead < 3 || strcmp(c->head[0], "model") || strcmp(c->head[1], "epoch"))
    BAD(c, "%s:1: header must be model,epoch, then at least one feature", c->path);
  /* the per-epoch arrays are sized here, once the feature count is known */
  PetscCall(cdn_results_alloc_epochs(res, res->epochs, c->nhead - 2));
  PetscCall(read_feature_columns(c, res));
  for (;;) {
    PetscCall(csv_row(c, &more));
    if (!more) break;
    PetscCall(row_key(c, res, seen, &m, &e));
    for (int f = 0; f < res->nfeat; f++)
      PetscCall(real(c, 2 + f, PETSC_TRUE, -HUGE_VAL, HUGE_VAL, &cdn_results_features(res, m, e)[f]));
  }
  PetscCall(all_rows_seen(c, res, seen));
  csv_close(c);
  PetscFunctionReturn(0);
}

/* features_columns.csv, which runs made before it existed lack, lists features.csv's columns in
   order with what each measures: features.csv's header must read as exactly that list, so a column
   dropped, moved or renamed in features.csv alone is refused (an outside review dropped whole
   groups and statistics, and swapped two columns, with exit 0 and another report). */
static PetscErrorCode check_column_list(csv_t *s, const char *dir, const cdn_results_t *res)
{
  static const char *const fields[] = {"column", "statistic", "scope", "layer", "aggregator"};
  int                      f = 0, more;

  PetscFunctionBeginUser;
  PetscCall(csv_open(s, dir, "features_columns.csv"));
  PetscCall(csv_header(s));
  if (s->nhead != 5) BAD(s, "%s:1: header must be column,statistic,scope,layer,aggregator", s->path);
  for (int j = 0; j < 5; j++)
    if (strcmp(s->head[j], fields[j])) BAD(s, "%s:1: header must be column,statistic,scope,layer,aggregator", s->path);
  for (;;) {
    PetscCall(csv_row(s, &more));
    if (!more) break;
    if (f >= res->nfeat) BAD(s, "%s:%d: more columns than features.csv's %d", s->path, s->lineno, res->nfeat);
    const cdn_column_t *col     = &res->columns[f];
    const char         *want[5] = {col->name, col->statistic, col->scope, col->layer, col->aggregator};
    for (int j = 0; j < 5; j++)
      if (strcmp(s->field[j], want[j]))
        BAD(s, "%s:%d: %s '%s', but features.csv's column %d is %s (%s '%s')", s->path, s->lineno, fields[j], s->field[j],
            f + 3, col->name, fields[j], want[j]);
    f++;
  }
  if (f != res->nfeat) BAD(s, "%s: %d columns, but features.csv has %d", s->path, f, res->nfeat);
  PetscFunctionReturn(0);
}

static PetscErrorCode check_columns_file(const char *dir, const cdn_results_t *res)
{
  char           path[PETSC_MAX_PATH_LEN];
  FILE          *probe;
  csv_t         *s;
  PetscErrorCode ierr;

  PetscFunctionBeginUser;
  snprintf(path, sizeof path, "%s/features_columns.csv", dir);
  if (!(probe = fopen(path, "r"))) PetscFunctionReturn(0);
  fclose(probe);
  PetscCall(PetscNew(&s));
  ierr = check_column_list(s, dir, res); /* not PetscCall: the file and s are freed on every path */
  csv_close(s);
  PetscCall(PetscFree(s));
  PetscCall(ierr);
  PetscFunctionReturn(0);
}

/* models.csv's final_val_loss and final_val_accuracy repeat curves.csv's row at epochs_trained
   (the writer prints both from one number): read again once the curves are in, and compared. */
static PetscErrorCode check_finals(csv_t *c, const char *dir, const cdn_results_t *res)
{
  const int   which[2] = {CDN_CURVE_VAL_LOSS, CDN_CURVE_VAL_ACC};
  const char *names[2] = {"final_val_loss", "final_val_accuracy"};
  int         col[2], more;

  PetscFunctionBeginUser;
  PetscCall(csv_open(c, dir, "models.csv"));
  PetscCall(csv_header(c));
  col[0] = column(c, names[0]), col[1] = column(c, names[1]);
  for (int m = 0; m < res->nmodels; m++) {
    PetscCall(csv_row(c, &more));
    for (int j = 0; j < 2 && more; j++) {
      double v, want = cdn_results_curve(res, m, res->epochs_done[m])[which[j]];
      if (col[j] < 0) continue; /* older runs */
      PetscCall(real(c, col[j], PETSC_TRUE, -HUGE_VAL, HUGE_VAL, &v));
      if (!(v == want || (isnan(v) && isnan(want))))
        BAD(c, "%s:%d: column %s: '%s' is not curves.csv's value at epoch %d", c->path, c->lineno, names[j],
            c->field[col[j]], res->epochs_done[m]);
    }
  }
  csv_close(c);
  PetscFunctionReturn(0);
}

static PetscErrorCode load(csv_t *c, const char *dir, cdn_results_t *res)
{
  size_t cells;
  char  *seen = NULL;

  PetscFunctionBeginUser;
  PetscCall(load_models(c, dir, res));
  cells = (size_t)res->nmodels * (res->epochs + 1);
  PetscCall(PetscCalloc1(cells, &seen));
  /* features first: its header sizes the per-epoch arrays the curves go into too */
  PetscErrorCode ierr = load_features(c, dir, res, seen);
  if (!ierr) ierr = check_columns_file(dir, res);
  if (!ierr) ierr = PetscArrayzero(seen, cells);
  if (!ierr) ierr = load_curves(c, dir, res, seen);
  if (!ierr) ierr = check_finals(c, dir, res);
  PetscCall(PetscFree(seen));
  PetscCall(ierr);
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_results_load(const char *dir, cdn_results_t **out)
{
  csv_t         *c = NULL;
  cdn_results_t *res;
  PetscErrorCode ierr;

  PetscFunctionBeginUser;
  *out = NULL;
  PetscCall(cdn_results_create(&res));
  ierr = PetscNew(&c);
  if (!ierr) ierr = load(c, dir, res); /* not PetscCall: the file and the arrays are freed on every path */
  if (c) csv_close(c);
  PetscCall(PetscFree(c));
  if (ierr) PetscCall(cdn_results_destroy(&res));
  PetscCall(ierr);
  *out = res;
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_results_load_whole(const char *dir, cdn_results_t **res)
{
  char  path[PETSC_MAX_PATH_LEN];
  FILE *part;

  PetscFunctionBeginUser;
  /* a part's models are a fraction of the population: its report would pass for the population's */
  snprintf(path, sizeof path, "%s/part.txt", dir);
  if ((part = fopen(path, "r"))) {
    fclose(part);
    SETERRQ(PETSC_COMM_SELF, CDN_ERR_INPUT,
            "%s: %s is one part of a population (run --part); predict on the folder cnndyn merge makes of all its parts",
            path, dir);
  }
  PetscCall(cdn_results_load(dir, res));
  PetscFunctionReturn(0);
}
