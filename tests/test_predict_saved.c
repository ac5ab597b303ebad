/* Saved predictors (cnndyn predict --save / --model): every learner's fitted state written and read
   back predicts exactly what the learner fitted in memory predicts, on synthetic data with NaN,
   exploded and constant columns and for median, tercile and one-class tasks; through the files of
   cdn_predictor_save and cdn_predictor_score, scoring another run equals a cross-validation fold
   with that run as its test rows; a predictor with family columns scores a run of fewer families,
   and a format 2 file still reads; and a truncated or altered file, another input width, a missing
   method, too few epochs, an unknown family and a learner the method does not take each stop with
   a clear error. */
#include <string.h>
#include <unistd.h>
#include "check.h"
#include "cnndyn/evaluate.h"
#include "cnndyn/model.h"
#include "cnndyn/util.h"
#include "../src/predict/predict_impl.h"

enum { NA = 48, NB = 30, N = NA + NB, D = 4 };

/* Row i: a signal column, noise, a constant, and a column that is NaN or 1e18 on a few rows. */
static void synth(double *X, double *y, int *group, int *cls3)
{
  cdn_rng_t r;
  cdn_rng_seed(&r, 21, 0);
  for (int i = 0; i < N; i++) {
    double s = 4 * cdn_rng_uniform(&r) - 2;
    X[i * D + 0] = s, X[i * D + 1] = cdn_rng_normal(&r), X[i * D + 2] = 7;
    X[i * D + 3] = i % 11 == 3 ? NAN : i % 13 == 5 ? 1e18 : s * s + 0.1 * cdn_rng_normal(&r);
    y[i]         = 0.5 + 0.1 * s + 0.05 * exp(-s * s) + 0.01 * cdn_rng_normal(&r);
    group[i]     = i / 2;
    cls3[i]      = (y[i] > 0.45) + (y[i] > 0.55);
  }
}

/* The learner fitted on rows 0..NA-1 predicts rows NA..N-1 in memory and again after its state
   went through a payload; the two must agree to 1e-12 (they are expected to be identical). */
static PetscErrorCode roundtrip(const cdn_fold_t *f, cdn_learner_t l, const char *what)
{
  cdn_fitted_t *m, *back;
  double       p1[NB], p2[NB];
  int          c1[NB], c2[NB], same = 1;
  char        *buf;
  size_t       len;

  PetscFunctionBeginUser;
  PetscCall(cdn_fitted_fit(f, l, &m));
  PetscCall(cdn_fitted_predict(m, f->X, f->test, f->nte, p1, c1));
  PetscCall(cdn_fitted_payload(m, &buf, &len));
  PetscCall(cdn_fitted_parse("roundtrip", buf, len, l, f->d, &back));
  PetscCall(cdn_fitted_predict(back, f->X, f->test, f->nte, p2, c2));
  for (int i = 0; i < NB; i++) {
    CHECK(isfinite(p1[i]));
    CHECK_CLOSE(p2[i], p1[i], 1e-12);
    CHECK(c1[i] == c2[i] && c1[i] >= 0 && c1[i] < f->nclasses);
    same &= p1[i] == p2[i];
  }
  if (!same) fprintf(stderr, "%s, %s: round trip within 1e-12 but not identical\n", cdn_learner_name(l), what);
  free(buf);
  PetscCall(cdn_fitted_destroy(&m));
  PetscCall(cdn_fitted_destroy(&back));
  PetscFunctionReturn(0);
}

