/* Job specs: good files parse to exactly the expected values, defaults fill absent sections, and
   every kind of mistake stops with "FILE:LINE: key: reason" naming the right line and key.
   Runs on any number of ranks: cdn_jobspec_load must give every rank the same spec or error. */
#include <dirent.h>
#include <string.h>
#include "check.h"
#include "cnndyn/evaluate.h"
#include "cnndyn/jobspec.h"
#include "cnndyn/nn.h"
#include "cnndyn/population.h"
#include "cnndyn/stats.h"
#include "cnndyn/util.h"

#define BIT(x) (1u << (x))

static void check_list(const cdn_axis_t *a, int n, const double *v)
{
  CHECK(a->kind == CDN_AXIS_LIST);
  CHECK(a->n == n);
  for (int i = 0; i < n && i < a->n; i++) CHECK(a->v[i] == v[i]);
}

static void check_defaults(const cdn_jobspec_t *s)
{
  static const double def[CDN_HP_COUNT] = {0.01, 0.9, 64, 0, 0, 1, 1, 0};
  CHECK(s->seed == 1 && s->replicates == 1 && s->samples == 1);
  for (int h = 0; h < CDN_HP_COUNT; h++) check_list(&s->axis[h], 1, &def[h]);
  CHECK(!strcmp(s->dataset, "fashion-mnist"));
  CHECK(!strcmp(s->data_dir, "/usr/share/datasets/fashion-mnist"));
  CHECK(s->train_size == 0 && s->validation_size == 5000 && s->test_size == 0);
  CHECK(s->narchs == 1 && !strcmp(s->archs[0], "lenet5") && s->epochs == 10);
  CHECK(s->stat_mask == (BIT(CDN_STAT_DEGREE) | BIT(CDN_STAT_EIGENVECTOR)));
  CHECK(s->budget == 3 && s->differences == 1);
  CHECK(s->agg_mask == (BIT(CDN_AGG_MEAN) | BIT(CDN_AGG_STD) | BIT(CDN_AGG_MIN) | BIT(CDN_AGG_MAX) | BIT(CDN_AGG_MEDIAN)));
  CHECK(s->folds == 5 && s->ridge_lambda == 1.0 && s->logistic_c == 1.0 && s->snapshots == 0);
  CHECK(cdn_population_size(s) == 1);
  /* progress is published on loopback unless the job names an interface */
  CHECK(!strcmp(s->progress, "tcp://127.0.0.1:5557"));
}

static void test_good_full(void)
{
  cdn_jobspec_t  s;
  PetscErrorCode ierr = cdn_jobspec_load(PETSC_COMM_WORLD, "data/jobs/good_full.ini", &s);
  CHECK(ierr == 0);
  if (ierr) { fprintf(stderr, "%s\n", cdn_error_message()); return; }
  CHECK(!strcmp(s.source, "data/jobs/good_full.ini"));
  CHECK(s.seed == UINT64_MAX && s.replicates == 3 && s.samples == 4);
  check_list(&s.axis[CDN_HP_LEARNING_RATE], 3, (double[]){0.1, 0.01, 1e-3});
  CHECK(s.axis[CDN_HP_MOMENTUM].kind == CDN_AXIS_UNIFORM && s.axis[CDN_HP_MOMENTUM].n == 2);
  CHECK(s.axis[CDN_HP_MOMENTUM].v[0] == 0.5 && s.axis[CDN_HP_MOMENTUM].v[1] == 0.99);
  check_list(&s.axis[CDN_HP_BATCH_SIZE], 2, (double[]){32, 128});
  check_list(&s.axis[CDN_HP_DROPOUT], 1, (double[]){0});
  CHECK(s.axis[CDN_HP_WEIGHT_DECAY].kind == CDN_AXIS_LOGUNIFORM);
  CHECK(s.axis[CDN_HP_WEIGHT_DECAY].v[0] == 1e-6 && s.axis[CDN_HP_WEIGHT_DECAY].v[1] == 1e-2);
  check_list(&s.axis[CDN_HP_INIT_SCALE], 2, (double[]){0.5, 2});
  CHECK(!strcmp(s.dataset, "idx"));
  CHECK(!strcmp(s.data_dir, "/tmp/my data#1"));
  CHECK(s.train_size == 20000 && s.validation_size == 0 && s.test_size == 10000);
  CHECK(s.narchs == 1 && !strcmp(s.archs[0], "lenet5") && s.epochs == 7);
  CHECK(s.stat_mask == BIT(CDN_STAT_EIGENVECTOR));
  CHECK(s.budget == 7 && s.differences == 0);
  CHECK(s.agg_mask == (BIT(CDN_AGG_Q75) | BIT(CDN_AGG_MEAN) | BIT(CDN_AGG_MEDIAN)));
  CHECK(s.folds == 10 && s.ridge_lambda == 0.25 && s.logistic_c == 100 && s.snapshots == 1);
  CHECK(cdn_population_size(&s) == 3 * 2 * 2 * 4 * 3);
}

