/* Saved predictors: one learner fitted on every model of a finished run for one method and budget,
   written to a file, and used to score the models of another run. The file is a text header
   (format, method, budget, input width, learner, the families of its indicator columns, payload
   bytes) and a payload holding the fitted
   state of fitted.c: the class cuts, then per learner its preparation, chosen hyperparameters and
   coefficients as named blocks of numbers ("NAME COUNT" then COUNT lines of %.17g, which read back
   to the same doubles), or for boosted trees XGBoost's own JSON model. Scoring goes through
   cdn_fitted_predict, the code a cross-validation fold predicts with, so a saved predictor scores a
   model exactly as that fold's learner would. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <xgboost/c_api.h>
#include "cnndyn/model.h"
#include "cnndyn/evaluate.h"
#include "predict_impl.h"

#define MAGIC "cnndyn-predictor "
#define FORMAT 4 /* 4 added fitted_on, 3 the families line; formats 2 and 3 still read */
#define MAX_BYTES (1ull << 31)

/* ---- writing ---- */

static void put(FILE *fp, const char *name, int n, const double *v)
{
  fprintf(fp, "%s %d\n", name, n);
  for (int i = 0; i < n; i++) fprintf(fp, "%.17g\n", v[i]);
}

static void put_int(FILE *fp, const char *name, int n, const int *v)
{
  fprintf(fp, "%s %d\n", name, n);
  for (int i = 0; i < n; i++) fprintf(fp, "%d\n", v[i]);
}

static void put_scaler(FILE *fp, const cdn_scaler_t *s)
{
  int dims[3] = {s->d, s->kept, s->nind};
  put_int(fp, "scaler", 3, dims);
  put_int(fp, "col", s->kept, s->col);
  put(fp, "mean", s->kept, s->mean);
  put(fp, "std", s->kept, s->std);
  put(fp, "lo", s->kept, s->lo);
  put(fp, "hi", s->kept, s->hi);
  put_int(fp, "ind_col", s->nind, s->ind_col);
  put(fp, "ind_mean", s->nind, s->ind_mean);
  put(fp, "ind_std", s->nind, s->ind_std);
}

PetscErrorCode cdn_fitted_payload(const cdn_fitted_t *m, char **buf, size_t *len)
{
  FILE *fp = open_memstream(buf, len);
  int   p  = m->sc.width;

  PetscFunctionBeginUser;
  PetscCheck(fp, PETSC_COMM_SELF, PETSC_ERR_MEM, "saved predictor: no memory for the payload");
  put(fp, "cuts", m->ncuts, m->cuts);
  switch (m->learner) {
  case CDN_LEARNER_LINEAR:
    put(fp, "hyperparameters", 2, m->hp);
    put_scaler(fp, &m->sc);
    put(fp, "ridge_intercept", 1, &m->b0);
    put(fp, "ridge_weights", p, m->w);
    put_int(fp, "logistic_classes", m->nlabel, m->label);
    put(fp, "logistic_weights", m->nlabel > 1 ? (p + 1) * (m->nlabel == 2 ? 1 : m->nlabel) : 0, m->lw);
    break;
  case CDN_LEARNER_SVR:
    put(fp, "hyperparameters", 2, m->hp);
    put_scaler(fp, &m->sc);
    put(fp, "intercept", 1, &m->b0);
    put(fp, "dual_coefficients", m->nw, m->w);
    put(fp, "support_vectors", m->nw * p, m->sv);
    break;
  case CDN_LEARNER_SCORE: {
    double v[6] = {m->fill, m->b0, m->slope, m->lo, m->hi, m->t};
    put(fp, "score_fill_intercept_slope_lo_hi_cut", 6, v);
    put_int(fp, "cut_direction", 1, &m->cls);
  } break;
  case CDN_LEARNER_MAJORITY:
    put(fp, "mean", 1, &m->b0);
    put_int(fp, "class", 1, &m->cls);
    break;
  case CDN_LEARNER_XGB: {
    bst_ulong   n;
    const char *json;
    if (XGBoosterSaveModelToBuffer(m->booster, "{\"format\": \"json\"}", &n, &json)) {
      fclose(fp);
      free(*buf);
      SETERRQ(PETSC_COMM_SELF, PETSC_ERR_LIB, "xgboost: %s", cdn_xgb_error());
    }
    fprintf(fp, "xgboost_json %llu\n", (unsigned long long)n);
    fwrite(json, 1, n, fp);
  } break;
  default: break;
  }
  {
    int failed = ferror(fp);
    failed     = fclose(fp) != 0 || failed; /* always closed: the buffer is only final after it */
    if (failed) {
      free(*buf);
      *buf = NULL;
      SETERRQ(PETSC_COMM_SELF, PETSC_ERR_MEM, "saved predictor: payload not written");
    }
  }
  PetscFunctionReturn(0);
}