static PetscErrorCode test_learners(void)
{
  static double X[N * D], S[N], y[N];
  int           group[N], cls[N], cls3[N], train[NA], test[NB], ones[N];
  double        th3[2] = {0.45, 0.55}, th_low[1] = {-1};

  PetscFunctionBeginUser;
  synth(X, y, group, cls3);
  for (int i = 0; i < N; i++) S[i] = X[i * D + 3], cls[i] = y[i] > 0.5, ones[i] = 1;
  for (int i = 0; i < NA; i++) train[i] = i;
  for (int i = 0; i < NB; i++) test[i] = NA + i;
  cdn_fold_t f = {.d = D, .X = X, .y = y, .cls = cls, .train = train, .test = test, .ntr = NA, .nte = NB,
                  .group = group, .nclasses = 2, .inner_folds = 3, .seed = 5, .lambda = 1, .c = 1};
  for (cdn_learner_t l = 0; l < CDN_LEARNER_COUNT; l++) {
    cdn_fold_t g = f;
    if (l == CDN_LEARNER_SCORE) g.d = 1, g.X = S; /* a raw score with NaN and 1e18 values */
    PetscCall(roundtrip(&g, l, "median"));
    g.nclasses = 3, g.cls = cls3, g.thresholds = th3;
    PetscCall(roundtrip(&g, l, "terciles"));
    g.nclasses = 2, g.cls = ones, g.thresholds = th_low; /* one class: logistic has nothing to separate */
    PetscCall(roundtrip(&g, l, "one class"));
    g = f, g.inner_folds = 0; /* hyperparameters as given */
    if (l != CDN_LEARNER_SCORE) PetscCall(roundtrip(&g, l, "no inner CV"));
  }
  PetscFunctionReturn(0);
}

/* A run of n models, E epochs, nfeat features of one statistic (layers l0, l1, ...): the label rises with
   feature 0 at every epoch and with the validation accuracy. */
static PetscErrorCode run(int n, int nfeat, const char *statistic, uint64_t seed, cdn_results_t **rp)
{
  enum { E = 3 };
  cdn_rng_t      g;
  cdn_results_t *r;

  PetscFunctionBeginUser;
  PetscCall(cdn_results_create(rp));
  r = *rp;
  cdn_rng_seed(&g, seed, 0);
  *r = (cdn_results_t){.nmodels = n, .epochs = E, .nfeat = nfeat, .num_classes = 10};
  PetscCall(PetscCalloc1(n, &r->config));
  PetscCall(PetscCalloc1(n, &r->status));
  PetscCall(PetscCalloc1(n, &r->diverged_epoch));
  PetscCall(PetscCalloc1(n, &r->epochs_done));
  PetscCall(PetscCalloc1(n, &r->rank));
  PetscCall(PetscCalloc1(n, &r->test_acc));
  PetscCall(PetscCalloc1((size_t)n * (E + 1) * CDN_CURVE_COLS, &r->curves));
  PetscCall(PetscCalloc1((size_t)n * (E + 1) * CDN_TIME_COLS, &r->timing));
  PetscCall(PetscCalloc1((size_t)n * (E + 1) * nfeat + 1, &r->features));
  PetscCall(PetscCalloc1(nfeat + 1, &r->columns));
  for (int j = 0; j < nfeat; j++) {
    char layer[16];
    snprintf(layer, sizeof layer, "l%d", j);
    PetscCall(cdn_column_make(&r->columns[j], statistic, strcmp(statistic, "weight") ? "group" : "tensor", layer, "mean"));
  }
  for (int m = 0; m < n; m++) {
    double q = cdn_rng_uniform(&g);
    r->config[m].config_id = m / 2, r->epochs_done[m] = E;
    for (int h = 0; h < CDN_HP_COUNT; h++) r->config[m].hp[h] = h == CDN_HP_LEARNING_RATE ? 0.01 + 0.1 * q : cdn_rng_uniform(&g);
    r->test_acc[m] = 0.3 + 0.6 * q + 0.02 * cdn_rng_normal(&g);
    for (int e = 0; e <= E; e++) {
      cdn_results_curve(r, m, e)[CDN_CURVE_VAL_ACC]  = 0.1 + (0.2 + 0.7 * q) * e / E + 0.01 * cdn_rng_normal(&g);
      cdn_results_curve(r, m, e)[CDN_CURVE_VAL_LOSS] = 2 - q * e / E;
      for (int j = 0; j < nfeat; j++) cdn_results_features(r, m, e)[j] = j == 0 ? q * (1 + e) : cdn_rng_normal(&g);
    }
  }
  PetscFunctionReturn(0);
}