static void test_strings(void)
{
  cdn_jobspec_t s;
  /* empty text, and sections present but empty: all defaults */
  CHECK(cdn_jobspec_parse_string("empty", "", &s) == 0);
  check_defaults(&s);
  CHECK(!strcmp(s.source, "empty"));
  CHECK(cdn_jobspec_parse_string("blank", "\n  \n# only comments\n[training]\n[output]\n", &s) == 0);
  check_defaults(&s);
  /* CRLF line ends, no spaces around '=', tab before a comment, no final newline */
  CHECK(cdn_jobspec_parse_string("crlf", "[training]\r\nepochs=4\t# four\r\n[features]\r\nbudget=4", &s) == 0);
  CHECK(s.epochs == 4 && s.budget == 4);
  const char *bools[] = {"true", "yes", "1", "false", "no", "0"};
  for (int i = 0; i < 6; i++) {
    char text[64];
    snprintf(text, sizeof text, "[output]\nsnapshots = %s\n", bools[i]);
    CHECK(cdn_jobspec_parse_string("bool", text, &s) == 0 && s.snapshots == (i < 3));
  }
  /* the grid cap is checked without overflow: 64^4 x 1000 replicates */
  {
    char text[4096] = "[population]\nreplicates = 1000\n";
    const char *names[] = {"learning_rate", "momentum", "dropout", "init_scale"};
    for (int k = 0; k < 4; k++) {
      size_t n = strlen(text);
      n += snprintf(text + n, sizeof text - n, "%s = ", names[k]);
      for (int i = 0; i < 64; i++) n += snprintf(text + n, sizeof text - n, "%s0.%02d", i ? "," : "", i + 1);
      snprintf(text + n, sizeof text - n, "\n");
    }
    CHECK(cdn_jobspec_parse_string("huge", text, &s) == CDN_ERR_INPUT);
    CHECK_CONTAINS(cdn_error_message(), "huge:6: init_scale: the population has 16777216000 models");
  }
  CHECK(!strcmp(cdn_hparam_name(CDN_HP_LEARNING_RATE), "learning_rate"));
  CHECK(!strcmp(cdn_hparam_name(CDN_HP_INIT_SCALE), "init_scale"));
  CHECK(!strcmp(cdn_hparam_name(CDN_HP_COUNT), "?"));
}