/* The fitted predictor's file: header, then payload; written whole or not at all. */
PetscErrorCode cdn_predictor_write(const char *path, cdn_method_t method, cdn_learner_t learner, int k, int d,
                                   const char *families, const char *fitted_on, const cdn_fitted_t *m)
{
  char          *buf = NULL;
  size_t         len = 0;
  cdn_afile_t    af  = {0};
  PetscErrorCode ierr;

  PetscFunctionBeginUser;
  PetscCall(cdn_fitted_payload(m, &buf, &len));
  ierr = cdn_afile_open(&af, path);
  if (!ierr) {
    fprintf(af.fp, "%s%d\nmethod %s\nbudget %d\nwidth %d\nlearner %s\nfamilies %s\nfitted_on %s\nbytes %zu\n", MAGIC,
            FORMAT, cdn_method_name(method), k, d, cdn_learner_name(learner), families, fitted_on[0] ? fitted_on : "-", len);
    fwrite(buf, 1, len, af.fp);
    ierr = cdn_afile_commit(&af); /* reports a failed write, and removes the partial file */
  }
  free(buf);
  PetscCall(ierr);
  PetscFunctionReturn(0);
}

/* ---- reading ---- */

/* Every number of the file is read as a token and checked: plain decimal text (no hex, nan, inf
   except where a learner writes one), in the range that field can hold, counts without wrap-around.
   A file that passes cannot make a prediction NaN or absurd through a damaged number. */
typedef struct {
  FILE       *fp;
  const char *path;
} reader_t;

#define BAD(...) SETERRQ(PETSC_COMM_SELF, CDN_ERR_CORRUPT, __VA_ARGS__)

static PetscErrorCode token(reader_t *r, const char *name, char *tok)
{
  PetscFunctionBeginUser;
  if (fscanf(r->fp, "%63s", tok) != 1) BAD("%s: not a whole cnndyn predictor: block '%s' cut short", r->path, name);
  PetscFunctionReturn(0);
}

/* A block header "NAME COUNT" with 0 <= COUNT <= max. */
static PetscErrorCode head(reader_t *r, const char *name, int max, int *n)
{
  char      got[64], count[64];
  long long c;

  PetscFunctionBeginUser;
  if (fscanf(r->fp, "%63s %63s", got, count) != 2 || strcmp(got, name))
    BAD("%s: not a whole cnndyn predictor: block '%s' missing or malformed", r->path, name);
  if (cdn_parse_integer(count, &c) != CDN_NUMBER_OK || c < 0 || c > max)
    BAD("%s: block '%s': count '%s' is not an integer in [0, %d]", r->path, name, count, max);
  *n = (int)c;
  PetscFunctionReturn(0);
}

/* n numbers in [lo, hi]; inf_ok takes "inf" / "-inf" (a score learner's open-ended cut). */
static PetscErrorCode values_in(reader_t *r, const char *name, int n, double lo, double hi, PetscBool inf_ok, double *v)
{
  char tok[64];

  PetscFunctionBeginUser;
  for (int i = 0; i < n; i++) {
    cdn_number_t got;
    PetscCall(token(r, name, tok));
    if (inf_ok && (!strcmp(tok, "inf") || !strcmp(tok, "-inf"))) {
      v[i] = tok[0] == '-' ? -INFINITY : INFINITY;
      continue;
    }
    got = cdn_parse_real(tok, &v[i]);
    if (got != CDN_NUMBER_OK && got != CDN_NUMBER_TINY)
      BAD("%s: block '%s' value %d: '%s' %s", r->path, name, i, tok, cdn_number_problem(got));
    if (!(v[i] >= lo && v[i] <= hi)) BAD("%s: block '%s' value %d: %s is outside [%g, %g]", r->path, name, i, tok, lo, hi);
  }
  PetscFunctionReturn(0);
}

static PetscErrorCode values(reader_t *r, const char *name, int n, double *v)
{
  PetscFunctionBeginUser;
  PetscCall(values_in(r, name, n, -DBL_MAX, DBL_MAX, PETSC_FALSE, v));
  PetscFunctionReturn(0);
}