static PetscErrorCode expect_error(PetscErrorCode err, PetscErrorCode code, const char *needle)
{
  const char *text;
  char       *specific = NULL;

  PetscFunctionBeginUser;
  CHECK(err == code);
  if (err) {
    PetscCall(PetscErrorMessage(err, &text, &specific));
    CHECK_CONTAINS(specific, needle);
  }
  PetscFunctionReturn(0);
}

/* Writes the first len bytes of src to dst, with byte at (if >= 0) replaced by c. */
static void copy_file(const char *src, const char *dst, long len, long at, char c)
{
  FILE *in = fopen(src, "rb"), *out = fopen(dst, "wb");
  int   ch;
  for (long i = 0; in && out && (ch = fgetc(in)) != EOF && (len < 0 || i < len); i++) fputc(i == at ? c : ch, out);
  if (in) fclose(in);
  if (out) fclose(out);
}


/* A copy of predictor src with one payload line changed: the line `skip` lines after the payload
   line starting with `block` (0: that line) becomes `line`; the header's byte count follows. */
static void edit(const char *src, const char *dst, const char *block, int skip, const char *line)
{
  char  *text = NULL, *payload, *at, *eol;
  size_t n    = 0;
  FILE  *in = fopen(src, "rb"), *out = fopen(dst, "wb");
  char   head[1024], body[1 << 16];
  int    w;

  if (!in || !out || getdelim(&text, &n, '\0', in) <= 0) goto done;
  payload = strstr(text, "\nbytes ");
  payload = payload ? strchr(payload + 1, '\n') + 1 : text;
  at      = payload;
  while (at && strncmp(at, block, strlen(block))) at = (at = strchr(at, '\n')) ? at + 1 : NULL;
  for (int i = 0; at && i < skip; i++) at = strchr(at, '\n') + 1;
  if (!at) goto done;
  eol = strchr(at, '\n');
  snprintf(body, sizeof body, "%.*s%s%s", (int)(at - payload), payload, line, eol);
  w = snprintf(head, sizeof head, "%.*s", (int)(payload - text), text);
  at = strstr(head, "\nbytes ");
  if (at && w > 0) sprintf(at, "\nbytes %zu\n", strlen(body));
  fputs(head, out), fputs(body, out);
done:
  if (in) fclose(in);
  if (out) fclose(out);
  free(text);
}

/* Every number of a saved predictor is checked: before, these were scored with exit 0 (a count
   that wraps, NaN cuts, NaN or 1e999 intercepts, zero std, a negative SVR gamma predicting -4e146,
   classes out of range, lo > hi, a family header the method has no columns for, a format number
   too big for an int shown as -1, XGBoost's stack trace in the message). */
