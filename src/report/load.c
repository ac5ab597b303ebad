/* A finished run read back from its CSVs (the columns README.md documents), for `cnndyn predict`. */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "cnndyn/results.h"
#include "cnndyn/util.h"

#define LINE       65536
#define MAX_EPOCHS 1000 /* the job spec's limit */

typedef struct {
  FILE *fp;
  char  path[PETSC_MAX_PATH_LEN];
  char  line[LINE];
  char *field[4096];
  int   nfield, lineno;
} csv_t;

static PetscErrorCode csv_open(csv_t *c, const char *dir, const char *name)
{
  PetscFunctionBeginUser;
  snprintf(c->path, sizeof c->path, "%s/%s", dir, name);
  c->fp     = fopen(c->path, "r");
  c->lineno = 0;
  PetscCheck(c->fp, PETSC_COMM_SELF, CDN_ERR_OPEN, "%s: cannot open (is this a finished cnndyn run?)", c->path);
  PetscFunctionReturn(0);
}

/* Next row split at commas in place; 0 at the end of the file. */
static int csv_next(csv_t *c)
{
  char *p;
  if (!fgets(c->line, sizeof c->line, c->fp)) return 0;
  c->lineno++;
  c->line[strcspn(c->line, "\r\n")] = '\0';
  c->nfield = 0;
  for (p = c->line; c->nfield < 4096;) {
    char *comma      = strchr(p, ',');
    c->field[c->nfield++] = p;
    if (!comma) break;
    *comma = '\0', p = comma + 1;
  }
  return 1;
}

static int column(const csv_t *c, const char *name)
{
  for (int i = 0; i < c->nfield; i++)
    if (!strcmp(c->field[i], name)) return i;
  return -1;
}

/* Empty = NaN (the writers' convention); "inf" / "-inf" as written. */
static PetscErrorCode number(const csv_t *c, int col, double *v)
{
  char *end;
  PetscFunctionBeginUser;
  PetscCheck(col >= 0 && col < c->nfield, PETSC_COMM_SELF, CDN_ERR_CORRUPT, "%s:%d: %d fields, expected more", c->path,
             c->lineno, c->nfield);
  if (!c->field[col][0]) *v = NAN;
  else {
    *v = strtod(c->field[col], &end);
    PetscCheck(*end == '\0', PETSC_COMM_SELF, CDN_ERR_CORRUPT, "%s:%d: field %d: '%s' is not a number", c->path,
               c->lineno, col + 1, c->field[col]);
  }
  PetscFunctionReturn(0);
}

/* A whole number in [lo, hi]: ids and epoch counts index arrays, so NaN or 1e300 must not reach
   an int (found by bench/fuzz: the cast is undefined behaviour). */
static PetscErrorCode whole(const csv_t *c, int col, int lo, int hi, int *out)
{
  double v;
  PetscFunctionBeginUser;
  PetscCall(number(c, col, &v));
  PetscCheck(v == floor(v) && v >= lo && v <= hi, PETSC_COMM_SELF, CDN_ERR_CORRUPT,
             "%s:%d: field %d: '%s' is not a whole number from %d to %d", c->path, c->lineno, col + 1, c->field[col], lo,
             hi);
  *out = (int)v;
  PetscFunctionReturn(0);
}

