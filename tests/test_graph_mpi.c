/* A graph held by a communicator of several ranks (run under mpirun -n 2 by graphs.cmake; alone
   it checks the 1-rank path): each rank holds only the COO entries of its own rows, about the same
   number on every rank, and every statistic and feature agrees with the same graph held by one
   rank. */
#include "check.h"
#include "families.h"
#include "cnndyn/graph.h"
#include "cnndyn/stats.h"
#include "cnndyn/util.h"

static void fill(cdn_model_desc_t *d, uint64_t seed)
{
  cdn_rng_t rng;
  cdn_rng_seed(&rng, seed, 0);
  for (int k = 0; k < d->nlayers; k++) {
    cdn_layer_desc_t *l = &d->layer[k];
    int               n = l->op == CDN_OP_BATCHNORM ? l->out_c : cdn_layer_weight_count(l);
    for (int i = 0; l->weight && i < n; i++) l->weight[i] = (float)cdn_rng_normal(&rng);
    for (int i = 0; l->running_var && i < n; i++) l->running_var[i] = (float)(0.5 + cdn_rng_uniform(&rng));
  }
}

static void compare(cdn_model_desc_t *d, int unrolled)
{
  cdn_graph_t *g1 = NULL, *gw = NULL;
  unsigned    stats = (1u << CDN_STAT_COUNT) - 1, aggs = (1u << CDN_AGG_COUNT) - 1;
  PetscMPIInt size;
  PetscInt    total;

  MPI_Comm_size(PETSC_COMM_WORLD, &size);
  CHECK(!cdn_graph_create_as(PETSC_COMM_SELF, d, unrolled, 1000000, &g1));
  CHECK(!cdn_graph_create_as(PETSC_COMM_WORLD, d, unrolled, 1000000, &gw));
  /* Pattern once, values per epoch: set twice with different weights, compare the second. */
  CHECK(!cdn_graph_set_weights(gw, d));
  fill(d, 99);
  CHECK(!cdn_graph_set_weights(g1, d) && !cdn_graph_set_weights(gw, d));
  MPI_Allreduce(&gw->ncoo, &total, 1, MPIU_INT, MPI_SUM, PETSC_COMM_WORLD);
  CHECK(total == 2 * g1->nedges && g1->ncoo == 2 * g1->nedges);
  CHECK(size == 1 || gw->ncoo < total);
  { /* the rows are split by entries: each rank holds its even share, give or take one row */
    PetscInt widest = 0, lo, hi;
    for (PetscInt r = 0; r < g1->nnodes; r++) {
      PetscInt nc;
      CHECK(!MatGetRow(g1->A, r, &nc, NULL, NULL));
      widest = PetscMax(widest, nc);
      CHECK(!MatRestoreRow(g1->A, r, &nc, NULL, NULL));
    }
    MPI_Allreduce(&gw->ncoo, &lo, 1, MPIU_INT, MPI_MIN, PETSC_COMM_WORLD);
    MPI_Allreduce(&gw->ncoo, &hi, 1, MPIU_INT, MPI_MAX, PETSC_COMM_WORLD);
    CHECK(hi - total / size <= widest && total / size - lo <= widest);
  }
  int        n  = cdn_feature_count(g1, stats, aggs);
  PetscReal *r1 = calloc(n, sizeof *r1), *rw = calloc(n, sizeof *rw);
  CHECK(n == cdn_feature_count(gw, stats, aggs));
  CHECK(!cdn_graph_features(g1, stats, aggs, r1));
  CHECK(!cdn_graph_features(gw, stats, aggs, rw));
  int bad = 0;
  for (int k = 0; k < n; k++) bad += !(fabs(r1[k] - rw[k]) <= 1e-9 * (1 + fabs(r1[k])));
  CHECK(bad == 0);
  CHECK(r1[0] > 0); /* degree.all.mean: real weights went in */
  free(r1), free(rw);
  CHECK(!cdn_graph_destroy(&g1) && !cdn_graph_destroy(&gw));
}

int main(int argc, char **argv)
{
  cdn_model_desc_t d;
  int              id[4];
  if (cdn_initialize(&argc, &argv, NULL)) return 1;
  fam_resnet(&d, id);
  fill(&d, 1);
  compare(&d, 0);
  fam_free(&d);
  fam_vgg(&d);
  fill(&d, 2);
  compare(&d, 0);
  fam_free(&d);
  fam_lenet(&d);
  fill(&d, 3);
  compare(&d, 1);
  fam_free(&d);
  cdn_finalize();
  return CHECK_STATUS();
}