static PetscErrorCode test_damaged_numbers(cdn_results_t *A, cdn_results_t *B, const cdn_jobspec_t *spec,
                                           const char *path, const char *bad)
{
  static const struct {
    cdn_learner_t learner;
    const char   *block;
    int           skip;
    const char   *line, *needle;
  } cases[] = {
    {CDN_LEARNER_LINEAR, "ridge_weights ", 0, "ridge_weights 4294967299", "block 'ridge_weights': count '4294967299' is not an integer in [0, "},
    {CDN_LEARNER_LINEAR, "cuts ", 1, "nan", "block 'cuts' value 0: 'nan' is not a plain decimal number"},
    {CDN_LEARNER_LINEAR, "ridge_intercept ", 1, "1e999", "block 'ridge_intercept' value 0: '1e999' is too large"},
    {CDN_LEARNER_LINEAR, "ridge_intercept ", 1, "NaN", "block 'ridge_intercept' value 0: 'NaN' is not a plain decimal"},
    {CDN_LEARNER_LINEAR, "std ", 1, "0", "block 'std' value 0: 0 is outside"},
    {CDN_LEARNER_LINEAR, "ridge_intercept ", 1, "1e300", "predicts 1e+300 for model 0: not an accuracy predictor"},
    {CDN_LEARNER_LINEAR, "lo ", 1, "1e300", "blocks 'lo' and 'hi' value 0: lo 1e+300 is above hi"},
    {CDN_LEARNER_LINEAR, "logistic_classes ", 1, "7", "block 'logistic_classes' value 0: '7' is not an integer in [0, 2]"},
    {CDN_LEARNER_LINEAR, "hyperparameters ", 1, "0x1p-4", "'0x1p-4' is not a plain decimal number"},
    {CDN_LEARNER_SVR, "hyperparameters ", 2, "-0.5", "block 'hyperparameters' value 1: -0.5 is outside"},
    {CDN_LEARNER_LINEAR, "families ", 0, NULL, "header families: 'resnet', but weights inputs have no family columns"},
    {CDN_LEARNER_LINEAR, "cnndyn-predictor ", 0, NULL, "predictor format 99999999999999999999; this cnndyn reads format 4"},
    {CDN_LEARNER_LINEAR, "width ", 0, NULL, "header width: '4294967299' is not an integer in [1, "},
    {CDN_LEARNER_XGB, "xgboost_json ", 0, "", "xgboost cannot read the model: "},
  };
  static const char *header[] = {"families resnet", "cnndyn-predictor 99999999999999999999", "width 4294967299"};
  double pred[NB];
  int    pc[NB], lc[NB], h = 0;
  cdn_predictor_info_t info;

  PetscFunctionBeginUser;
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    const char *text, *line = cases[c].line;
    char       *specific = NULL, block[64];
    PetscErrorCode err;
    PetscCall(cdn_predictor_save(path, spec, CDN_METHOD_WEIGHTS, cases[c].learner, 2, A));
    snprintf(block, sizeof block, "%s", line ? cases[c].block : header[h++]);
    if (line && !line[0]) { /* the JSON damaged in place, its length kept: XGBoost refuses it */
      char  *t = NULL, *at;
      size_t n = 0;
      FILE  *in = fopen(path, "rb");
      CHECK(in && getdelim(&t, &n, '\0', in) > 0 && (at = strstr(t, block)));
      if (in) fclose(in);
      if (t && (at = strstr(t, block))) copy_file(path, bad, -1, strchr(at, '\n') + 2 - t, 'x');
      free(t);
    } else if (line) edit(path, bad, block, cases[c].skip, line);
    else { /* a header line: the key is the prefix to find, the whole line its replacement */
      char key[64];
      snprintf(key, sizeof key, "%.*s", (int)(strchr(block, ' ') - block + 1), block);
      {
        char  *t = NULL, *at;
        size_t n = 0;
        FILE  *in = fopen(path, "rb"), *out;
        if (in && getdelim(&t, &n, '\0', in) > 0 && (at = strstr(t, key)) && (out = fopen(bad, "wb"))) {
          fwrite(t, 1, at - t, out), fputs(block, out), fputs(strchr(at, '\n'), out), fclose(out);
        }
        if (in) fclose(in);
        free(t);
      }
    }
    err = cdn_predictor_score(bad, B, pred, pc, lc, &info);
    CHECK(err == CDN_ERR_CORRUPT);
    if (!err) {
      fprintf(stderr, "  accepted: %s\n", cases[c].needle);
      continue;
    }
    PetscCall(PetscErrorMessage(err, &text, &specific));
    CHECK_CONTAINS(specific, bad);
    CHECK_CONTAINS(specific, cases[c].needle);
    CHECK(!strchr(specific, '\n')); /* one line: XGBoost's stack trace is left out */
  }
  PetscFunctionReturn(0);
}

