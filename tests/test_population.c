/* The population is a pure function of (spec, model id): sizes, id order (grid slowest, then
   sample, then replicate), shared hyperparameters across replicates, distinct seeds, draws in
   range and independent of the order in which ids are asked for. */
#include "check.h"
#include "cnndyn/jobspec.h"
#include "cnndyn/population.h"
#include "cnndyn/util.h"

static int same_hp(const cdn_model_config_t *a, const cdn_model_config_t *b)
{
  for (int h = 0; h < CDN_HP_COUNT; h++)
    if (a->hp[h] != b->hp[h]) return 0;
  return 1;
}

static void test_grid(void)
{
  cdn_jobspec_t      s;
  cdn_model_config_t c, d;
  const char *text = "[population]\nseed = 5\nreplicates = 2\nlearning_rate = 0.1, 0.01, 0.001\n"
                     "batch_size = 32, 64\ninit_scale = 0.5, 1, 2, 4\n";
  CHECK(cdn_jobspec_parse_string("grid", text, &s) == 0);
  CHECK(cdn_population_size(&s) == 3 * 2 * 4 * 2);
  CHECK(cdn_population_configs(&s) == 24);
  /* id = ((lr * 2 + batch) * 4 + init) * 2 + replicate: the last list axis varies fastest */
  for (int lr = 0, id = 0; lr < 3; lr++)
    for (int b = 0; b < 2; b++)
      for (int in = 0; in < 4; in++)
        for (int r = 0; r < 2; r++, id++) {
          cdn_population_config(&s, id, &c);
          CHECK(c.id == id && c.config_id == id / 2 && c.replicate == r);
          CHECK(c.hp[CDN_HP_LEARNING_RATE] == s.axis[CDN_HP_LEARNING_RATE].v[lr]);
          CHECK(c.hp[CDN_HP_BATCH_SIZE] == s.axis[CDN_HP_BATCH_SIZE].v[b]);
          CHECK(c.hp[CDN_HP_INIT_SCALE] == s.axis[CDN_HP_INIT_SCALE].v[in]);
          CHECK(c.hp[CDN_HP_MOMENTUM] == 0.9 && c.hp[CDN_HP_DROPOUT] == 0 && c.hp[CDN_HP_WEIGHT_DECAY] == 0);
          CHECK(c.seed == cdn_hash64(5, (uint64_t)id));
        }
  /* replicates share hyperparameters and differ in seed */
  cdn_population_config(&s, 10, &c);
  cdn_population_config(&s, 11, &d);
  CHECK(same_hp(&c, &d) && c.config_id == d.config_id && c.seed != d.seed);
  /* out of range ids are flagged, not wrapped */
  cdn_population_config(&s, 48, &c);
  CHECK(c.id == -1);
  cdn_population_config(&s, -1, &c);
  CHECK(c.id == -1);
}

/* architecture x width: architecture slowest, then the hyperparameter lists, width and depth
   last; models carry their family's name and the width and depth in hp[]. */
static void test_shape_grid(void)
{
  cdn_jobspec_t      s;
  cdn_model_config_t c;
  const char *text = "[population]\nreplicates = 2\nlearning_rate = 0.1, 0.01\n"
                     "[training]\narchitecture = lenet5, vgg\nwidth = 0.5, 1, 2\n";
  CHECK(cdn_jobspec_parse_string("shape", text, &s) == 0);
  CHECK(cdn_population_size(&s) == 2 * 2 * 3 * 2);
  CHECK(cdn_population_configs(&s) == 12);
  for (int a = 0, id = 0; a < 2; a++)
    for (int lr = 0; lr < 2; lr++)
      for (int w = 0; w < 3; w++)
        for (int r = 0; r < 2; r++, id++) {
          cdn_population_config(&s, id, &c);
          CHECK(c.id == id && c.config_id == id / 2 && c.replicate == r);
          CHECK(!strcmp(c.arch, a ? "vgg" : "lenet5"));
          CHECK(c.hp[CDN_HP_LEARNING_RATE] == s.axis[CDN_HP_LEARNING_RATE].v[lr]);
          CHECK(c.hp[CDN_HP_WIDTH] == s.axis[CDN_HP_WIDTH].v[w]);
          CHECK(c.hp[CDN_HP_DEPTH] == 0);
        }
  /* one family and width, as every job spec before these axes: ids and values unchanged */
  CHECK(cdn_jobspec_parse_string("plain", "[population]\nlearning_rate = 0.1, 0.01\n", &s) == 0);
  cdn_population_config(&s, 1, &c);
  CHECK(!strcmp(c.arch, "lenet5") && c.hp[CDN_HP_LEARNING_RATE] == 0.01 && c.hp[CDN_HP_WIDTH] == 1);
}