/* architecture, width and depth: one value as before, or a list that becomes a grid axis. */
static void test_shape_axes(void)
{
  cdn_jobspec_t s;
  CHECK(cdn_jobspec_parse_string("one", "[training]\narchitecture = vgg\nwidth = 0.5\ndepth = 6\n", &s) == 0);
  CHECK(s.narchs == 1 && !strcmp(s.archs[0], "vgg"));
  check_list(&s.axis[CDN_HP_WIDTH], 1, (double[]){0.5});
  check_list(&s.axis[CDN_HP_DEPTH], 1, (double[]){6});
  CHECK(cdn_population_size(&s) == 1);
  CHECK(cdn_jobspec_parse_string("lists", "[population]\nreplicates = 2\n[training]\narchitecture = resnet, vgg\n"
                                 "width = 0.25, 1, 2\ndepth = 0,8\n", &s) == 0);
  /* the order given is kept: it is the order of the grid */
  CHECK(s.narchs == 2 && !strcmp(s.archs[0], "resnet") && !strcmp(s.archs[1], "vgg"));
  check_list(&s.axis[CDN_HP_WIDTH], 3, (double[]){0.25, 1, 2});
  check_list(&s.axis[CDN_HP_DEPTH], 2, (double[]){0, 8});
  CHECK(cdn_population_size(&s) == 2 * 3 * 2 * 2);
  static const struct { const char *text, *msg; } bad[] = {
    {"[training]\narchitecture = lenet5, lenet7\n", "bad:2: architecture: unknown value 'lenet7' (expected one of: lenet5, alexnet, vgg, resnet)"},
    {"[training]\narchitecture = vgg, vgg\n", "bad:2: architecture: 'vgg' appears twice"},
    {"[training]\narchitecture = vgg,\n", "bad:2: architecture: empty item"},
    {"[training]\nwidth = 1, 0\n", "bad:2: width: 0 is out of range: must be a number in (0, 64]"},
    {"[training]\nwidth = -0.5\n", "bad:2: width: -0.5 is out of range"},
    {"[training]\nwidth = 1, 1\n", "bad:2: width: value 1 appears twice"},
    {"[training]\nwidth = uniform(0.5, 2)\n", "bad:2: width: takes one value or a list, not a distribution"},
    {"[training]\ndepth = 2, 2.5\n", "bad:2: depth: '2.5' is not an integer"},
    {"[training]\ndepth = 40\n", "bad:2: depth: 40 is out of range"},
    {"[training]\narchitecture = resnet, lenet5\ndepth = 8\n", "bad:3: depth: lenet5 has depth 5 (2 conv + 3 linear layers), not 8"},
    {"[prediction]\nsubsets = all, sideways\n", "bad:2: subsets: unknown value 'sideways' (expected one of: all, trainable, heldout, wide)"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    CHECK(cdn_jobspec_parse_string("bad", bad[i].text, &s) == CDN_ERR_INPUT);
    CHECK_CONTAINS(cdn_error_message(), bad[i].msg);
  }
  CHECK(cdn_jobspec_parse_string("subsets", "[prediction]\nsubsets = wide, heldout\n", &s) == 0);
  CHECK(s.subset_mask == (BIT(2) | BIT(3)));
  CHECK(s.convolution == 0); /* auto */
  CHECK(cdn_jobspec_parse_string("direct", "[training]\nconvolution = direct\n", &s) == 0);
  CHECK(s.convolution == 1);
  CHECK(cdn_jobspec_parse_string("bad", "[training]\nconvolution = winograd\n", &s) == CDN_ERR_INPUT);
  CHECK_CONTAINS(cdn_error_message(), "convolution");
  CHECK(s.init == CDN_INIT_KAIMING && s.dropout_placement == CDN_DROPOUT_CNNDYN); /* the defaults */
  CHECK(cdn_jobspec_parse_string("torch", "[training]\ninit = pytorch\ndropout_placement = torchvision\n", &s) == 0);
  CHECK(s.init == CDN_INIT_PYTORCH && s.dropout_placement == CDN_DROPOUT_TORCHVISION);
  CHECK(cdn_jobspec_parse_string("bad", "[training]\ndropout_placement = keras\n", &s) == CDN_ERR_INPUT);
  CHECK_CONTAINS(cdn_error_message(), "bad:2: dropout_placement: unknown value 'keras' (expected one of: cnndyn, torchvision)");
}

/* [pruning]: defaults, a whole section, and each key refused where it does not apply. */
static void test_pruning(void)
{
  cdn_jobspec_t s;
  const char   *pop = "[population]\nlearning_rate = 0.001, 0.01, 0.1, 0.3\nreplicates = 8\n[training]\nepochs = 6\n";
  char          text[1024];

  CHECK(cdn_jobspec_parse_string("none", pop, &s) == 0);
  CHECK(s.prune_policy == CDN_PRUNE_NONE && !s.prune_shadow && s.prune_eta == 3 && s.prune_first_rung == 1);
  CHECK(s.prune_k == 2 && s.prune_quantile == 0.5 && s.prune_min_finished == 16 && s.prune_method == -1);
  snprintf(text, sizeof text, "%s[pruning]\npolicy = halving\nshadow = true\nfirst_rung = 2\neta = 2\nmin_finished = 4\n", pop);
  CHECK(cdn_jobspec_parse_string("halving", text, &s) == 0);
  CHECK(s.prune_policy == CDN_PRUNE_HALVING && s.prune_shadow && s.prune_first_rung == 2 && s.prune_eta == 2);
  snprintf(text, sizeof text, "%s[pruning]\npolicy = predictor\nmethod = degree_diff\nlearner = xgboost\nk = 3\nquantile = 0.7\n", pop);
  CHECK(cdn_jobspec_parse_string("predictor", text, &s) == 0);
  CHECK(s.prune_method == CDN_METHOD_DEGREE_DIFF && s.prune_learner == CDN_LEARNER_XGB && s.prune_k == 3);
  snprintf(text, sizeof text, "%s[pruning]\npolicy = predictor\nmodel = some/file.predictor\n", pop);
  CHECK(cdn_jobspec_parse_string("saved", text, &s) == 0);
  CHECK(!strcmp(s.prune_model, "some/file.predictor"));
  static const struct { const char *keys, *msg; } bad[] = {
    {"policy = sometimes\n", "bad:7: policy: unknown value 'sometimes' (expected one of: none, halving, predictor)"},
    {"shadow = true\n", "bad:7: shadow: set policy = halving or predictor first"},
    {"policy = halving\nk = 2\n", "bad:8: k: applies to policy = predictor only"},
    {"policy = predictor\nmethod = val_acc\nlearner = score\neta = 2\n", "bad:10: eta: applies to policy = halving only"},
    {"policy = halving\nfirst_rung = 6\n", "bad:8: first_rung: 6: the first rung must come before the last epoch (6)"},
    {"policy = halving\neta = 1\n", "bad:8: eta: 1 is out of range"},
    {"policy = predictor\n", "bad:7: policy: predictor needs either model = FILE"},
    {"policy = predictor\nmodel = a\nmethod = val_acc\nlearner = score\n", "bad:7: policy: predictor needs either"},
    {"policy = predictor\nmodel = a\nk = 2\n", "bad:9: k: a saved predictor decides at the epoch budget it was fitted with"},
    {"policy = predictor\nmethod = val_acc\n", "bad:8: method: needs learner = NAME too"},
    {"policy = predictor\nmethod = val_acc\nlearner = xgboost\n", "bad:9: learner: xgboost cannot predict with method val_acc"},
    {"policy = predictor\nmethod = hparams\nlearner = linear\n", "bad:8: method: hparams reads no epoch"},
    {"policy = predictor\nmethod = spectral_diff\nlearner = linear\n", "bad:8: method: spectral_diff needs spectral in [graph] statistics"},
    {"policy = predictor\nmethod = val_acc\nlearner = score\nk = 6\n", "bad:10: k: 6: the decision must come before the last epoch (6)"},
    {"policy = predictor\nmethod = val_acc\nlearner = score\nmin_finished = 3\n", "bad:10: min_finished: 3: a predictor fitted during the run needs at least 4"},
    {"policy = halving\nmin_finished = 32\n", "bad:8: min_finished: 32 (the default is 16): the population has only 32 models"},
    {"policy = halving\nquantile = 0.5\n", "bad:8: quantile: applies to policy = predictor only"},
    {"policy = predictor\nmodel =\n", "bad:8: model: "},
    {"policy = predictor\nmodel = a\nlearner = xgboost\n", "bad:9: learner: a saved predictor (model = FILE) has its own learner"},
  };
  snprintf(text, sizeof text, "%s[data]\nvalidation_size = 0\n[pruning]\npolicy = halving\n", pop);
  CHECK(cdn_jobspec_parse_string("bad", text, &s) == CDN_ERR_INPUT);
  CHECK_CONTAINS(cdn_error_message(), "bad:7: validation_size: 0, but [pruning] policy = halving decides on validation");
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    snprintf(text, sizeof text, "%s[pruning]\n%s", pop, bad[i].keys);
    CHECK(cdn_jobspec_parse_string("bad", text, &s) == CDN_ERR_INPUT);
    CHECK_CONTAINS(cdn_error_message(), bad[i].msg);
  }
}