static PetscErrorCode test_files(void)
{
  static const struct {
    cdn_method_t  method;
    cdn_learner_t learner;
    int           k;
  } cases[] = {{CDN_METHOD_WEIGHTS, CDN_LEARNER_LINEAR, 2}, {CDN_METHOD_WEIGHTS, CDN_LEARNER_SVR, 2},
               {CDN_METHOD_WEIGHTS, CDN_LEARNER_XGB, 2},    {CDN_METHOD_VAL_ACC, CDN_LEARNER_SCORE, 2},
               {CDN_METHOD_HPARAMS, CDN_LEARNER_LINEAR, 0}, {CDN_METHOD_MAJORITY, CDN_LEARNER_MAJORITY, 0},
               {CDN_METHOD_CURVE, CDN_LEARNER_SVR, 3}};
  cdn_results_t       *A, *B, *narrow, *nograph, *shortrun;
  cdn_jobspec_t        spec;
  cdn_predictor_info_t info;
  char                 dir[] = "/tmp/cdn_saved_XXXXXX", path[256], bad[256];
  double               pred[NB], label[NB];
  int                  pc[NB], lc[NB];
  FILE                *fp;

  PetscFunctionBeginUser;
  CHECK(mkdtemp(dir) != NULL);
  snprintf(path, sizeof path, "%s/p.cdp", dir);
  snprintf(bad, sizeof bad, "%s/bad.cdp", dir);
  cdn_jobspec_defaults(&spec);
  spec.class_task = CDN_CLASSES_TERCILES;
  PetscCall(run(NA, 3, "weight", 31, &A));
  PetscCall(run(NB, 3, "weight", 32, &B));
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    PetscCall(cdn_predictor_save(path, &spec, cases[c].method, cases[c].learner, cases[c].k, A));
    PetscCall(cdn_predictor_score(path, B, pred, pc, lc, &info));
    CHECK(info.method == cases[c].method && info.learner == cases[c].learner && info.budget == cases[c].k);
    CHECK(info.ncuts == 2 && info.cuts[0] < info.cuts[1]); /* terciles of A's labels */
    for (int i = 0; i < NB; i++) {
      label[i] = cdn_results_label(B, i);
      CHECK(isfinite(pred[i]) && pc[i] >= 0 && pc[i] <= 2);
      CHECK(lc[i] == (label[i] > info.cuts[0]) + (label[i] > info.cuts[1]));
    }
    if (cases[c].learner != CDN_LEARNER_MAJORITY) CHECK(cdn_kendall_tau(pred, label, NB) > 0.5);

    /* the same learner as a cross-validation fold: A's models train, B's are the test rows */
    if (cases[c].method == CDN_METHOD_WEIGHTS || cases[c].method == CDN_METHOD_VAL_ACC) {
      double *XA, *XB, *X, y[N], ref[N], th[2];
      int     d, dB, cls[N], grp[N], train[NA], test[NB], rc[N];
      char    desc[96];
      PetscCall(cdn_method_inputs(cases[c].method, A, cases[c].k, &XA, &d, desc, sizeof desc));
      PetscCall(cdn_method_inputs(cases[c].method, B, cases[c].k, &XB, &dB, desc, sizeof desc));
      PetscCall(PetscMalloc1((size_t)N * d, &X));
      PetscCall(PetscArraycpy(X, XA, (size_t)NA * d));
      PetscCall(PetscArraycpy(X + (size_t)NA * d, XB, (size_t)NB * d));
      th[0] = info.cuts[0], th[1] = info.cuts[1];
      for (int i = 0; i < N; i++) {
        y[i]   = i < NA ? cdn_results_label(A, i) : label[i - NA];
        cls[i] = (y[i] > th[0]) + (y[i] > th[1]);
        grp[i] = i < NA ? A->config[i].config_id : -1 - i;
        if (i < NA) train[i] = i;
        else test[i - NA] = i;
      }
      cdn_fold_t f = {.d = d, .X = X, .y = y, .cls = cls, .train = train, .test = test, .ntr = NA, .nte = NB,
                      .group = grp, .nclasses = 3, .thresholds = th, .inner_folds = spec.inner_folds,
                      .seed = cdn_hash64(spec.seed, 0x7361766564ull), .lambda = spec.ridge_lambda, .c = spec.logistic_c};
      PetscCall(cdn_fitted_fold(&f, cases[c].learner, ref, rc));
      for (int i = 0; i < NB; i++) CHECK(fabs(pred[i] - ref[NA + i]) <= 1e-12 && pc[i] == rc[NA + i]);
      PetscCall(PetscFree(X));
      PetscCall(PetscFree(XA));
      PetscCall(PetscFree(XB));
    }
  }

  /* errors, on a ridge / logistic predictor over 3 weight columns at 2 epochs */
  PetscCall(cdn_predictor_save(path, &spec, CDN_METHOD_WEIGHTS, CDN_LEARNER_LINEAR, 2, A));
  PetscCall(run(NB, 2, "weight", 33, &narrow));
  PetscCall(run(NB, 3, "degree", 34, &nograph));
  PetscCall(run(NB, 3, "weight", 35, &shortrun));
  shortrun->epochs = 1;
  PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
  PetscCall(expect_error(cdn_predictor_score(path, narrow, pred, pc, lc, &info), CDN_ERR_INPUT, "fitted on 3 input columns"));
  PetscCall(expect_error(cdn_predictor_score(path, nograph, pred, pc, lc, &info), CDN_ERR_INPUT, "no inputs"));
  PetscCall(expect_error(cdn_predictor_score(path, shortrun, pred, pc, lc, &info), CDN_ERR_INPUT, "only 1"));
  PetscCall(expect_error(cdn_predictor_save(bad, &spec, CDN_METHOD_VAL_ACC, CDN_LEARNER_LINEAR, 2, A), CDN_ERR_INPUT,
                         "does not take learner linear"));
  CHECK(access(bad, F_OK) != 0); /* nothing written */
  copy_file(path, bad, 200, -1, 0);
  PetscCall(expect_error(cdn_predictor_score(bad, B, pred, pc, lc, &info), CDN_ERR_CORRUPT, "truncated"));
  copy_file(path, bad, 10, -1, 0);
  PetscCall(expect_error(cdn_predictor_score(bad, B, pred, pc, lc, &info), CDN_ERR_CORRUPT, "not a cnndyn predictor"));
  copy_file(path, bad, -1, 120, 'x'); /* inside the payload: a name or a number altered */
  PetscCall(expect_error(cdn_predictor_score(bad, B, pred, pc, lc, &info), CDN_ERR_CORRUPT, bad));
  copy_file(path, bad, -1, 6, 'X'); /* the magic */
  PetscCall(expect_error(cdn_predictor_score(bad, B, pred, pc, lc, &info), CDN_ERR_CORRUPT, "not a cnndyn predictor"));
  fp = fopen(bad, "w");
  fputs("cnndyn-predictor 1\nmethod degree\nbudget 1\nwidth 3\nlearner xgboost\nbytes 2\n{}", fp);
  fclose(fp);
  PetscCall(expect_error(cdn_predictor_score(bad, B, pred, pc, lc, &info), CDN_ERR_CORRUPT, "format 1"));
  copy_file(path, bad, -1, -1, 0);
  fp = fopen(bad, "a");
  fputs("x", fp);
  fclose(fp);
  PetscCall(expect_error(cdn_predictor_score(bad, B, pred, pc, lc, &info), CDN_ERR_CORRUPT, "unexpected data"));
  PetscCall(test_damaged_numbers(A, B, &spec, path, bad));

  /* family columns: fitted on a mix (the file names the families), scored on a run of one of them
     with the same columns; a family the predictor never saw is refused */
  for (int m = 0; m < NA; m++) snprintf(A->config[m].arch, sizeof A->config[m].arch, "%s", m / 2 % 2 ? "lenet5" : "vgg");
  for (int m = 0; m < NB; m++) snprintf(B->config[m].arch, sizeof B->config[m].arch, "lenet5");
  PetscCall(cdn_predictor_save(path, &spec, CDN_METHOD_HPARAMS, CDN_LEARNER_SVR, 0, A));
  fp = fopen(path, "r");
  {
    char header[512] = "", width[32];
    snprintf(width, sizeof width, "\nwidth %d\n", CDN_HP_COUNT + 2); /* the hyperparameters, then lenet5 and vgg */
    CHECK(fp && fread(header, 1, sizeof header - 1, fp) > 0 && strstr(header, width) &&
          strstr(header, "\nfamilies lenet5,vgg\n"));
    if (fp) fclose(fp);
  }
  PetscCall(cdn_predictor_score(path, B, pred, pc, lc, &info));
  snprintf(B->config[3].arch, sizeof B->config[3].arch, "resnet");
  PetscCall(expect_error(cdn_predictor_score(path, B, pred, pc, lc, &info), CDN_ERR_INPUT,
                         "fitted on lenet5,vgg models only; this run has resnet models"));
  snprintf(B->config[3].arch, sizeof B->config[3].arch, "lenet5");
  /* fitted on one family, which gives no family column: a run of another family has the same
     width, and --model once scored it (an outside review: a ResNet predictor on an AlexNet run) */
  for (int m = 0; m < NA; m++) snprintf(A->config[m].arch, sizeof A->config[m].arch, "resnet");
  PetscCall(cdn_predictor_save(path, &spec, CDN_METHOD_HPARAMS, CDN_LEARNER_SVR, 0, A));
  PetscCall(expect_error(cdn_predictor_score(path, B, pred, pc, lc, &info), CDN_ERR_INPUT,
                         "fitted on resnet models only; this run has lenet5 models"));
  /* a format 2 file (before family columns) still scores a run of one family */
  for (int m = 0; m < NA; m++) snprintf(A->config[m].arch, sizeof A->config[m].arch, "lenet5");
  PetscCall(cdn_predictor_save(path, &spec, CDN_METHOD_HPARAMS, CDN_LEARNER_SVR, 0, A));
  {
    char  *text = NULL, *at;
    size_t n    = 0;
    FILE  *in = fopen(path, "rb"), *out = fopen(bad, "wb");
    CHECK(in && out && getdelim(&text, &n, '\0', in) > 0 && (at = strstr(text, "families -\n")));
    if (text && (at = strstr(text, "families -\n"))) {
      text[strlen("cnndyn-predictor ")] = '2';
      /* format 2 had neither the families line nor the fitted_on line after it */
      char *rest = at + strlen("families -\n");
      if (!strncmp(rest, "fitted_on ", 10)) rest = strchr(rest, '\n') + 1;
      fwrite(text, 1, at - text, out), fputs(rest, out);
    }
    if (in) fclose(in);
    if (out) fclose(out);
    free(text);
  }
  PetscCall(cdn_predictor_score(bad, B, pred, pc, lc, &info));
  PetscCall(PetscPopErrorHandler());

  unlink(path), unlink(bad), rmdir(dir);
  PetscCall(cdn_results_destroy(&A));
  PetscCall(cdn_results_destroy(&B));
  PetscCall(cdn_results_destroy(&narrow));
  PetscCall(cdn_results_destroy(&nograph));
  PetscCall(cdn_results_destroy(&shortrun));
  PetscFunctionReturn(0);
}

