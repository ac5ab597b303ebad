/* The graph summaries added for issue 16: the leading eigenvalue of the whole graph ("spectral")
   and the normalised entropy of the weighted-degree distribution ("degree_entropy"), against
   closed forms and a dense power iteration written here, their degenerate inputs, and their
   feature columns (one value per graph, one per scope) with and without the eigenvector solve
   they share. */
#include <stdlib.h>
#include "check.h"
#include "cnndyn/stats.h"
#include "cnndyn/util.h"

/* -sum p ln p / ln n, straight from the definition (no scaling): the independent computation. */
static double entropy_ref(const double *d, int n)
{
  double s = 0, h = 0;
  for (int i = 0; i < n; i++) s += d[i];
  for (int i = 0; i < n; i++)
    if (d[i] > 0) h -= d[i] / s * log(d[i] / s);
  return h / log(n);
}

static void test_entropy(void)
{
  PetscReal u[5] = {2, 2, 2, 2, 2}, a[3] = {1, 1, 2}, z[4] = {0}, big[3] = {1e300, 1e300, 2e300}, tiny[3];
  PetscReal bad[3] = {1, 2, 3};
  double    ad[3]  = {1, 1, 2};

  CHECK_CLOSE(cdn_degree_entropy(u, 5), 1.0, 1e-15);
  CHECK_CLOSE(cdn_degree_entropy(a, 3), 1.5 * log(2.0) / log(3.0), 1e-14); /* p = 1/4, 1/4, 1/2 */
  CHECK_CLOSE(cdn_degree_entropy(a, 3), entropy_ref(ad, 3), 1e-14);
  /* a star K(1, n), weight w: the centre holds half the strength, each leaf 1/(2n) */
  for (int n = 1; n <= 40; n += 13) {
    PetscReal s[41];
    s[0] = n * 0.3;
    for (int k = 1; k <= n; k++) s[k] = 0.3;
    CHECK_CLOSE(cdn_degree_entropy(s, n + 1), (0.5 * log(2.0) + 0.5 * log(2.0 * n)) / log(n + 1.0), 1e-13);
  }
  /* all strength on one node of four: 0 */
  PetscReal one[4] = {0, 5, 0, 0};
  CHECK(cdn_degree_entropy(one, 4) == 0);
  /* scale-free, and no overflow at the top of double range nor underflow at the bottom */
  for (int k = 0; k < 3; k++) tiny[k] = a[k] * 1e-310; /* subnormal */
  CHECK_CLOSE(cdn_degree_entropy(big, 3), cdn_degree_entropy(a, 3), 1e-14);
  CHECK_CLOSE(cdn_degree_entropy(tiny, 3), cdn_degree_entropy(a, 3), 1e-12);
  /* conventions: no nodes NaN; one node or no strength at all: uniform, 1 */
  CHECK(isnan(cdn_degree_entropy(u, 0)));
  CHECK(cdn_degree_entropy(u, 1) == 1 && cdn_degree_entropy(z, 4) == 1);
  /* NaN, Inf or a negative strength: NaN, never a number that looks ordinary */
  bad[1] = NAN;
  CHECK(isnan(cdn_degree_entropy(bad, 3)));
  bad[1] = INFINITY;
  CHECK(isnan(cdn_degree_entropy(bad, 3)));
  bad[1] = -1;
  CHECK(isnan(cdn_degree_entropy(bad, 3)));
}

/* Largest eigenvalue of a dense symmetric non-negative matrix by power iteration on A + c I
   (c > 0 puts lambda_max + c strictly above |lambda_min + c| for a layered graph's +-lambda pair). */
static double lambda_dense(const double *A, int n)
{
  double x[64], y[64], c = 0, lam = 0;
  for (int i = 0; i < n * n; i++) c += A[i];
  c = c / n + 1;
  for (int i = 0; i < n; i++) x[i] = 1;
  for (int it = 0; it < 20000; it++) {
    double nrm = 0;
    for (int i = 0; i < n; i++) {
      y[i] = c * x[i];
      for (int j = 0; j < n; j++) y[i] += A[i * n + j] * x[j];
      nrm += y[i] * y[i];
    }
    nrm = sqrt(nrm);
    for (int i = 0; i < n; i++) x[i] = y[i] / nrm;
  }
  for (int i = 0; i < n; i++) { /* Rayleigh quotient of A itself */
    double ax = 0;
    for (int j = 0; j < n; j++) ax += A[i * n + j] * x[j];
    lam += x[i] * ax;
  }
  return lam;
}

/* A layered graph 3 -> 4 -> 2 with pseudo-random weights in (0, 1]: SLEPc's lambda against the
   dense one. */
