/* PageRank, in/out strength and the leading singular value of a block on graphs with known
   answers (star, path, complete bipartite, disconnected, edgeless, zero weights, NaN), their
   options and failure messages, the layer-scope feature columns and how column names read back. */
#include <stdlib.h>
#include "check.h"
#include "cnndyn/features.h"
#include "cnndyn/stats.h"
#include "cnndyn/util.h"

#define MAXN 64
static const double d = 0.85;

typedef struct {
  PetscReal pr[MAXN], in[MAXN], out[MAXN];
  Mat       A;
} res_t;

static res_t run(PetscInt n, PetscInt m, const PetscInt *ei, const PetscInt *ej, const PetscReal *w)
{
  res_t r;
  CHECK(!cdn_graph_mat_from_edges(PETSC_COMM_SELF, n, m, ei, ej, w, &r.A));
  CHECK(!cdn_stat_pagerank(r.A, r.pr));
  CHECK(!cdn_stat_strength(r.A, r.in, r.out));
  return r;
}

static double sigma(Mat A, PetscInt r0, PetscInt nr, PetscInt c0, PetscInt nc)
{
  PetscReal s = -1;
  CHECK(!cdn_stat_block_singular(A, r0, nr, c0, nc, &s));
  return s;
}

static void test_star(int n, double wt)
{
  PetscInt  ei[MAXN], ej[MAXN];
  PetscReal w[MAXN];
  for (int k = 0; k < n; k++) ei[k] = 0, ej[k] = k + 1, w[k] = wt;
  res_t  r  = run(n + 1, n, ei, ej, w);
  double N = n + 1, xc = ((1 - d) / N + d) / (1 + d), sum = 0;
  CHECK_CLOSE(r.pr[0], xc, 1e-8);
  for (int k = 1; k <= n; k++) CHECK_CLOSE(r.pr[k], (1 - xc) / n, 1e-8);
  for (int k = 0; k <= n; k++) sum += r.pr[k];
  CHECK_CLOSE(sum, 1.0, 1e-12);
  /* Edges point from the lower id: the centre (0) sends, the leaves receive. */
  CHECK(r.in[0] == 0 && fabs(r.out[0] - n * wt) < 1e-12 * n * wt);
  CHECK(r.in[n] == wt && r.out[n] == 0);
  CHECK_CLOSE(sigma(r.A, 1, n, 0, 1), sqrt((double)n) * wt, 1e-9); /* leaves x centre: a column */
  CHECK_CLOSE(sigma(r.A, 0, 1, 1, n), sqrt((double)n) * wt, 1e-9);
  MatDestroy(&r.A);
}

static void test_path(void)
{
  PetscInt  ei[] = {0, 1, 2}, ej[] = {1, 2, 3};
  PetscReal w[]  = {1, 1, 1};
  res_t     r    = run(4, 3, ei, ej, w);
  double    x0   = 1 / (4 + 2 * d);
  CHECK_CLOSE(r.pr[0], x0, 1e-8);
  CHECK_CLOSE(r.pr[3], x0, 1e-8);
  CHECK_CLOSE(r.pr[1], 0.5 - x0, 1e-8);
  CHECK(r.in[0] == 0 && r.out[0] == 1 && r.in[1] == 1 && r.out[1] == 1 && r.in[3] == 1 && r.out[3] == 0);
  CHECK_CLOSE(sigma(r.A, 2, 2, 0, 2), 1.0, 1e-9); /* [[0 1] [0 0]] */
  CHECK_CLOSE(sigma(r.A, 0, 4, 0, 4), 2 * cos(M_PI / 5), 1e-9); /* whole path: its spectral radius */
  MatDestroy(&r.A);
}

/* K(m, n): x_a = (1 + d n/m) / (N (1 + d)); the block's singular value w sqrt(mn). */
static void test_bipartite(int m, int n, double wt)
{
  PetscInt  ei[MAXN * 4], ej[MAXN * 4], e = 0;
  PetscReal w[MAXN * 4];
  for (int a = 0; a < m; a++)
    for (int b = 0; b < n; b++, e++) ei[e] = a, ej[e] = m + b, w[e] = wt;
  res_t  r = run(m + n, e, ei, ej, w);
  double N = m + n;
  CHECK_CLOSE(r.pr[0], (1 + d * n / m) / (N * (1 + d)), 1e-8);
  CHECK_CLOSE(r.pr[m], (1 + d * m / n) / (N * (1 + d)), 1e-8);
  CHECK_CLOSE(r.out[0], n * wt, 1e-12);
  CHECK_CLOSE(r.in[m], m * wt, 1e-12);
  CHECK_CLOSE(sigma(r.A, m, n, 0, m), wt * sqrt((double)m * n), 1e-9);
  MatDestroy(&r.A);
}

