/* Eigenvector centrality of a single linear layer's graph (complete bipartite, [[0 W^T], [W 0]]):
   on one rank it is solved through the dense block W (src/stats/centrality.c), and must give what
   the general solver gives on the same matrix (as a dense Mat, which the general path takes) and
   on the graph split over the ranks of the world (run alone and under mpirun -n 2, graphs.cmake):
   every entry and lambda to 1e-9, the solvers' tolerance of 1e-10 with room for the gap. Graphs
   the dense path must not take (a block below 16 a side, LeNet's layers) are recognised as such. */
#include "check.h"
#include "families.h"
#include "cnndyn/graph.h"
#include "cnndyn/stats.h"
#include "cnndyn/util.h"
#include "../src/stats/stats_impl.h"

static void fc_layer(cdn_model_desc_t *d, int n0, int n1, int bn, uint64_t seed)
{
  cdn_rng_t rng;
  fam_begin(d, "fc", n0, 1, n1);
  FAM(CDN_OP_FLATTEN, "flatten", 0, 0, 0, 0), FAM(CDN_OP_LINEAR, "fc", n1, 0, 0, 0);
  if (bn) FAM(CDN_OP_BATCHNORM, "bn", 0, 0, 0, 0);
  cdn_rng_seed(&rng, seed, 0);
  for (int k = 0; k < d->nlayers; k++) {
    cdn_layer_desc_t *l = &d->layer[k];
    int               n = l->op == CDN_OP_BATCHNORM ? l->out_c : cdn_layer_weight_count(l);
    for (int i = 0; l->weight && i < n; i++) l->weight[i] = (float)cdn_rng_normal(&rng);
    for (int i = 0; l->running_var && i < n; i++) l->running_var[i] = (float)(0.5 + cdn_rng_uniform(&rng));
  }
}

static void check_fc(int n0, int n1, int bn, PetscInt side)
{
  cdn_model_desc_t d;
  cdn_graph_t    *g1 = NULL, *gw = NULL;
  PetscReal       *x1, *xd, *xw, l1, ld, lw;
  PetscInt         got, N;
  Mat              D;

  fc_layer(&d, n0, n1, bn, 11 + n0);
  CHECK(!cdn_graph_create(PETSC_COMM_SELF, &d, &g1) && !cdn_graph_set_weights(g1, &d));
  CHECK(!cdn_graph_create(PETSC_COMM_WORLD, &d, &gw) && !cdn_graph_set_weights(gw, &d));
  N = g1->nnodes;
  CHECK(!cdn_dense_block_side(g1->A, &got) && got == side);
  x1 = malloc(N * sizeof *x1), xd = malloc(N * sizeof *xd), xw = malloc(N * sizeof *xw);
  CHECK(!MatConvert(g1->A, MATSEQDENSE, MAT_INITIAL_MATRIX, &D));
  CHECK(!cdn_dense_block_side(D, &got) && got == 0);
  CHECK(!cdn_stat_eigenvector(g1->A, x1, &l1));
  CHECK(!cdn_stat_eigenvector(D, xd, &ld));
  CHECK(!cdn_stat_eigenvector(gw->A, xw, &lw));
  CHECK(l1 > 0);
  CHECK_CLOSE(ld / l1, 1.0, 1e-10);
  CHECK_CLOSE(lw / l1, 1.0, 1e-10);
  for (PetscInt i = 0; i < N; i++) {
    CHECK_CLOSE(x1[i], xd[i], 1e-9);
    CHECK_CLOSE(x1[i], xw[i], 1e-9);
  }
  MatDestroy(&D);
  free(x1), free(xd), free(xw);
  CHECK(!cdn_graph_destroy(&g1) && !cdn_graph_destroy(&gw));
  fam_free(&d);
}

int main(int argc, char **argv)
{
  cdn_model_desc_t d;
  cdn_graph_t     *g = NULL;
  PetscInt         got;
  if (cdn_initialize(&argc, &argv, NULL)) return 1;
  check_fc(100, 150, 0, 100); /* sides not a multiple of the builder's 64-edge tiles */
  check_fc(200, 70, 1, 200);  /* BatchNorm folded: rows of W scaled */
  check_fc(300, 16, 0, 300);
  check_fc(15, 300, 0, 0); /* a side below 16: the general path */
  fam_lenet(&d);
  CHECK(!cdn_graph_create(PETSC_COMM_SELF, &d, &g));
  CHECK(!cdn_dense_block_side(g->A, &got) && got == 0);
  CHECK(!cdn_graph_destroy(&g));
  fam_free(&d);
  cdn_finalize();
  return CHECK_STATUS();
}
