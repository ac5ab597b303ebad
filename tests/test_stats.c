/* Degree and eigenvector centrality on graphs with known answers, the degenerate cases, the
   aggregators against numpy's values, and one feature row with its names. */
#include <stdlib.h>
#include "check.h"
#include "cnndyn/stats.h"
#include "cnndyn/util.h"

#define MAXN 16

typedef struct {
  PetscReal deg[MAXN], cent[MAXN], lambda;
  int       err;
} result_t;

/* Runs both statistics on a graph given as an edge list. */
static result_t run(PetscInt n, PetscInt m, const PetscInt *ei, const PetscInt *ej, const PetscReal *w)
{
  result_t r = {{0}, {0}, 0, 0};
  Mat      A;
  if (cdn_graph_mat_from_edges(PETSC_COMM_SELF, n, m, ei, ej, w, &A)) {
    r.err = -1;
    return r;
  }
  r.err = cdn_stat_degree(A, r.deg) || cdn_stat_eigenvector(A, r.cent, &r.lambda);
  MatDestroy(&A);
  CHECK(r.err == 0);
  return r;
}

static void test_star(int n)
{
  PetscInt  ei[MAXN], ej[MAXN];
  PetscReal w[MAXN];
  for (int k = 0; k < n; k++) ei[k] = 0, ej[k] = k + 1, w[k] = 1;
  result_t r = run(n + 1, n, ei, ej, w);
  CHECK_CLOSE(r.deg[0], n, 1e-14);
  CHECK_CLOSE(r.cent[0], 1.0, 1e-9);
  CHECK_CLOSE(r.lambda, sqrt(n), 1e-9);
  for (int k = 1; k <= n; k++) {
    CHECK_CLOSE(r.deg[k], 1.0, 1e-14);
    CHECK_CLOSE(r.cent[k], 1.0 / sqrt(n), 1e-9);
  }
}

static void test_paths(void)
{
  PetscInt  ei[] = {0, 1, 2}, ej[] = {1, 2, 3};
  PetscReal w[]  = {1, 1, 1};
  result_t  p3   = run(3, 2, ei, ej, w);
  CHECK_CLOSE(p3.lambda, sqrt(2.0), 1e-9);
  CHECK_CLOSE(p3.cent[0], 1 / sqrt(2.0), 1e-9);
  CHECK_CLOSE(p3.cent[1], 1.0, 1e-9);
  CHECK_CLOSE(p3.cent[2], 1 / sqrt(2.0), 1e-9);
  CHECK(p3.deg[0] == 1 && p3.deg[1] == 2 && p3.deg[2] == 1);
  /* P4: lambda = 2 cos(pi/5), the golden ratio; x_j ~ sin(j pi/5). Its spectrum is symmetric
     (+-1.618, +-0.618): a largest-magnitude solver could return the alternating vector. */
  result_t p4 = run(4, 3, ei, ej, w);
  double   phi = (1 + sqrt(5.0)) / 2, end = sin(M_PI / 5) / sin(2 * M_PI / 5);
  CHECK_CLOSE(p4.lambda, phi, 1e-9);
  CHECK_CLOSE(p4.cent[0], end, 1e-9);
  CHECK_CLOSE(p4.cent[1], 1.0, 1e-9);
  CHECK_CLOSE(p4.cent[2], 1.0, 1e-9);
  CHECK_CLOSE(p4.cent[3], end, 1e-9);
}

/* K(m, n) with every weight w: lambda = w sqrt(mn); the m side ~ sqrt(n), the n side ~ sqrt(m). */
static void test_bipartite(int m, int n, double wt)
{
  PetscInt  ei[MAXN * MAXN], ej[MAXN * MAXN], e = 0;
  PetscReal w[MAXN * MAXN];
  for (int a = 0; a < m; a++)
    for (int b = 0; b < n; b++, e++) ei[e] = a, ej[e] = m + b, w[e] = wt;
  result_t r  = run(m + n, e, ei, ej, w);
  double   xa = sqrt((double)n), xb = sqrt((double)m), top = xa > xb ? xa : xb;
  CHECK_CLOSE(r.lambda / wt, sqrt((double)m * n), 1e-9);
  for (int a = 0; a < m; a++) CHECK_CLOSE(r.cent[a], xa / top, 1e-9);
  for (int b = 0; b < n; b++) CHECK_CLOSE(r.cent[m + b], xb / top, 1e-9);
  CHECK_CLOSE(r.deg[0] / wt, n, 1e-12);
  CHECK_CLOSE(r.deg[m] / wt, m, 1e-12);
}