/* A block header whose count must be exactly n: the one check of get_in and get_int. */
static PetscErrorCode head_exact(reader_t *r, const char *name, int n)
{
  int c;

  PetscFunctionBeginUser;
  PetscCall(head(r, name, n, &c));
  if (c != n) BAD("%s: block '%s' has %d values, expected %d", r->path, name, c, n);
  PetscFunctionReturn(0);
}

/* A block of exactly n numbers in [lo, hi]. */
static PetscErrorCode get_in(reader_t *r, const char *name, int n, double lo, double hi, double *v)
{
  PetscFunctionBeginUser;
  PetscCall(head_exact(r, name, n));
  PetscCall(values_in(r, name, n, lo, hi, PETSC_FALSE, v));
  PetscFunctionReturn(0);
}

static PetscErrorCode get(reader_t *r, const char *name, int n, double *v)
{
  PetscFunctionBeginUser;
  PetscCall(get_in(r, name, n, -DBL_MAX, DBL_MAX, v));
  PetscFunctionReturn(0);
}

/* n integers in [lo, hi], strictly increasing when increasing is set. */
static PetscErrorCode ints(reader_t *r, const char *name, int n, int lo, int hi, PetscBool increasing, int *v)
{
  char      tok[64];
  long long x;

  PetscFunctionBeginUser;
  for (int i = 0; i < n; i++) {
    PetscCall(token(r, name, tok));
    if (cdn_parse_integer(tok, &x) != CDN_NUMBER_OK || x < lo || x > hi)
      BAD("%s: block '%s' value %d: '%s' is not an integer in [%d, %d]", r->path, name, i, tok, lo, hi);
    v[i] = (int)x;
    if (increasing && i > 0 && v[i] <= v[i - 1]) BAD("%s: block '%s': values must increase (%d after %d)", r->path, name, v[i], v[i - 1]);
  }
  PetscFunctionReturn(0);
}

/* A block of exactly n integers in [lo, hi]. */
static PetscErrorCode get_int(reader_t *r, const char *name, int n, int lo, int hi, PetscBool increasing, int *v)
{
  PetscFunctionBeginUser;
  PetscCall(head_exact(r, name, n));
  PetscCall(ints(r, name, n, lo, hi, increasing, v));
  PetscFunctionReturn(0);
}

static PetscErrorCode get_scaler(reader_t *r, int width, cdn_scaler_t *s)
{
  int dims[3];

  PetscFunctionBeginUser;
  PetscCall(get_int(r, "scaler", 3, 0, width, PETSC_FALSE, dims));
  if (dims[0] != width) BAD("%s: preparation for %d columns in a predictor of width %d", r->path, dims[0], width);
  PetscCall(cdn_scaler_alloc(s, width));
  s->kept = dims[1], s->nind = dims[2], s->width = s->kept + s->nind;
  PetscCall(get_int(r, "col", s->kept, 0, width - 1, PETSC_TRUE, s->col));
  PetscCall(get(r, "mean", s->kept, s->mean));
  /* the preparation divides by std: a zero one is a damaged file, never a fitted one */
  PetscCall(get_in(r, "std", s->kept, DBL_MIN, DBL_MAX, s->std));
  PetscCall(get(r, "lo", s->kept, s->lo));
  PetscCall(get(r, "hi", s->kept, s->hi));
  for (int k = 0; k < s->kept; k++)
    if (!(s->lo[k] <= s->hi[k])) BAD("%s: blocks 'lo' and 'hi' value %d: lo %g is above hi %g", r->path, k, s->lo[k], s->hi[k]);
  PetscCall(get_int(r, "ind_col", s->nind, 0, width - 1, PETSC_TRUE, s->ind_col));
  PetscCall(get_in(r, "ind_mean", s->nind, 0, 1, s->ind_mean));
  PetscCall(get_in(r, "ind_std", s->nind, DBL_MIN, 1, s->ind_std));
  PetscFunctionReturn(0);
}

