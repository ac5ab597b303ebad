/* Transfer splits: a held-out family and narrow-to-wide subsets hold the right models on the
   right side, no configuration straddles the split, the class task comes from the training side,
   a split learner never reads the test side's labels, and the hparams baseline knows the family. */
#include "check.h"
#include "cnndyn/evaluate.h"
#include "cnndyn/util.h"

#define N 24

/* 2 families x 3 widths x 2 configurations x 2 replicates; labels in (0.3, 0.9). */
static void population(cdn_results_t *res, cdn_model_config_t *cfg, cdn_status_t *st, double *acc, int families)
{
  static const double widths[3] = {0.5, 1, 2};
  memset(res, 0, sizeof *res);
  for (int m = 0; m < N; m++) {
    memset(&cfg[m], 0, sizeof cfg[m]);
    cfg[m].id = m, cfg[m].config_id = m / 2, cfg[m].replicate = m % 2;
    snprintf(cfg[m].arch, sizeof cfg[m].arch, "%s", families > 1 && m >= 12 ? "vgg" : "lenet5");
    cfg[m].hp[CDN_HP_WIDTH] = widths[(m / 4) % 3];
    st[m]  = CDN_STATUS_OK;
    acc[m] = 0.3 + 0.01 * ((m * 7) % N) + 0.15 * ((m / 4) % 3); /* wider is better */
  }
  res->nmodels = N, res->num_classes = 10, res->config = cfg, res->status = st, res->test_acc = acc;
}

static const cdn_subset_t *find(const cdn_evaluation_t *ev, const char *name)
{
  for (int s = 0; s < ev->nsubsets; s++)
    if (!strcmp(ev->subset[s].name, name)) return &ev->subset[s];
  return NULL;
}

/* Sides of a split: test exactly where want_test says, disjoint, every model once, no config on both. */
static void check_split(const cdn_results_t *res, const cdn_subset_t *s, int (*want_test)(const cdn_model_config_t *))
{
  int side[N / 2], ntest = 0;
  CHECK(s && s->test && s->n == N && s->run);
  if (!s || !s->test) return;
  for (int c = 0; c < N / 2; c++) side[c] = -1;
  for (int i = 0; i < s->n; i++) {
    const cdn_model_config_t *c = &res->config[s->model[i]];
    CHECK(s->model[i] == i); /* every model, once, in id order */
    CHECK(s->test[i] == want_test(c));
    CHECK(side[c->config_id] < 0 || side[c->config_id] == s->test[i]);
    side[c->config_id] = s->test[i];
    ntest += s->test[i];
  }
  CHECK(ntest == s->ntest && ntest > 0 && ntest < N);
}

static int is_lenet(const cdn_model_config_t *c) { return !strcmp(c->arch, "lenet5"); }
static int is_vgg(const cdn_model_config_t *c) { return !strcmp(c->arch, "vgg"); }
static int is_widest(const cdn_model_config_t *c) { return c->hp[CDN_HP_WIDTH] == 2; }

static int cmp_double(const void *p, const void *q)
{
  double a = *(const double *)p, b = *(const double *)q;
  return (a > b) - (a < b);
}