static PetscErrorCode load(csv_t *c, const char *dir, cdn_results_t *res)
{
  int    n = 0, E = 0, cm[CDN_HP_COUNT], cst, cdiv, cep, ctest, ccfg, crep, cseed, carch;
  double v;

  PetscFunctionBeginUser;
  /* models.csv: count rows and the longest training first */
  PetscCall(csv_open(c, dir, "models.csv"));
  PetscCheck(csv_next(c), PETSC_COMM_SELF, CDN_ERR_CORRUPT, "%s: empty", c->path);
  while (csv_next(c)) n++;
  PetscCheck(n > 0, PETSC_COMM_SELF, CDN_ERR_CORRUPT, "%s: no models", c->path);
  rewind(c->fp), c->lineno = 0, csv_next(c);
  for (int h = 0; h < CDN_HP_COUNT; h++) cm[h] = column(c, cdn_hparam_name((cdn_hparam_t)h));
  ccfg = column(c, "config"), crep = column(c, "replicate"), cseed = column(c, "seed"), cst = column(c, "status");
  carch = column(c, "architecture"); /* runs before architecture axes lack it: one family, name unknown */
  cdiv = column(c, "diverged_epoch"), cep = column(c, "epochs_trained"), ctest = column(c, "final_test_accuracy");
  PetscCheck(ccfg >= 0 && cst >= 0 && cep >= 0 && ctest >= 0, PETSC_COMM_SELF, CDN_ERR_CORRUPT,
             "%s: header lacks config, status, epochs_trained or final_test_accuracy", c->path);
  res->nmodels = n, res->num_classes = 10;
  PetscCall(PetscCalloc1(n, &res->config));
  PetscCall(PetscCalloc1(n, &res->status));
  PetscCall(PetscCalloc1(n, &res->diverged_epoch));
  PetscCall(PetscCalloc1(n, &res->epochs_done));
  PetscCall(PetscCalloc1(n, &res->rank));
  PetscCall(PetscMalloc1(n, &res->test_acc));
  for (int m = 0; m < n; m++) {
    PetscCheck(csv_next(c), PETSC_COMM_SELF, CDN_ERR_CORRUPT, "%s: ends early", c->path);
    PetscCall(number(c, 0, &v));
    PetscCheck(v == m, PETSC_COMM_SELF, CDN_ERR_CORRUPT, "%s:%d: model %g where %d was expected", c->path, c->lineno, v, m);
    res->config[m].id = m;
    PetscCall(whole(c, ccfg, 0, INT_MAX, &res->config[m].config_id));
    if (crep >= 0) PetscCall(whole(c, crep, 0, INT_MAX, &res->config[m].replicate));
    if (cseed >= 0) res->config[m].seed = strtoull(c->field[cseed], NULL, 10);
    if (carch >= 0) {
      PetscCheck(carch < c->nfield && strlen(c->field[carch]) < sizeof res->config[m].arch, PETSC_COMM_SELF,
                 CDN_ERR_CORRUPT, "%s:%d: architecture missing or too long", c->path, c->lineno);
      snprintf(res->config[m].arch, sizeof res->config[m].arch, "%s", c->field[carch]);
    }
    for (int h = 0; h < CDN_HP_COUNT; h++) {
      res->config[m].hp[h] = NAN;
      if (cm[h] >= 0) PetscCall(number(c, cm[h], &res->config[m].hp[h]));
    }
    res->status[m] = strcmp(c->field[cst], "diverged") ? CDN_STATUS_OK : CDN_STATUS_DIVERGED;
    if (cdiv >= 0 && c->field[cdiv][0]) PetscCall(whole(c, cdiv, 0, MAX_EPOCHS, &res->diverged_epoch[m]));
    PetscCall(whole(c, cep, 0, MAX_EPOCHS, &res->epochs_done[m]));
    PetscCall(number(c, ctest, &res->test_acc[m]));
    E = res->epochs_done[m] > E ? res->epochs_done[m] : E;
  }
  /* a diverged model's label is chance: recover the class count from it when written */
  rewind(c->fp), c->lineno = 0, csv_next(c);
  {
    int cl = column(c, "label");
    for (int m = 0; m < n && cl >= 0; m++) {
      csv_next(c);
      PetscCall(number(c, cl, &v));
      if (res->status[m] == CDN_STATUS_DIVERGED && v > 0) res->num_classes = (int)lround(1 / v);
    }
  }
  fclose(c->fp), c->fp = NULL;
  res->epochs = E;

  PetscCall(PetscMalloc1((size_t)n * (E + 1) * CDN_CURVE_COLS, &res->curves));
  PetscCall(PetscCalloc1((size_t)n * (E + 1) * CDN_TIME_COLS, &res->timing));
  for (size_t i = 0; i < (size_t)n * (E + 1) * CDN_CURVE_COLS; i++) res->curves[i] = NAN;
  PetscCall(csv_open(c, dir, "curves.csv"));
  PetscCheck(csv_next(c) && c->nfield >= 5, PETSC_COMM_SELF, CDN_ERR_CORRUPT, "%s: bad header", c->path);
  while (csv_next(c)) {
    double mv, ev;
    PetscCall(number(c, 0, &mv));
    PetscCall(number(c, 1, &ev));
    PetscCheck(mv >= 0 && mv < n && ev >= 0 && ev <= E, PETSC_COMM_SELF, CDN_ERR_CORRUPT, "%s:%d: model %g epoch %g out of range",
               c->path, c->lineno, mv, ev);
    for (int j = 0; j < CDN_CURVE_COLS; j++) PetscCall(number(c, 2 + j, &cdn_results_curve(res, (int)mv, (int)ev)[j]));
  }
  fclose(c->fp), c->fp = NULL;

  PetscCall(csv_open(c, dir, "features.csv"));
  PetscCheck(csv_next(c) && c->nfield >= 3, PETSC_COMM_SELF, CDN_ERR_CORRUPT, "%s: bad header", c->path);
  res->nfeat = c->nfield - 2;
  PetscCall(PetscMalloc1(res->nfeat, &res->feat_names));
  for (int f = 0; f < res->nfeat; f++) snprintf(res->feat_names[f], 64, "%s", c->field[2 + f]);
  PetscCall(PetscMalloc1((size_t)n * (E + 1) * res->nfeat, &res->features));
  for (size_t i = 0; i < (size_t)n * (E + 1) * res->nfeat; i++) res->features[i] = NAN;
  while (csv_next(c)) {
    double mv, ev;
    PetscCall(number(c, 0, &mv));
    PetscCall(number(c, 1, &ev));
    PetscCheck(mv >= 0 && mv < n && ev >= 0 && ev <= E && c->nfield == res->nfeat + 2, PETSC_COMM_SELF, CDN_ERR_CORRUPT,
               "%s:%d: bad row (model %g, epoch %g, %d fields)", c->path, c->lineno, mv, ev, c->nfield);
    for (int f = 0; f < res->nfeat; f++) PetscCall(number(c, 2 + f, &cdn_results_features(res, (int)mv, (int)ev)[f]));
  }
  fclose(c->fp), c->fp = NULL;
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_results_load(const char *dir, cdn_results_t *res)
{
  csv_t         *c;
  PetscErrorCode ierr;

  PetscFunctionBeginUser;
  memset(res, 0, sizeof *res);
  PetscCall(PetscNew(&c));
  ierr = load(c, dir, res); /* not PetscCall: the open file is closed on every path */
  if (c->fp) fclose(c->fp);
  PetscCall(PetscFree(c));
  if (ierr) PetscCall(cdn_results_destroy(res));
  PetscCall(ierr);
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_results_destroy(cdn_results_t *res)
{
  PetscFunctionBeginUser;
  PetscCall(PetscFree(res->config));
  PetscCall(PetscFree(res->status));
  PetscCall(PetscFree(res->diverged_epoch));
  PetscCall(PetscFree(res->epochs_done));
  PetscCall(PetscFree(res->rank));
  PetscCall(PetscFree(res->test_acc));
  PetscCall(PetscFree(res->curves));
  PetscCall(PetscFree(res->timing));
  PetscCall(PetscFree(res->features));
  PetscCall(PetscFree(res->feat_names));
  PetscFunctionReturn(0);
}