static PetscErrorCode parse(reader_t *r, const char *buf, size_t len, cdn_fitted_t *m)
{
  int p, nw;

  PetscFunctionBeginUser;
  PetscCall(head(r, "cuts", 8, &m->ncuts));
  if (m->ncuts < 1) BAD("%s: block 'cuts': no class cuts", r->path);
  PetscCall(values(r, "cuts", m->ncuts, m->cuts));
  for (int i = 1; i < m->ncuts; i++)
    if (m->cuts[i] < m->cuts[i - 1]) BAD("%s: block 'cuts': %g after %g, cuts must not decrease", r->path, m->cuts[i], m->cuts[i - 1]);
  switch (m->learner) {
  case CDN_LEARNER_LINEAR:
    PetscCall(get_in(r, "hyperparameters", 2, DBL_MIN, DBL_MAX, m->hp)); /* ridge lambda, logistic C > 0 */
    PetscCall(get_scaler(r, m->d, &m->sc));
    p = m->nw = m->sc.width;
    PetscCall(get(r, "ridge_intercept", 1, &m->b0));
    PetscCall(PetscMalloc1(p + 1, &m->w));
    PetscCall(get(r, "ridge_weights", p, m->w));
    PetscCall(head(r, "logistic_classes", m->ncuts + 1, &m->nlabel));
    if (m->nlabel < 1) BAD("%s: block 'logistic_classes': no classes", r->path);
    PetscCall(PetscMalloc1(m->nlabel, &m->label));
    PetscCall(ints(r, "logistic_classes", m->nlabel, 0, m->ncuts, PETSC_FALSE, m->label));
    for (int i = 0; i < m->nlabel; i++) /* liblinear's order, first seen first: each class once */
      for (int j = 0; j < i; j++)
        if (m->label[i] == m->label[j]) BAD("%s: block 'logistic_classes': class %d appears twice", r->path, m->label[i]);
    nw = m->nlabel == 1 ? 0 : (p + 1) * (m->nlabel == 2 ? 1 : m->nlabel);
    PetscCall(PetscMalloc1(nw + 1, &m->lw));
    PetscCall(get(r, "logistic_weights", nw, m->lw));
    break;
  case CDN_LEARNER_SVR:
    PetscCall(get_in(r, "hyperparameters", 2, DBL_MIN, DBL_MAX, m->hp)); /* C and gamma > 0 */
    PetscCall(get_scaler(r, m->d, &m->sc));
    p = m->sc.width;
    PetscCall(get(r, "intercept", 1, &m->b0));
    PetscCall(head(r, "dual_coefficients", 1 << 24, &m->nw));
    if (p == 0 && m->nw) BAD("%s: support vectors without features", r->path);
    if ((size_t)m->nw * p > (1u << 28)) BAD("%s: %d support vectors of %d columns: too many", r->path, m->nw, p);
    /* every value takes two bytes at least (a digit and a separator): a damaged count must not
       allocate what the file cannot hold */
    if ((size_t)m->nw * (p + 1) > len / 2) BAD("%s: block 'dual_coefficients' has more values than the file", r->path);
    PetscCall(PetscMalloc2(m->nw + 1, &m->w, (size_t)m->nw * p + 1, &m->sv));
    PetscCall(values(r, "dual_coefficients", m->nw, m->w));
    PetscCall(get(r, "support_vectors", m->nw * p, m->sv));
    break;
  case CDN_LEARNER_SCORE: {
    double v[6];
    int    c;
    if (m->d != 1) BAD("%s: a score predictor has width 1, not %d", r->path, m->d);
    PetscCall(head(r, "score_fill_intercept_slope_lo_hi_cut", 6, &c));
    if (c != 6) BAD("%s: block 'score_fill_intercept_slope_lo_hi_cut' has %d values, expected 6", r->path, c);
    PetscCall(values(r, "score_fill_intercept_slope_lo_hi_cut", 5, v));
    PetscCall(values_in(r, "score_fill_intercept_slope_lo_hi_cut", 1, -INFINITY, INFINITY, PETSC_TRUE, v + 5));
    if (!(v[3] <= v[4])) BAD("%s: block 'score_fill_intercept_slope_lo_hi_cut': lo %g is above hi %g", r->path, v[3], v[4]);
    m->fill = v[0], m->b0 = v[1], m->slope = v[2], m->lo = v[3], m->hi = v[4], m->t = v[5];
    m->col = 0, m->sgn = 1; /* one column, read as it is */
    PetscCall(get_int(r, "cut_direction", 1, -1, 1, PETSC_FALSE, &m->cls));
  } break;
  case CDN_LEARNER_MAJORITY:
    PetscCall(get_in(r, "mean", 1, 0, 1, &m->b0));
    PetscCall(get_int(r, "class", 1, 0, m->ncuts, PETSC_FALSE, &m->cls));
    break;
  case CDN_LEARNER_XGB: {
    char               word[64] = "", count[64] = "";
    long long          n = 0;
    long               at;
    if (fscanf(r->fp, " %63s %63s", word, count) != 2 || strcmp(word, "xgboost_json") ||
        cdn_parse_integer(count, &n) != CDN_NUMBER_OK || n < 1 || fgetc(r->fp) != '\n' || (at = ftell(r->fp)) < 0 ||
        (unsigned long long)at + (unsigned long long)n != len)
      BAD("%s: not a whole cnndyn predictor: XGBoost model missing or cut short", r->path);
    if (XGBoosterCreate(NULL, 0, &m->booster) || XGBoosterLoadModelFromBuffer(m->booster, buf + at, (bst_ulong)n))
      BAD("%s: xgboost cannot read the model: %s", r->path, cdn_xgb_error());
    fseek(r->fp, 0, SEEK_END);
  } break;
  default: break;
  }
  {
    char extra;
    if (fscanf(r->fp, " %c", &extra) == 1)
      BAD("%s: unexpected data after the %s model", r->path, cdn_learner_name(m->learner));
  }
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_fitted_parse(const char *path, const char *buf, size_t len, cdn_learner_t learner, int d,
                                cdn_fitted_t **out)
{
  reader_t       r = {fmemopen((void *)buf, len, "r"), path};
  cdn_fitted_t  *m;
  PetscErrorCode ierr;

  PetscFunctionBeginUser;
  *out = NULL;
  PetscCheck(r.fp, PETSC_COMM_SELF, PETSC_ERR_MEM, "%s: cannot read the payload", path);
  ierr = PetscNew(&m);
  if (!ierr) {
    m->learner = learner, m->d = d;
    ierr       = parse(&r, buf, len, m);
  }
  fclose(r.fp);
  if (ierr) PetscCall(cdn_fitted_destroy(&m));
  PetscCall(ierr);
  *out = m;
  PetscFunctionReturn(0);
}

/* One header line "KEY VALUE" (VALUE without blanks, at most 127 characters). */
static PetscErrorCode header_line(FILE *fp, const char *path, const char *key, char *value)
{
  char line[256], k[64], rest[2];

  PetscFunctionBeginUser;
  value[0] = '\0';
  if (!fgets(line, sizeof line, fp) || !strchr(line, '\n') || sscanf(line, "%63s %127s %1s", k, value, rest) != 2 ||
      strcmp(k, key))
    BAD("%s: not a cnndyn predictor: header line '%s VALUE' missing or malformed", path, key);
  PetscFunctionReturn(0);
}

static PetscErrorCode header_int(FILE *fp, const char *path, const char *key, long long lo, long long hi, long long *v)
{
  char value[128];

  PetscFunctionBeginUser;
  PetscCall(header_line(fp, path, key, value));
  if (cdn_parse_integer(value, v) != CDN_NUMBER_OK || *v < lo || *v > hi)
    BAD("%s: header %s: '%s' is not an integer in [%lld, %lld]", path, key, value, lo, hi);
  PetscFunctionReturn(0);
}

/* How many known families list holds, distinct and in name order; -1 if it is not such a list. */
static int family_count(const char *fam)
{
  int mask = cdn_arch_list_read(fam), n = 0;
  for (int a = 0; mask > 0 && a < CDN_ARCH_COUNT; a++) n += mask >> a & 1;
  return mask < 0 ? -1 : n;
}

/* "-" or two or more known families, distinct and in name order (cdn_method_families), and only
   for methods with family columns. */
static PetscErrorCode check_families(const char *path, cdn_method_t method, const char *fam)
{
  int n;

  PetscFunctionBeginUser;
  if (!strcmp(fam, "-")) PetscFunctionReturn(0);
  if (!cdn_method_has_families(method))
    BAD("%s: header families: '%s', but %s inputs have no family columns (expected -)", path, fam, cdn_method_name(method));
  if ((n = family_count(fam)) < 0)
    BAD("%s: header families: '%s' is not a list of known families in name order, each once", path, fam);
  /* one family has no column (its indicator would be constant) */
  if (n < 2) BAD("%s: header families: '%s': one family has no family columns (expected -)", path, fam);
  PetscFunctionReturn(0);
}

/* The header and the payload bytes of a predictor file; every field is checked here, so a
   truncated or foreign file stops with one message naming it and the field. */
static PetscErrorCode read_header(FILE *fp, const char *path, cdn_predictor_info_t *info, int *width, char *families,
                                  size_t families_len, long long *bytes)
{
  char      value[128], mname[128], lname[128], fam[128] = "-";
  long long format, v;
  int       meth = -1;

  PetscFunctionBeginUser;
  if (!fgets(value, sizeof value, fp) || strncmp(value, MAGIC, strlen(MAGIC)))
    BAD("%s: not a cnndyn predictor (no '%s' line)", path, MAGIC);
  value[strcspn(value, "\n")] = '\0';
  if (cdn_parse_integer(value + strlen(MAGIC), &format) == CDN_NUMBER_SYNTAX)
    BAD("%s: not a cnndyn predictor: format '%s' is not a number", path, value + strlen(MAGIC));
  if (cdn_parse_integer(value + strlen(MAGIC), &format) != CDN_NUMBER_OK || format < 2 || format > FORMAT)
    BAD("%s: predictor format %s; this cnndyn reads format %d: fit it again with --save", path, value + strlen(MAGIC), FORMAT);
  PetscCall(header_line(fp, path, "method", mname));
  for (int m = 0; m < CDN_METHOD_COUNT; m++)
    if (!strcmp(mname, cdn_method_name((cdn_method_t)m))) meth = m;
  if (meth < 0) BAD("%s: header method: unknown method '%s'", path, mname);
  info->method = (cdn_method_t)meth;
  PetscCall(header_int(fp, path, "budget", meth == CDN_METHOD_HPARAMS || meth == CDN_METHOD_MAJORITY ? 0 : 1, 1000, &v));
  info->budget = (int)v;
  PetscCall(header_int(fp, path, "width", 1, 1 << 24, &v));
  *width = (int)v;
  PetscCall(header_line(fp, path, "learner", lname));
  info->learner = (cdn_learner_t)cdn_learner_from_name(lname);
  if (info->learner < 0 || !(cdn_method_learners(info->method) & (1u << info->learner)))
    BAD("%s: header learner: '%s' is not a learner of method %s", path, lname, mname);
  if (format > 2) PetscCall(header_line(fp, path, "families", fam));
  PetscCall(check_families(path, info->method, fam));
  info->fitted_on[0] = '\0'; /* unknown before format 4 */
  if (format > 3) {
    PetscCall(header_line(fp, path, "fitted_on", info->fitted_on));
    if (!strcmp(info->fitted_on, "-")) info->fitted_on[0] = '\0'; /* models without an architecture name */
    else if (family_count(info->fitted_on) < 1)
      BAD("%s: header fitted_on: '%s' is not a list of known families in name order, each once", path, info->fitted_on);
  }
  snprintf(families, families_len, "%s", fam);
  PetscCall(header_int(fp, path, "bytes", 1, (long long)MAX_BYTES, bytes));
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_predictor_read(const char *path, cdn_predictor_info_t *info, int *width, char *families,
                                  size_t families_len, char **buf, size_t *len)
{
  FILE          *fp = fopen(path, "rb");
  long long      bytes = 0;
  long           at, end = 0;
  int            ok;
  PetscErrorCode ierr;

  PetscFunctionBeginUser;
  PetscCheck(fp, PETSC_COMM_SELF, CDN_ERR_OPEN, "%s: cannot open", path);
  ierr = read_header(fp, path, info, width, families, families_len, &bytes);
  if (ierr) fclose(fp);
  PetscCall(ierr);
  /* the payload's size is checked before it is read, so a damaged byte count allocates nothing */
  at = ftell(fp);
  ok = at >= 0 && fseek(fp, 0, SEEK_END) == 0 && (end = ftell(fp)) >= at && fseek(fp, at, SEEK_SET) == 0;
  if (!ok || end - at != bytes) {
    fclose(fp);
    SETERRQ(PETSC_COMM_SELF, CDN_ERR_CORRUPT, "%s: %s: %lld payload bytes, the header says %lld", path,
            ok && end - at > bytes ? "unexpected data after the model" : "truncated", ok ? (long long)(end - at) : -1LL,
            bytes);
  }
  PetscCall(PetscMalloc1(bytes, buf));
  *len = fread(*buf, 1, bytes, fp);
  fclose(fp);
  if (*len != (size_t)bytes) {
    PetscCall(PetscFree(*buf));
    SETERRQ(PETSC_COMM_SELF, CDN_ERR_OPEN, "%s: read failed", path);
  }
  PetscFunctionReturn(0);
}