/* The one way architecture sets are written in files (families, fitted_on) and read back. */
static void test_arch_lists(void)
{
  const int lenet = 1 << cdn_arch_index("lenet5"), vgg = 1 << cdn_arch_index("vgg");
  char      buf[64];
  const char *bad[] = {"vgg,lenet5", "lenet5,lenet5", "lenet5,", ",lenet5", "foo", "lenet", "lenet5,,vgg", "-"};

  cdn_arch_list_write((unsigned)(lenet | vgg), buf, sizeof buf);
  CHECK(!strcmp(buf, "lenet5,vgg"));
  cdn_arch_list_write((1u << CDN_ARCH_COUNT) - 1, buf, sizeof buf);
  CHECK(!strcmp(buf, "alexnet,lenet5,resnet,vgg") && cdn_arch_list_read(buf) == (1 << CDN_ARCH_COUNT) - 1);
  cdn_arch_list_write(0, buf, sizeof buf);
  CHECK(!strcmp(buf, "") && cdn_arch_list_read("") == 0);
  CHECK(cdn_arch_list_read("lenet5,vgg") == (lenet | vgg) && cdn_arch_list_read("vgg") == vgg);
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) CHECK(cdn_arch_list_read(bad[i]) == -1);
}

int main(int argc, char **argv)
{
  PetscCall(cdn_initialize(&argc, &argv, NULL));
  test_arch_lists();
  PetscCall(test_learners());
  PetscCall(test_files());
  PetscCall(cdn_finalize());
  return CHECK_STATUS();
}