static void test_disconnected(void)
{
  /* Star K(1,4) (lambda 2) beside one edge: weight 1 (lambda 1), then weight 3 (lambda 3). */
  PetscInt  ei[] = {0, 0, 0, 0, 5}, ej[] = {1, 2, 3, 4, 6};
  PetscReal w[]  = {1, 1, 1, 1, 1};
  result_t  r    = run(7, 5, ei, ej, w);
  CHECK_CLOSE(r.lambda, 2.0, 1e-9);
  CHECK_CLOSE(r.cent[0], 1.0, 1e-9);
  CHECK_CLOSE(r.cent[3], 0.5, 1e-9);
  CHECK(r.cent[5] >= 0 && r.cent[5] < 1e-8 && r.cent[6] >= 0 && r.cent[6] < 1e-8);
  w[4] = 3;
  r    = run(7, 5, ei, ej, w);
  CHECK_CLOSE(r.lambda, 3.0, 1e-9);
  CHECK_CLOSE(r.cent[5], 1.0, 1e-9);
  CHECK_CLOSE(r.cent[6], 1.0, 1e-9);
  for (int k = 0; k < 5; k++) CHECK(r.cent[k] >= 0 && r.cent[k] < 1e-8);
  CHECK(r.deg[5] == 3 && r.deg[0] == 4);
  /* A tie (two identical stars K(1,2)): any mix of the two Perron vectors is an answer. Check what
     is promised: an eigenvector for sqrt(2) (each star's leaves are its centre / sqrt(2)), max 1,
     and the same mix on a second call. */
  PetscInt  ti[] = {0, 0, 3, 3}, tj[] = {1, 2, 4, 5};
  PetscReal tw[] = {1, 1, 1, 1};
  result_t  t1 = run(6, 4, ti, tj, tw), t2 = run(6, 4, ti, tj, tw);
  CHECK_CLOSE(t1.lambda, sqrt(2.0), 1e-9);
  CHECK_CLOSE(fmax(t1.cent[0], t1.cent[3]), 1.0, 1e-9);
  for (int c = 0; c < 6; c += 3) {
    CHECK_CLOSE(t1.cent[c + 1], t1.cent[c] / sqrt(2.0), 1e-8);
    CHECK_CLOSE(t1.cent[c + 2], t1.cent[c] / sqrt(2.0), 1e-8);
  }
  for (int k = 0; k < 6; k++) CHECK(t1.cent[k] == t2.cent[k]);
}

static void test_degenerate(void)
{
  PetscInt  ei[] = {0, 0, 1, 1, 0}, ej[] = {2, 3, 2, 3, 1};
  PetscReal w[5] = {0};
  result_t  r    = run(5, 0, ei, ej, w); /* no edges */
  for (int k = 0; k < 5; k++) CHECK(r.cent[k] == 1.0 && r.deg[k] == 0);
  CHECK(r.lambda == 0);
  for (int k = 0; k < 4; k++) w[k] = 0; /* edges, all weights zero */
  r = run(4, 4, ei, ej, w);
  for (int k = 0; k < 4; k++) CHECK(r.cent[k] == 1.0);
  CHECK(r.lambda == 0);
  /* K(2,2) plus a chord, then the same scaled by 1e18 (an exploded net): same vector. */
  PetscReal base[] = {1, 2, 3, 4, 0.5}, big[5];
  for (int k = 0; k < 5; k++) big[k] = 1e18 * base[k];
  result_t a = run(4, 5, ei, ej, base), b = run(4, 5, ei, ej, big);
  for (int k = 0; k < 4; k++) CHECK_CLOSE(b.cent[k], a.cent[k], 1e-9);
  CHECK_CLOSE(b.lambda, 1e18 * a.lambda, 1e-9);
  CHECK(a.lambda > 4 && a.lambda < 10);
  base[2] = NAN;
  r       = run(4, 5, ei, ej, base);
  for (int k = 0; k < 4; k++) CHECK(isnan(r.cent[k]));
  CHECK(isnan(r.lambda));
  base[2] = INFINITY;
  r       = run(4, 5, ei, ej, base);
  CHECK(isnan(r.cent[0]));
}