static void test_degenerate(void)
{
  /* Star K(1,4) beside one edge of weight 3: each part keeps |C|/N of the mass. */
  PetscInt  ei[] = {0, 0, 0, 0, 5}, ej[] = {1, 2, 3, 4, 6};
  PetscReal w[]  = {1, 1, 1, 1, 3};
  res_t     r    = run(7, 5, ei, ej, w);
  CHECK_CLOSE(r.pr[5], 1 / 7.0, 1e-8);
  CHECK_CLOSE(r.pr[6], 1 / 7.0, 1e-8);
  CHECK_CLOSE(r.pr[0], ((1 - d) / 7 + d * 5 / 7.0) / (1 + d), 1e-8);
  CHECK_CLOSE(sigma(r.A, 5, 2, 0, 5), 0.0, 1e-15); /* between the parts: nothing */
  CHECK_CLOSE(sigma(r.A, 0, 7, 0, 7), 3.0, 1e-9);  /* the larger part wins */
  CHECK(r.out[5] == 3 && r.in[6] == 3);
  MatDestroy(&r.A);
  /* No edges, then all-zero weights: every node dangles, PageRank is uniform, sigma 0. */
  for (int m = 0; m <= 5; m += 5) {
    PetscReal z[5] = {0};
    r              = run(7, m, ei, ej, z);
    for (int k = 0; k < 7; k++) CHECK(fabs(r.pr[k] - 1 / 7.0) < 1e-14 && r.in[k] == 0 && r.out[k] == 0);
    CHECK(sigma(r.A, 1, 4, 0, 1) == 0);
    MatDestroy(&r.A);
  }
  /* Scale does not matter (1e18: an exploded net); NaN makes everything NaN. */
  PetscReal big[5];
  res_t     a = run(7, 5, ei, ej, w);
  for (int k = 0; k < 5; k++) big[k] = 1e18 * w[k];
  r = run(7, 5, ei, ej, big);
  for (int k = 0; k < 7; k++) CHECK_CLOSE(r.pr[k], a.pr[k], 1e-12);
  CHECK_CLOSE(sigma(r.A, 5, 2, 5, 2), 3e18, 1e-9);
  MatDestroy(&r.A), MatDestroy(&a.A);
  w[2] = NAN;
  r    = run(7, 5, ei, ej, w);
  CHECK(isnan(r.pr[0]) && isnan(r.pr[6]));
  CHECK(isnan(sigma(r.A, 1, 4, 0, 1)));
  CHECK(sigma(r.A, 5, 2, 5, 2) == 3); /* a block without the NaN is fine */
  /* Too few steps: an error with the option to raise, not a silent answer. */
  MatDestroy(&r.A);
  w[2] = 1;
  r    = run(7, 5, ei, ej, w);
  CHECK(!PetscOptionsSetValue(NULL, "-pagerank_max_it", "3"));
  CHECK(cdn_stat_pagerank(r.A, a.pr) == PETSC_ERR_CONV_FAILED);
  CHECK_CONTAINS(cdn_error_message(), "-pagerank_max_it");
  CHECK(!PetscOptionsSetValue(NULL, "-pagerank_max_it", "1000"));
  CHECK(!PetscOptionsSetValue(NULL, "-pagerank_damping", "1.5"));
  CHECK(cdn_stat_pagerank(r.A, a.pr) == CDN_ERR_INPUT);
  CHECK(!PetscOptionsClearValue(NULL, "-pagerank_damping"));
  CHECK(!PetscOptionsClearValue(NULL, "-pagerank_max_it"));
  MatDestroy(&r.A);
}

static int same_column(const cdn_column_t *a, const cdn_column_t *b)
{
  return !strcmp(a->name, b->name) && !strcmp(a->statistic, b->statistic) && !strcmp(a->scope, b->scope) &&
         !strcmp(a->layer, b->layer) && !strcmp(a->aggregator, b->aggregator);
}