static void test_subsets(void)
{
  cdn_jobspec_t      spec;
  cdn_results_t      res;
  cdn_model_config_t cfg[N];
  cdn_status_t       st[N];
  double             acc[N], train[N];
  cdn_evaluation_t  *ev = NULL;
  int                ntr = 0;

  cdn_jobspec_defaults(&spec);
  population(&res, cfg, st, acc, 2);
  CHECK(cdn_evaluation_subsets(&spec, &res, &ev) == 0);
  CHECK(ev->nsubsets == 5);
  CHECK(!strcmp(ev->subset[CDN_SUBSET_ALL].name, "all") && !ev->subset[CDN_SUBSET_ALL].test);
  CHECK(!strcmp(ev->subset[CDN_SUBSET_TRAINABLE].name, "trainable"));
  CHECK(ev->subset[2].kind == CDN_SUBSET_KIND_HELDOUT && ev->subset[4].kind == CDN_SUBSET_KIND_WIDE);
  check_split(&res, find(ev, "heldout_lenet5"), is_lenet);
  check_split(&res, find(ev, "heldout_vgg"), is_vgg);
  check_split(&res, find(ev, "wide"), is_widest);
  /* the median cut of a split is the median of its training side's labels */
  for (int m = 0; m < N; m++)
    if (!is_widest(&cfg[m])) train[ntr++] = ev->label[m];
  qsort(train, (size_t)ntr, sizeof *train, cmp_double);
  CHECK(ntr == 16 && find(ev, "wide") && find(ev, "wide")->thresholds[0] == 0.5 * (train[7] + train[8]));
  CHECK(cdn_evaluation_destroy(&ev) == 0);

  /* [prediction] subsets leaves out what it does not name */
  spec.subset_mask = 1u << CDN_SUBSET_KIND_ALL | 1u << CDN_SUBSET_KIND_WIDE;
  CHECK(cdn_evaluation_subsets(&spec, &res, &ev) == 0);
  CHECK(ev->nsubsets == 3 && !ev->subset[CDN_SUBSET_TRAINABLE].run && find(ev, "wide") && !find(ev, "heldout_vgg"));
  CHECK(cdn_evaluation_destroy(&ev) == 0);

  /* one family and widths unknown (a run from before width was recorded): no transfer split */
  cdn_jobspec_defaults(&spec);
  population(&res, cfg, st, acc, 1);
  for (int m = 0; m < N; m++) cfg[m].hp[CDN_HP_WIDTH] = NAN;
  CHECK(cdn_evaluation_subsets(&spec, &res, &ev) == 0);
  CHECK(ev->nsubsets == 2);
  CHECK(cdn_evaluation_destroy(&ev) == 0);
}

/* A split fits on the training side only: changing the test side's labels changes no prediction,
   and metrics are over the test side. */
static void test_split_learner(void)
{
  enum { n = 20 };
  double                y[n], y2[n], X[n], pred[n], pred2[n], th[1];
  int                   group[n], is_test[n], cls[n], pc[n], pc2[n];
  cdn_metrics_t         m, m2;
  cdn_predict_problem_t pb;

  for (int i = 0; i < n; i++) {
    y[i]       = 0.2 + 0.03 * i;
    X[i]       = 10 * y[i] + 0.01 * ((i * 5) % 7); /* increasing in y: a perfect ranking */
    group[i]   = i / 2;
    is_test[i] = group[i] % 3 == 1; /* models 2, 3, 8, 9, 14, 15: inside the training range */
    y2[i]      = is_test[i] ? 1.1 - y[i] : y[i];
  }
  th[0] = 0.5; /* a cut the caller derived from the training side */
  for (int i = 0; i < n; i++) cls[i] = y[i] > th[0];
  pb = (cdn_predict_problem_t){.n = n, .y = y, .group = group, .folds = 5, .seed = 3, .ridge_lambda = 1,
                               .logistic_c = 1, .nclasses = 2, .cls = cls, .thresholds = th, .inner_folds = 3};
  for (int l = 0; l < CDN_LEARNER_COUNT; l++) {
    CHECK(cdn_predict_split(&pb, (cdn_learner_t)l, 1, X, is_test, pred, pc, &m) == 0);
    for (int i = 0; i < n; i++) CHECK(is_test[i] ? isfinite(pred[i]) : isnan(pred[i]));
    if (l == CDN_LEARNER_LINEAR || l == CDN_LEARNER_SCORE) CHECK_CLOSE(m.tau, 1, 1e-12);
    CHECK_CLOSE(m.majority, 4.0 / 6, 1e-12); /* test labels 0.26 .. 0.65: 4 below the cut, 2 above */
    pb.y = y2;
    CHECK(cdn_predict_split(&pb, (cdn_learner_t)l, 1, X, is_test, pred2, pc2, &m2) == 0);
    pb.y = y;
    for (int i = 0; i < n; i++) CHECK((isnan(pred[i]) && isnan(pred2[i])) || pred[i] == pred2[i]);
  }
  /* an empty side is an error, not a silent fit on nothing */
  for (int i = 0; i < n; i++) is_test[i] = 0;
  CHECK(cdn_error_push_quiet() == 0);
  CHECK(cdn_predict_split(&pb, CDN_LEARNER_LINEAR, 1, X, is_test, pred, pc, &m) != 0);
  CHECK(cdn_error_pop_quiet() == 0);
  CHECK_CONTAINS(cdn_error_message(), "a split needs models on both sides (20 training, 0 test)");
}