/* The shipped job files must parse and describe the populations their comments promise. */
/* Every job file shipped in jobs/ parses, with the population it promises; a job added without a
   row here fails the test, so none can go stale unnoticed. */
static void test_shipped_jobs(void)
{
  static const struct { const char *name; int models, epochs, budget; } jobs[] = {
    {"smoke.ini", 8, 3, 2},         {"quickstart.ini", 32, 6, 3},        {"paper_lenet.ini", 720, 15, 5},
    {"lenet_study.ini", 160, 10, 5}, {"transfer_study.ini", 112, 8, 5},
    {"transfer_wide.ini", 168, 8, 5}, {"vgg_small.ini", 8, 6, 3},       {"lenet_full.ini", 160, 10, 5},
    {"vgg_study.ini", 160, 8, 5}};
  const int      njobs = (int)(sizeof jobs / sizeof jobs[0]);
  DIR           *dir   = opendir("../jobs");
  struct dirent *ent;
  int            seen = 0;

  CHECK(dir != NULL);
  while (dir && (ent = readdir(dir))) {
    size_t len = strlen(ent->d_name);
    int    row = -1;
    char   path[512];
    if (len < 5 || strcmp(ent->d_name + len - 4, ".ini")) continue;
    for (int i = 0; i < njobs; i++)
      if (!strcmp(ent->d_name, jobs[i].name)) row = i;
    if (row < 0) fprintf(stderr, "jobs/%s: no expected population in test_shipped_jobs\n", ent->d_name);
    CHECK(row >= 0);
    if (row < 0) continue;
    seen++;
    snprintf(path, sizeof path, "../jobs/%s", ent->d_name);
    cdn_jobspec_t  s;
    PetscErrorCode ierr = cdn_jobspec_load(PETSC_COMM_WORLD, path, &s);
    CHECK(ierr == 0);
    if (ierr) { fprintf(stderr, "%s\n", cdn_error_message()); continue; }
    CHECK(cdn_population_size(&s) == jobs[row].models);
    CHECK(s.epochs == jobs[row].epochs && s.budget == jobs[row].budget);
  }
  if (dir) closedir(dir);
  CHECK(seen == njobs);
}

