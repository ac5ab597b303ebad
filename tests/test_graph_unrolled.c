/* The unrolled graph: a tiny net's pixel-level edges worked out by hand, LeNet-5's node and edge
   counts, the size guard and the residual refusal; and an exported graph, read back from its
   Matrix Market file, gives the same statistics as the graph it came from. */
#include <stdlib.h>
#include <unistd.h>
#include "check.h"
#include "families.h"
#include "cnndyn/graph.h"
#include "cnndyn/stats.h"
#include "cnndyn/util.h"

static double entry(Mat A, PetscInt i, PetscInt j)
{
  PetscScalar v = -1;
  MatGetValues(A, 1, &i, 1, &j, &v);
  return PetscRealPart(v);
}

/* 1x3x3 -> conv 1->2 (k2) -> maxpool k2 -> flatten -> linear 2->3.
   Nodes: input 0-8 | conv1 9-16 (c,y,x) | pool1 17-18 | fc1 19-21. */
static void test_tiny(void)
{
  cdn_model_desc_t d;
  cdn_graph_t     *g = NULL;
  fam_begin(&d, "tiny", 1, 3, 3);
  int c = fam_push(&d, CDN_OP_CONV2D, "conv1", -1, 2, 2, 1, 0);
  fam_push(&d, CDN_OP_MAXPOOL2D, "pool1", c, 0, 2, 2, 0);
  fam_push(&d, CDN_OP_FLATTEN, "flatten", 1, 0, 0, 0, 0);
  int f = fam_push(&d, CDN_OP_LINEAR, "fc1", 2, 3, 0, 0, 0);
  float k1[4] = {1, -2, 3, -4};
  memcpy(d.layer[c].weight + 4, k1, sizeof k1);
  d.layer[f].weight[2 * 2 + 1] = -0.5f;
  CHECK(!cdn_graph_create_unrolled(PETSC_COMM_SELF, &d, 1000, &g));
  CHECK(g->nnodes == 22 && g->nedges == 32 + 8 + 6 && g->ngroups == 4 && g->unrolled);
  CHECK(!strcmp(g->group_name[2], "pool1") && g->group_start[3] == 19);
  CHECK(!cdn_graph_set_weights(g, &d));
  CHECK(entry(g->A, 13, 1) == 2 && entry(g->A, 1, 13) == 2); /* out (1,0,0) <- in (0,1) via W[1][0][0][1] */
  CHECK(entry(g->A, 16, 8) == 4);                          /* out (1,1,1) <- in (2,2) via W[1][0][1][1] */
  CHECK(entry(g->A, 16, 0) == 0 && entry(g->A, 9, 1) == 0);  /* not joined / channel 0's zero kernel */
  CHECK(entry(g->A, 17, 9) == 1 && entry(g->A, 17, 12) == 1 && entry(g->A, 18, 13) == 1 && entry(g->A, 17, 13) == 0);
  CHECK(entry(g->A, 21, 18) == 0.5);
  CHECK(!cdn_graph_destroy(&g));
  /* The guard names the count and the limit. */
  CHECK(cdn_graph_create_unrolled(PETSC_COMM_SELF, &d, 40, &g) == CDN_ERR_INPUT);
  CHECK_CONTAINS(cdn_error_message(), "more than the limit of 40 ([graph] max_edges)");
  fam_free(&d);
}

static void test_lenet(void)
{
  cdn_model_desc_t d;
  cdn_graph_t     *g = NULL;
  int              id[4];
  fam_lenet(&d);
  CHECK(!cdn_graph_create_unrolled(PETSC_COMM_SELF, &d, 1000000, &g));
  CHECK(g->nnodes == 784 + 4704 + 1176 + 1600 + 400 + 120 + 84 + 10);
  CHECK(g->nedges == 107736 + 4704 + 240000 + 1600 + 48000 + 10080 + 840);
  CHECK(!cdn_graph_set_weights(g, &d));
  CHECK(!cdn_graph_destroy(&g));
  CHECK(cdn_graph_create_unrolled(PETSC_COMM_SELF, &d, 400000, &g) == CDN_ERR_INPUT);
  CHECK_CONTAINS(cdn_error_message(), "lenet5: the unrolled graph would have at least");
  fam_free(&d);
  fam_resnet(&d, id);
  CHECK(cdn_graph_create_unrolled(PETSC_COMM_SELF, &d, 1000000, &g) == CDN_ERR_INPUT);
  CHECK_CONTAINS(cdn_error_message(), "needs a sequential stack");
  fam_free(&d);
}