/* The family is known before training: the hparams baseline gets a 0/1 column per family when
   the population mixes them, none otherwise. */
static void test_family_inputs(void)
{
  cdn_results_t      res;
  cdn_model_config_t cfg[N];
  cdn_status_t       st[N];
  double             acc[N], *X;
  char               desc[96];
  int                d;

  for (int families = 1; families <= 2; families++) {
    population(&res, cfg, st, acc, families);
    CHECK(cdn_method_inputs(CDN_METHOD_HPARAMS, &res, 1, &X, &d, desc, sizeof desc) == 0);
    CHECK(d == CDN_HP_COUNT + (families > 1 ? 2 : 0));
    CHECK((strstr(desc, "+ family") != NULL) == (families > 1));
    cdn_method_families(CDN_METHOD_HPARAMS, &res, desc, sizeof desc);
    CHECK(!strcmp(desc, families > 1 ? "lenet5,vgg" : "-"));
    cdn_method_families(CDN_METHOD_DEGREE, &res, desc, sizeof desc);
    CHECK(!strcmp(desc, "-"));
    if (families > 1 && d == CDN_HP_COUNT + 2)
      for (int m = 0; m < N; m++) { /* in name order: lenet5, vgg */
        CHECK(X[(size_t)m * d + CDN_HP_COUNT] == (m < 12));
        CHECK(X[(size_t)m * d + CDN_HP_COUNT + 1] == (m >= 12));
      }
    CHECK(PetscFree(X) == 0);
  }
  /* the family order of the job does not move the columns: vgg models first, same columns */
  population(&res, cfg, st, acc, 2);
  for (int m = 0; m < N; m++) snprintf(cfg[m].arch, sizeof cfg[m].arch, "%s", m < 12 ? "vgg" : "lenet5");
  CHECK(cdn_method_inputs(CDN_METHOD_HPARAMS, &res, 1, &X, &d, desc, sizeof desc) == 0);
  CHECK(d == CDN_HP_COUNT + 2 && X[CDN_HP_COUNT] == 0 && X[CDN_HP_COUNT + 1] == 1);
  CHECK(PetscFree(X) == 0);
  /* a given list: a one-family run gets the columns of a saved predictor's two */
  population(&res, cfg, st, acc, 1);
  CHECK(cdn_method_inputs_as(CDN_METHOD_HPARAMS, &res, 1, "lenet5,vgg", &X, &d, desc, sizeof desc) == 0);
  CHECK(d == CDN_HP_COUNT + 2);
  for (int m = 0; m < N && d == CDN_HP_COUNT + 2; m++)
    CHECK(X[(size_t)m * d + CDN_HP_COUNT] == 1 && X[(size_t)m * d + CDN_HP_COUNT + 1] == 0);
  CHECK(PetscFree(X) == 0);
}

int main(int argc, char **argv)
{
  if (cdn_initialize(&argc, &argv, NULL)) return 1;
  test_family_inputs();
  test_subsets();
  test_split_learner();
  if (cdn_finalize()) return 1;
  return CHECK_STATUS();
}