static void test_distributions(void)
{
  cdn_jobspec_t      s, s2;
  cdn_model_config_t c, d;
  const char *text = "[population]\nseed = 9\nreplicates = 3\nsamples = 50\nlearning_rate = loguniform(1e-4, 0.5)\n"
                     "momentum = uniform(0.5, 0.99)\ndropout = 0, 0.25\n";
  enum { N = 2 * 50 * 3 };
  static cdn_model_config_t first[N];
  double lo_lr = 1, hi_lr = 0, log_sum = 0;
  int    distinct = 0;

  CHECK(cdn_jobspec_parse_string("dist", text, &s) == 0);
  CHECK(cdn_population_size(&s) == N);
  for (int id = 0; id < N; id++) {
    cdn_population_config(&s, id, &first[id]);
    c = first[id];
    CHECK(c.config_id == id / 3 && c.replicate == id % 3);
    CHECK(c.hp[CDN_HP_DROPOUT] == (id < N / 2 ? 0 : 0.25)); /* grid slowest */
    CHECK(c.hp[CDN_HP_LEARNING_RATE] >= 1e-4 && c.hp[CDN_HP_LEARNING_RATE] <= 0.5);
    CHECK(c.hp[CDN_HP_MOMENTUM] >= 0.5 && c.hp[CDN_HP_MOMENTUM] <= 0.99);
    CHECK(c.hp[CDN_HP_BATCH_SIZE] == 64);
    if (c.replicate > 0) CHECK(same_hp(&c, &first[id - 1]) && c.seed != first[id - 1].seed);
    else if (id > 0) distinct += !same_hp(&c, &first[id - 1]);
    if (c.replicate == 0) {
      lo_lr = fmin(lo_lr, c.hp[CDN_HP_LEARNING_RATE]);
      hi_lr = fmax(hi_lr, c.hp[CDN_HP_LEARNING_RATE]);
      log_sum += log(c.hp[CDN_HP_LEARNING_RATE]);
    }
  }
  CHECK(distinct == N / 3 - 1); /* every configuration draws its own values */
  /* loguniform spreads over decades: 100 draws reach both ends and centre near the log midpoint */
  CHECK(lo_lr < 1e-3 && hi_lr > 0.05);
  CHECK(fabs(log_sum / (N / 3) - 0.5 * (log(1e-4) + log(0.5))) < 0.6);
  /* any call order, and a second parse of the same text, gives the same configs */
  CHECK(cdn_jobspec_parse_string("again", text, &s2) == 0);
  for (int k = 0; k < N; k++) {
    int id = (int)((k * 7919L) % N); /* 7919 is prime to N: a permutation */
    cdn_population_config(&s2, id, &d);
    CHECK(same_hp(&d, &first[id]) && d.seed == first[id].seed && d.config_id == first[id].config_id);
  }
  /* the global seed changes draws and model seeds */
  s2.seed = 10;
  cdn_population_config(&s2, 0, &d);
  CHECK(!same_hp(&d, &first[0]) && d.seed != first[0].seed);
}

static void test_limits(void)
{
  cdn_jobspec_t s;
  cdn_jobspec_defaults(&s);
  CHECK(cdn_population_size(&s) == 1);
  /* a hand-built spec beyond the cap is refused instead of overflowing */
  for (int h = 0; h < CDN_HP_COUNT; h++) s.axis[h].n = CDN_MAX_AXIS_VALUES;
  CHECK(cdn_population_size(&s) == -1);
  cdn_jobspec_defaults(&s);
  s.replicates = 0;
  CHECK(cdn_population_size(&s) == -1);
}

int main(int argc, char **argv)
{
  if (cdn_initialize(&argc, &argv, NULL)) return 1; /* parsing uses PETSc's error machinery */
  test_grid();
  test_shape_grid();
  test_distributions();
  test_limits();
  if (cdn_finalize()) return 1;
  return CHECK_STATUS();
}