/* A solver that cannot converge in its cap ends with an error and a message, not a hang. */
static void test_no_convergence(void)
{
  PetscInt  ei[MAXN], ej[MAXN];
  PetscReal w[MAXN];
  Mat       A;
  PetscReal cent[MAXN], lambda;
  for (int k = 0; k < 12; k++) ei[k] = k, ej[k] = k + 1, w[k] = 1 + 0.1 * k;
  CHECK(!cdn_graph_mat_from_edges(PETSC_COMM_SELF, 13, 12, ei, ej, w, &A));
  CHECK(!PetscOptionsSetValue(NULL, "-eigenvector_eps_max_it", "1"));
  CHECK(!PetscOptionsSetValue(NULL, "-eigenvector_eps_ncv", "3"));
  CHECK(cdn_stat_eigenvector(A, cent, &lambda) == PETSC_ERR_CONV_FAILED);
  CHECK_CONTAINS(cdn_error_message(), "did not converge");
  CHECK(!PetscOptionsClearValue(NULL, "-eigenvector_eps_max_it"));
  CHECK(!PetscOptionsClearValue(NULL, "-eigenvector_eps_ncv"));
  CHECK(!cdn_stat_eigenvector(A, cent, &lambda));
  MatDestroy(&A);
}

static void test_aggregate(void)
{
  PetscReal x[] = {3, 1, 4, 1, 5, 9, 2, 6}, out[CDN_AGG_COUNT];
  cdn_aggregate(x, 8, (1u << CDN_AGG_COUNT) - 1, out);
  CHECK_CLOSE(out[CDN_AGG_MEAN], 3.875, 1e-15);
  CHECK_CLOSE(out[CDN_AGG_STD], 2.5708704751503917, 1e-15);
  CHECK(out[CDN_AGG_MIN] == 1 && out[CDN_AGG_MAX] == 9);
  CHECK(out[CDN_AGG_MEDIAN] == 3.5 && out[CDN_AGG_Q25] == 1.75 && out[CDN_AGG_Q75] == 5.25);
  CHECK(x[0] == 3 && x[7] == 6); /* input untouched */
  PetscReal y[] = {2.5, -1, 7};
  cdn_aggregate(y, 3, 1u << CDN_AGG_STD | 1u << CDN_AGG_Q25 | 1u << CDN_AGG_Q75, out);
  CHECK_CLOSE(out[0], 3.2744804507314167, 1e-15);
  CHECK(out[1] == 0.75 && out[2] == 4.75);
  cdn_aggregate(y, 1, (1u << CDN_AGG_COUNT) - 1, out);
  CHECK(out[0] == 2.5 && out[1] == 0 && out[4] == 2.5 && out[6] == 2.5);
  cdn_aggregate(y, 0, 1u << CDN_AGG_MEAN | 1u << CDN_AGG_MAX, out);
  CHECK(isnan(out[0]) && isnan(out[1]));
  y[1] = NAN;
  cdn_aggregate(y, 3, 1u << CDN_AGG_MAX, out);
  CHECK(isnan(out[0]));
}

/* cdn_select against the sort it replaces, bit for bit (a zero's sign too, except at an inner rank,
   where only the value is promised), over sizes around its insertion-sort cut and inputs that
   trouble quickselects: runs of equal values, -0 beside +0, sorted, reversed, organ pipes, one
   value; infinities too (the quantile's mix of -inf and -inf is NaN in both). */
static void test_select(void)
{
  static const double q[] = {0, 0.25, 0.5, 0.75, 1, 0.025, 0.975, 1.0 / 3};
  const int           nq = (int)(sizeof q / sizeof q[0]);
  static double       v[5000], sorted[5000];
  const int           sizes[] = {1, 2, 3, 5, 16, 17, 18, 33, 100, 257, 1000, 4999};
  unsigned long long  seed = 12345;

  for (int shape = 0; shape < 8; shape++)
    for (size_t t = 0; t < sizeof sizes / sizeof sizes[0]; t++) {
      int    n = sizes[t], k[4] = {0, n - 1, n / 3, (2 * n) / 3};
      double kout[4], qout[8];
      for (int i = 0; i < n; i++) {
        seed     = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        int    r = (int)(seed >> 33) % 1000;
        double x = shape == 0 ? r / 7.0 - 60         /* spread values */
                 : shape == 1 ? (double)(r % 3)      /* a few, repeated */
                 : shape == 2 ? (r % 2 ? 0.0 : -0.0) /* zeros of both signs only */
                 : shape == 3 ? (r % 3 ? (r % 2 ? 0.0 : -0.0) : r - 700.0)
                 : shape == 4 ? (double)i            /* sorted */
                 : shape == 5 ? (double)(n - i)      /* reversed */
                 : shape == 6 ? (double)(i < n / 2 ? i : n - i) /* organ pipe */
                              : (r % 5 == 0 ? -INFINITY : r % 5 == 1 ? INFINITY : r);
        v[i] = sorted[i] = x;
      }
      cdn_sort_doubles(sorted, n);
      cdn_select(v, n, k, 4, kout, q, nq, qout);
      for (int j = 0; j < 4; j++) CHECK(j < 2 ? !memcmp(&kout[j], &sorted[k[j]], sizeof(double)) : kout[j] == sorted[k[j]]);
      for (int j = 0; j < nq; j++) {
        double want = cdn_quantile_sorted(sorted, n, q[j]);
        CHECK(!memcmp(&qout[j], &want, sizeof want));
      }
    }
  {
    double kout, qout;
    cdn_select(v, 0, (int[]){0}, 1, &kout, q, 1, &qout);
    CHECK(isnan(kout) && isnan(qout));
  }
}