static void test_spectral_dense(unsigned seed)
{
  enum { N = 9 };
  PetscInt  ei[32], ej[32], m = 0;
  PetscReal w[32], cent[N], lam;
  double    A[N * N] = {0};
  Mat       M;

  srand(seed);
  for (int a = 0; a < 3; a++)
    for (int b = 3; b < 7; b++) ei[m] = a, ej[m] = b, w[m] = (rand() % 1000 + 1) / 1000.0, m++;
  for (int a = 3; a < 7; a++)
    for (int b = 7; b < 9; b++) ei[m] = a, ej[m] = b, w[m] = (rand() % 1000 + 1) / 1000.0, m++;
  for (int e = 0; e < m; e++) A[ei[e] * N + ej[e]] = A[ej[e] * N + ei[e]] = w[e];
  CHECK(!cdn_graph_mat_from_edges(PETSC_COMM_SELF, N, m, ei, ej, w, &M));
  CHECK(!cdn_stat_eigenvector(M, cent, &lam));
  CHECK_CLOSE(lam, lambda_dense(A, N), 1e-9);
  MatDestroy(&M);
}

/* One-layer net: input (1 node) -> fc1 (3 neurons), weights 1, -2, 3: a star with strengths
   6 | 1, 2, 3, whose leading eigenvalue is sqrt(1 + 4 + 9). */
static void test_features(void)
{
  static float     wt[3] = {1, -2, 3};
  cdn_model_desc_t d;
  cdn_graph_t     *g = NULL;
  char             names[64][64];
  PetscReal        row[64], both[64];
  unsigned         mine = 1u << CDN_STAT_SPECTRAL | 1u << CDN_STAT_DEGREE_ENTROPY;
  unsigned         eig  = 1u << CDN_STAT_EIGENVECTOR, aggs = 1u << CDN_AGG_MEAN | 1u << CDN_AGG_MAX;
  double           all[4] = {6, 1, 2, 3}, fc1[3] = {1, 2, 3};

  memset(&d, 0, sizeof d);
  d.in_c = d.in_h = d.in_w = 1, d.nlayers = 1;
  d.layer[0] = (cdn_layer_desc_t){.op = CDN_OP_LINEAR, .name = "fc1", .src = -1, .in_c = 1, .out_c = 3, .weight = wt};
  CHECK(!cdn_graph_create(PETSC_COMM_SELF, &d, &g));
  CHECK(!cdn_graph_set_weights(g, &d));
  /* one column for the graph, one per scope (all, input, fc1); aggregators do not apply */
  CHECK(cdn_feature_count(g, mine, aggs) == 1 + 3);
  CHECK(cdn_feature_count_all(mine, aggs) == 2 && cdn_feature_count_all(mine | eig, aggs) == 4);
  CHECK(!cdn_feature_names(g, mine, aggs, names));
  CHECK(!strcmp(names[0], "spectral.all.value") && !strcmp(names[1], "degree_entropy.all.value"));
  CHECK(!strcmp(names[2], "degree_entropy.input.value") && !strcmp(names[3], "degree_entropy.fc1.value"));
  CHECK(!cdn_graph_features(g, mine, aggs, row));
  CHECK_CLOSE(row[0], sqrt(14.0), 1e-9);
  CHECK_CLOSE(row[1], entropy_ref(all, 4), 1e-14);
  CHECK(row[2] == 1); /* one node */
  CHECK_CLOSE(row[3], entropy_ref(fc1, 3), 1e-14);
  /* with eigenvector too, spectral reads that solve's eigenvalue: the same number, after its 6 columns */
  CHECK(cdn_feature_count(g, mine | eig, aggs) == 6 + 4);
  CHECK(!cdn_graph_features(g, mine | eig, aggs, both));
  CHECK(both[6] == row[0] && both[7] == row[1] && both[9] == row[3]);
  CHECK(cdn_stat_kind(CDN_STAT_SPECTRAL) == CDN_STAT_KIND_GRAPH && cdn_stat_kind(CDN_STAT_DEGREE_ENTROPY) == CDN_STAT_KIND_SCOPE);
  CHECK(cdn_stat_kind(CDN_STAT_DEGREE) == CDN_STAT_KIND_NODE && cdn_stat_kind(CDN_STAT_SINGULAR) == CDN_STAT_KIND_LAYER);
  CHECK(cdn_stat_from_name("spectral") == CDN_STAT_SPECTRAL && cdn_stat_from_name("degree_entropy") == CDN_STAT_DEGREE_ENTROPY);
  /* zero weights: lambda 0 (eigenvector's convention), every strength 0: uniform, 1 */
  wt[0] = wt[1] = wt[2] = 0;
  CHECK(!cdn_graph_set_weights(g, &d));
  CHECK(!cdn_graph_features(g, mine, aggs, row));
  CHECK(row[0] == 0 && row[1] == 1 && row[2] == 1 && row[3] == 1);
  /* a NaN weight (a diverged net): NaN wherever it reaches (the input node's strength too) */
  wt[0] = 1, wt[1] = NAN, wt[2] = 3;
  CHECK(!cdn_graph_set_weights(g, &d));
  CHECK(!cdn_graph_features(g, mine, aggs, row));
  CHECK(isnan(row[0]) && isnan(row[1]) && isnan(row[2]) && isnan(row[3]));
  wt[1] = -2;
  CHECK(!cdn_graph_destroy(&g));
}

int main(int argc, char **argv)
{
  if (cdn_initialize(&argc, &argv, NULL)) return 1;
  test_entropy();
  for (unsigned s = 1; s <= 3; s++) test_spectral_dense(s);
  test_features();
  cdn_finalize();
  return CHECK_STATUS();
}