static const struct {
  const char *file, *where, *reason;
} bad[] = {
  {"bad_unknown_section.ini", ":3: [trainig]: ", "unknown section (expected one of: population, data,"},
  {"bad_unknown_key.ini", ":2: epoch: ", "unknown key in [training] (expected one of: architecture, epochs, "},
  {"bad_duplicate_key.ini", ":4: epochs: ", "duplicate key (first at line 2)"},
  {"bad_duplicate_section.ini", ":6: [data]: ", "section appears twice (first at line 1)"},
  {"bad_outside_section.ini", ":2: seed: ", "key outside a section"},
  {"bad_no_equals.ini", ":2: epochs 3: ", "expected 'key = value' or '[section]'"},
  {"bad_empty_value.ini", ":2: learning_rate: ", "empty value"},
  {"bad_trailing_garbage.ini", ":2: epochs: ", "'10x' is not an integer"},
  {"bad_number.ini", ":2: learning_rate: ", "'1e-3x' is not a plain decimal number"},
  {"bad_range.ini", ":2: momentum: ", "1.0 is out of range: must be a number in [0, 1)"},
  {"bad_budget.ini", ":4: budget: ", "5 is more than epochs (3)"},
  {"bad_budget_default.ini", ":2: epochs: ", "2 is less than budget (3, the default)"},
  {"bad_bool.ini", ":2: snapshots: ", "'maybe' is not a boolean"},
  {"bad_batch_distribution.ini", ":2: batch_size: ", "takes a list of integers, not a distribution"},
  {"bad_batch_fraction.ini", ":2: batch_size: ", "'32.5' is not an integer"},
  {"bad_uniform_order.ini", ":2: learning_rate: ", "uniform(0.5, 0.1): LOW must be less than HIGH"},
  {"bad_loguniform_zero.ini", ":2: weight_decay: ", "loguniform(0, 0.01): LOW must be > 0"},
  {"bad_distribution_name.ini", ":2: dropout: ", "unknown distribution 'normal'"},
  {"bad_distribution_tail.ini", ":2: dropout: ", "uniform(...) must end with ')' and nothing after it"},
  {"bad_samples.ini", ":3: samples: ", "4 draws per grid point, but no hyperparameter is uniform"},
  {"bad_idx_path.ini", ":2: dataset: ", "dataset = idx needs path = FOLDER"},
  {"bad_too_many_models.ini", ":7: samples: ", "the population has 20000000 models, more than the limit of 10000000"},
  {"bad_statistic.ini", ":2: statistics: ", "unknown value 'closeness' (expected one of: degree, eigenvector, pagerank, singular, in_strength, out_strength, spectral, degree_entropy)"},
  {"bad_aggregator_twice.ini", ":2: aggregators: ", "'mean' appears twice"},
  {"bad_nan.ini", ":2: learning_rate: ", "'nan' is not a plain decimal number"},
  /* jobs/README.md promises plain decimal numbers: strtod would take these three */
  {"bad_hex.ini", ":2: learning_rate: ", "'0x1p-4' is not a plain decimal number"},
  {"bad_inf.ini", ":2: learning_rate: ", "'inf' is not a plain decimal number"},
  {"bad_subnormal.ini", ":2: weight_decay: ", "'1e-320' is too small: nonzero but below 2.2e-308"},
  {"bad_no_pairs.ini", ":5: learners: ", "no method of [prediction] methods takes any of the learners: nothing would be compared"},
  {"bad_method_statistic.ini", ":6: methods: ", "spectral_diff needs spectral in [graph] statistics, which this job does not compute"},
  /* refused with its line, before the data loads (an outside review: only when the network was built) */
  {"bad_resnet_depth.ini", ":5: depth: ", "resnet takes 6n+2 layers (8, 14, 20, 26, 32), not 9"},
  /* degree and eigenvector methods read one statistic too (an outside review: they were never checked) */
  {"bad_method_eigenvector.ini", ":6: methods: ", "eigenvector_diff needs eigenvector in [graph] statistics, which this job does not compute"},
  {"bad_method_directed.ini", ":6: methods: ", "degree_diff needs degree in [graph] statistics, which this job does not compute (a directed graph has in_strength and out_strength instead)"},
  {"bad_int_huge.ini", ":2: epochs: ", "99999999999999999999 is out of range: must be an integer in [1, 1000]"},
  {"bad_seed_negative.ini", ":2: seed: ", "'-1' is not an unsigned 64-bit integer"},
  {"bad_duplicate_value.ini", ":2: learning_rate: ", "value 0.1 appears twice"},
  {"bad_train_size.ini", ":2: train_size: ", "58000 + validation_size 5000 is more than the 60000 training images"},
  {"bad_empty_item.ini", ":2: learning_rate: ", "empty item in the list (item 2)"},
  {"bad_section_syntax.ini", ":1: [population] extra: ", "a section header must be '[name]'"},
  {"bad_missing_key.ini", ":2: (no key): ", "missing key before '='"},
  {"bad_dataset.ini", ":2: dataset: ", "unknown value 'cifar100' (expected one of: fashion-mnist, idx, cifar10)"},
};