static void test_names(void)
{
  CHECK(!strcmp(cdn_stat_name(CDN_STAT_EIGENVECTOR), "eigenvector") && !strcmp(cdn_agg_name(CDN_AGG_Q25), "q25"));
  for (int s = 0; s < CDN_STAT_COUNT; s++) CHECK(cdn_stat_from_name(cdn_stat_name((cdn_stat_t)s)) == s);
  for (int a = 0; a < CDN_AGG_COUNT; a++) CHECK(cdn_agg_from_name(cdn_agg_name((cdn_agg_t)a)) == a);
  CHECK(cdn_stat_from_name("closeness") == -1 && cdn_agg_from_name("Mean") == -1 && cdn_agg_from_name(NULL) == -1);
}

/* A one-layer net: input (1 node) -> fc1 (3 neurons) with weights 1, 2, 3, a weighted star. */
static void test_features(void)
{
  static float     wt[3] = {1, -2, 3};
  cdn_model_desc_t d;
  cdn_graph_t     *g = NULL;
  char (*names)[64];
  PetscReal       *row;
  unsigned         all = (1u << CDN_AGG_COUNT) - 1;

  memset(&d, 0, sizeof d);
  d.in_c = d.in_h = d.in_w = 1;
  d.nlayers                = 1;
  d.layer[0]               = (cdn_layer_desc_t){.op = CDN_OP_LINEAR, .name = "fc1", .src = -1, .in_c = 1, .out_c = 3, .weight = wt};
  CHECK(!cdn_graph_create(PETSC_COMM_SELF, &d, &g));
  CHECK(!cdn_graph_set_weights(g, &d));
  int n = cdn_feature_count(g, 3, all);
  CHECK(n == 2 * 3 * 7);
  CHECK(cdn_feature_count(g, 1u << CDN_STAT_DEGREE, 1u << CDN_AGG_MAX | 1u << CDN_AGG_MIN) == 6);
  names = calloc(n, sizeof *names);
  row   = calloc(n, sizeof *row);
  CHECK(!cdn_feature_names(g, 3, all, names));
  CHECK(!cdn_graph_features(g, 3, all, row));
  CHECK(!strcmp(names[0], "degree.all.mean") && row[0] == 3);
  CHECK(!strcmp(names[10], "degree.input.max") && row[10] == 6);
  CHECK(!strcmp(names[18], "degree.fc1.median") && row[18] == 2);
  CHECK(!strcmp(names[21], "eigenvector.all.mean"));
  CHECK(!strcmp(names[38], "eigenvector.fc1.max"));
  CHECK_CLOSE(row[38], 3 / sqrt(14.0), 1e-9);
  CHECK_CLOSE(row[31], 1.0, 1e-9); /* eigenvector.input.max: the centre */
  free(names);
  free(row);
  CHECK(!cdn_graph_destroy(&g));
}

int main(int argc, char **argv)
{
  if (cdn_initialize(&argc, &argv, NULL)) return 1;
  test_star(1);
  test_star(5);
  test_star(12);
  test_paths();
  test_bipartite(2, 3, 0.5);
  test_bipartite(4, 4, 2.0);
  test_bipartite(1, 7, 1e-3);
  test_disconnected();
  test_degenerate();
  test_no_convergence();
  test_aggregate();
  test_select();
  test_names();
  test_features();
  cdn_finalize();
  return CHECK_STATUS();
}