/* A one-layer net input (1) -> fc1 (3) with weights 1, -2, 3: a star; singular = sqrt(14). */
static void test_features(void)
{
  static float     wt[3] = {1, -2, 3};
  cdn_model_desc_t m;
  cdn_graph_t     *g = NULL;
  char             names[64][64];
  PetscReal        row[64];
  unsigned         stats = 1u << CDN_STAT_PAGERANK | 1u << CDN_STAT_SINGULAR | 1u << CDN_STAT_OUT_STRENGTH;
  unsigned         aggs  = 1u << CDN_AGG_MEAN | 1u << CDN_AGG_MAX;

  memset(&m, 0, sizeof m);
  m.in_c = m.in_h = m.in_w = 1, m.nlayers = 1;
  m.layer[0] = (cdn_layer_desc_t){.op = CDN_OP_LINEAR, .name = "fc1", .src = -1, .in_c = 1, .out_c = 3, .weight = wt};
  CHECK(!cdn_graph_create(PETSC_COMM_SELF, &m, &g));
  CHECK(!cdn_graph_set_weights(g, &m));
  int n = cdn_feature_count(g, stats, aggs);
  CHECK(n == 3 * 2 + (2 + 1) + 3 * 2);
  CHECK(!cdn_feature_names(g, stats, aggs, names));
  CHECK(!cdn_graph_features(g, stats, aggs, row));
  CHECK(!strcmp(names[0], "pagerank.all.mean") && fabs(row[0] - 0.25) < 1e-12);
  CHECK(!strcmp(names[6], "singular.all.mean") && !strcmp(names[8], "singular.fc1.value"));
  CHECK_CLOSE(row[8], sqrt(14.0), 1e-9);
  CHECK(!strcmp(names[9], "out_strength.all.mean") && !strcmp(names[12], "out_strength.input.max"));
  CHECK(row[12] == 6 && row[14] == 0);
  CHECK(cdn_stat_from_name("pagerank") == CDN_STAT_PAGERANK && cdn_stat_from_name("in_strength") == CDN_STAT_IN_STRENGTH);
  cdn_column_t cols[64 + CDN_WEIGHT_POOLED_COUNT], back;
  CHECK(!cdn_feature_columns(g, stats, aggs, cols));
  CHECK(!cdn_weight_stats_columns(&m, cols + n) && !cdn_weight_pooled_columns(cols + n + 7));
  for (int f = 0; f < n + 7 + CDN_WEIGHT_POOLED_COUNT; f++) { /* every name reads back as what it was made from */
    CHECK(!cdn_column_parse(cols[f].name, &back));
    CHECK(same_column(&back, &cols[f]));
  }
  CHECK(!strcmp(cols[n].name, "weights.fc1.weight.mean") && cdn_column_is_weight(&cols[n]) && !cdn_column_is_weight(&cols[0]));
  CHECK(!cdn_graph_destroy(&g));
}

/* Layer names with dots (ResNet's layer1.0.conv1) read back whole; names cnndyn never writes are
   refused rather than guessed at. */
static void test_column_names(void)
{
  cdn_column_t c, back;
  const char  *bad[] = {"colour", "degree", "degree.all", "degree..mean", "degree.all.meen", "degre.all.mean",
                        "singular.conv1.mean", "spectral.conv1.value", "spectral.all.mean", "degree_entropy.all.mean",
                        "weights.conv1.mean", "weights.conv1.weight.median", "weights.weight.mean", ".all.mean",
                        /* statistics of the other kind in the wrong form (an outside review found them accepted) */
                        "weights.conv1.degree.mean", "weight.conv1.mean", "bias.all.p50", "weights.all.singular.value"};

  CHECK(!cdn_column_make(&c, "singular", "block", "layer1.0.conv1", "value"));
  CHECK(!strcmp(c.name, "singular.layer1.0.conv1.value"));
  CHECK(!cdn_column_parse(c.name, &back) && same_column(&back, &c));
  CHECK(!cdn_column_make(&c, "bias", "tensor", "layer2.1.bn2", "p25"));
  CHECK(!strcmp(c.name, "weights.layer2.1.bn2.bias.p25"));
  CHECK(!cdn_column_parse(c.name, &back) && same_column(&back, &c));
  CHECK(!cdn_column_make(&c, "degree_entropy", "group", "layer1.0.conv2", "value"));
  CHECK(!cdn_column_parse(c.name, &back) && !strcmp(back.scope, "group") && !strcmp(back.layer, "layer1.0.conv2"));
  CHECK(!cdn_column_parse("spectral.all.value", &back) && !strcmp(back.scope, "all") && !back.layer[0]);
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) CHECK(cdn_column_parse(bad[i], &back) == -1);
}

int main(int argc, char **argv)
{
  if (cdn_initialize(&argc, &argv, NULL)) return 1;
  test_star(1, 1.0);
  test_star(5, 2.0);
  test_star(40, 0.1);
  test_path();
  test_bipartite(2, 3, 0.5);
  test_bipartite(12, 9, 2.0);
  test_degenerate();
  test_features();
  test_column_names();
  cdn_finalize();
  return CHECK_STATUS();
}