/* Reads a "coordinate real symmetric" file into a matrix (the lower triangle as edges). */
static int read_mtx(const char *path, Mat *A)
{
  FILE      *fp = fopen(path, "r");
  char       line[256];
  int        n, n2, m, ok;
  if (!fp) return 1;
  ok = fgets(line, sizeof line, fp) && !strcmp(line, "%%MatrixMarket matrix coordinate real symmetric\n") &&
       fscanf(fp, "%d %d %d", &n, &n2, &m) == 3;
  PetscInt  *ei = malloc(m * sizeof *ei), *ej = malloc(m * sizeof *ej);
  PetscReal *w  = malloc(m * sizeof *w);
  for (int k = 0; ok && k < m; k++) {
    int i, j;
    double v;
    ok = fscanf(fp, "%d %d %lf", &i, &j, &v) == 3;
    ei[k] = i - 1, ej[k] = j - 1, w[k] = v;
  }
  fclose(fp);
  ok = ok && !cdn_graph_mat_from_edges(PETSC_COMM_SELF, n, m, ei, ej, w, A);
  free(ei), free(ej), free(w);
  return !ok;
}

static void test_export_reread(void)
{
  cdn_model_desc_t d;
  cdn_graph_t     *g = NULL;
  cdn_rng_t        rng;
  int              id[4];
  Mat              B;
  char             path[256];
  fam_resnet(&d, id);
  cdn_rng_seed(&rng, 3, 0);
  for (int k = 0; k < d.nlayers; k++)
    if (cdn_layer_has_params(&d.layer[k]))
      for (int i = 0; i < cdn_layer_weight_count(&d.layer[k]); i++) d.layer[k].weight[i] = (float)cdn_rng_normal(&rng);
  CHECK(!cdn_graph_create(PETSC_COMM_SELF, &d, &g) && !cdn_graph_set_weights(g, &d));
  snprintf(path, sizeof path, "/tmp/cdn_test_unrolled_%ld.mtx", (long)getpid());
  CHECK(!cdn_graph_export_mtx(g, path));
  CHECK(!read_mtx(path, &B));
  remove(path);
  PetscReal x[64], y[64], lx, ly, s1, s2;
  CHECK(!cdn_stat_degree(g->A, x) && !cdn_stat_degree(B, y));
  for (int i = 0; i < g->nnodes; i++) CHECK_CLOSE(x[i], y[i], 1e-12);
  CHECK(!cdn_stat_eigenvector(g->A, x, &lx) && !cdn_stat_eigenvector(B, y, &ly));
  for (int i = 0; i < g->nnodes; i++) CHECK_CLOSE(x[i], y[i], 1e-9);
  CHECK(!cdn_stat_pagerank(g->A, x) && !cdn_stat_pagerank(B, y));
  for (int i = 0; i < g->nnodes; i++) CHECK_CLOSE(x[i], y[i], 1e-9);
  CHECK(!cdn_stat_block_singular(g->A, 23, 8, 15, 8, &s1) && !cdn_stat_block_singular(B, 23, 8, 15, 8, &s2));
  CHECK(s1 > 0);
  CHECK_CLOSE(s1, s2, 1e-9);
  MatDestroy(&B);
  CHECK(!cdn_graph_destroy(&g));
  fam_free(&d);
}

int main(int argc, char **argv)
{
  if (cdn_initialize(&argc, &argv, NULL)) return 1;
  test_tiny();
  test_lenet();
  test_export_reread();
  cdn_finalize();
  return CHECK_STATUS();
}