static void test_bad_files(void)
{
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    char          path[256], where[512];
    cdn_jobspec_t s;
    snprintf(path, sizeof path, "data/jobs/%s", bad[i].file);
    snprintf(where, sizeof where, "%s%s", path, bad[i].where);
    CHECK(cdn_jobspec_load(PETSC_COMM_WORLD, path, &s) == CDN_ERR_INPUT);
    CHECK(!strncmp(cdn_error_message(), where, strlen(where)));
    if (strncmp(cdn_error_message(), where, strlen(where))) fprintf(stderr, "  want prefix \"%s\"\n", where);
    CHECK_CONTAINS(cdn_error_message(), bad[i].reason);
  }
}

/* A file that sets nothing would train the built-in population: refused, naming the file. */
static void test_empty_files(void)
{
  const char   *empty[] = {"data/jobs/bad_empty.ini", "data/jobs/bad_only_comments.ini"};
  cdn_jobspec_t s;
  for (int i = 0; i < 2; i++) {
    CHECK(cdn_jobspec_load(PETSC_COMM_WORLD, empty[i], &s) == CDN_ERR_INPUT);
    CHECK(!strncmp(cdn_error_message(), empty[i], strlen(empty[i])));
    CHECK_CONTAINS(cdn_error_message(), ": sets no key (empty, or only comments and section headers)");
  }
  /* one configuration: the report would compare nothing */
  CHECK(cdn_jobspec_load(PETSC_COMM_WORLD, "data/jobs/bad_one_config.ini", &s) == CDN_ERR_INPUT);
  CHECK_CONTAINS(cdn_error_message(), "data/jobs/bad_one_config.ini: the population has one configuration (4 models): nothing to compare");
  /* a leading UTF-8 byte order mark is not part of the first section header */
  CHECK(cdn_jobspec_load(PETSC_COMM_WORLD, "data/jobs/good_bom.ini", &s) == 0 && s.epochs == 4);
}

static void test_unreadable(void)
{
  cdn_jobspec_t s;
  CHECK(cdn_jobspec_load(PETSC_COMM_WORLD, "data/jobs/no_such_job.ini", &s) == CDN_ERR_OPEN);
  CHECK_CONTAINS(cdn_error_message(), "data/jobs/no_such_job.ini: cannot read: No such file or directory");
  CHECK(cdn_jobspec_load(PETSC_COMM_WORLD, "data/jobs", &s) == CDN_ERR_OPEN);
  CHECK_CONTAINS(cdn_error_message(), "data/jobs: cannot read: Is a directory");
}

int main(int argc, char **argv)
{
  if (cdn_initialize(&argc, &argv, NULL)) return 1;
  test_good_full();
  test_strings();
  test_shape_axes();
  test_pruning();
  test_shipped_jobs();
  test_bad_files();
  test_empty_files();
  test_unreadable();
  if (cdn_finalize()) return 1;
  return CHECK_STATUS();
}
