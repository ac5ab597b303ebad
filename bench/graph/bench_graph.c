/* Graph benchmarks, run by hand through run.sh (which puts scipy beside each figure):
     bench_graph fc W.npy             one FC layer as a graph: building it, then eigenvector centrality
     bench_graph edges EI EJ W N      eigenvector centrality of a random graph, on every rank of the world
     bench_graph families             graph + every statistic per epoch for LeNet-5 and the small VGG
   Prints "key value" lines; times are wall seconds (max over ranks), memory the peak resident set
   of the largest rank in MiB. */
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include "../../tests/families.h"
#include "cnndyn/graph.h"
#include "cnndyn/snapshot.h"
#include "cnndyn/stats.h"
#include "cnndyn/util.h"

static PetscErrorCode report(const char *key, double v)
{
  double m;
  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Allreduce(&v, &m, 1, MPI_DOUBLE, MPI_MAX, PETSC_COMM_WORLD));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "%s %.6g\n", key, m));
  PetscFunctionReturn(0);
}

/* This process's CPU seconds (user + system): on a shared machine the wall time also counts the
   time other people's work held the core. */
static double cpu_now(void)
{
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + 1e-6 * (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

static PetscErrorCode peak_memory(void)
{
  struct rusage ru;
  PetscFunctionBeginUser;
  getrusage(RUSAGE_SELF, &ru);
  PetscCall(report("peak_rss_mib", ru.ru_maxrss / 1024.0));
  PetscFunctionReturn(0);
}

/* Reports KEY_s (wall) and KEY_cpu_s. */
static PetscErrorCode eigen_timed(Mat A, const char *key)
{
  PetscReal *x, lambda;
  PetscInt   n;
  double     t0, c0;
  char       k[64];
  PetscFunctionBeginUser;
  PetscCall(MatGetSize(A, &n, NULL));
  PetscCall(PetscMalloc1(n, &x));
  PetscCallMPI(MPI_Barrier(PETSC_COMM_WORLD));
  t0 = MPI_Wtime(), c0 = cpu_now();
  PetscCall(cdn_stat_eigenvector(A, x, &lambda));
  snprintf(k, sizeof k, "%s_s", key);
  PetscCall(report(k, MPI_Wtime() - t0));
  snprintf(k, sizeof k, "%s_cpu_s", key);
  PetscCall(report(k, cpu_now() - c0));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "lambda %.12g\n", (double)lambda));
  PetscCall(PetscFree(x));
  PetscFunctionReturn(0);
}

/* One 4096 x 4096 linear layer read from W.npy: the graph builder's own path, on one rank. */
static PetscErrorCode bench_fc(const char *path)
{
  cdn_model_desc_t d;
  cdn_graph_t     *g = NULL;
  int              nd, shape[4];
  double           t0, t1, c0;
  PetscFunctionBeginUser;
  memset(&d, 0, sizeof d);
  PetscCall(cdn_npy_read(path, &d.layer[0].weight, &nd, shape));
  d.in_c = shape[1], d.in_h = d.in_w = 1, d.nlayers = 1;
  d.layer[0] = (cdn_layer_desc_t){.op = CDN_OP_LINEAR, .name = "fc", .src = -1, .in_c = shape[1], .out_c = shape[0],
                                  .in_h = 1, .in_w = 1, .out_h = 1, .out_w = 1, .weight = d.layer[0].weight};
  t0 = MPI_Wtime(), c0 = cpu_now();
  PetscCall(cdn_graph_create(PETSC_COMM_WORLD, &d, &g));
  t1 = MPI_Wtime();
  PetscCall(cdn_graph_set_weights(g, &d));
  PetscCall(report("fc_create_s", t1 - t0));
  PetscCall(report("fc_set_weights_s", MPI_Wtime() - t1));
  PetscCall(report("fc_build_s", MPI_Wtime() - t0)); /* pattern and values: what scipy's build does */
  PetscCall(report("fc_build_cpu_s", cpu_now() - c0));
  t0 = MPI_Wtime();
  PetscCall(cdn_graph_set_weights(g, &d));
  PetscCall(report("fc_next_epoch_s", MPI_Wtime() - t0)); /* new values into the existing pattern */
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "fc_nodes %d\nfc_edges %d\n", (int)g->nnodes, (int)g->nedges));
  PetscCall(eigen_timed(g->A, "fc_eigenvector"));
  PetscCall(cdn_graph_destroy(&g));
  PetscCall(PetscFree(d.layer[0].weight));
  PetscCall(peak_memory());
  PetscFunctionReturn(0);
}

/* A random graph from three .npy edge arrays (float32, exact for ids below 2^24): each rank
   takes its own slice of the edges and COO assembly sends entries to their owners. */
static PetscErrorCode bench_edges(const char *pi, const char *pj, const char *pw, PetscInt n)
{
  float       *fi, *fj, *fw;
  int          nd, shape[4];
  PetscMPIInt  rank, size;
  PetscInt     m, lo, hi, *ei, *ej;
  PetscReal   *w;
  Mat          A;
  double       t0, c0;
  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_rank(PETSC_COMM_WORLD, &rank));
  PetscCallMPI(MPI_Comm_size(PETSC_COMM_WORLD, &size));
  PetscCall(cdn_npy_read(pi, &fi, &nd, shape));
  m = shape[0];
  PetscCall(cdn_npy_read(pj, &fj, &nd, shape));
  PetscCall(cdn_npy_read(pw, &fw, &nd, shape));
  lo = m * rank / size, hi = m * (rank + 1) / size;
  PetscCall(PetscMalloc3(hi - lo, &ei, hi - lo, &ej, hi - lo, &w));
  for (PetscInt k = lo; k < hi; k++) ei[k - lo] = (PetscInt)fi[k], ej[k - lo] = (PetscInt)fj[k], w[k - lo] = fw[k];
  PetscCall(PetscFree(fi));
  PetscCall(PetscFree(fj));
  PetscCall(PetscFree(fw));
  PetscCallMPI(MPI_Barrier(PETSC_COMM_WORLD));
  t0 = MPI_Wtime(), c0 = cpu_now();
  PetscCall(cdn_graph_mat_from_edges(PETSC_COMM_WORLD, n, hi - lo, ei, ej, w, &A));
  PetscCall(report("random_build_s", MPI_Wtime() - t0));
  PetscCall(report("random_build_cpu_s", cpu_now() - c0));
  PetscCall(PetscFree3(ei, ej, w));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "random_nodes %d\nrandom_edges %d\nranks %d\n", (int)n, (int)m, size));
  PetscCall(eigen_timed(A, "random_eigenvector"));
  PetscCall(MatDestroy(&A));
  PetscCall(peak_memory());
  PetscFunctionReturn(0);
}

/* Per epoch: new weights into the existing pattern, then every statistic and every aggregator. */
static PetscErrorCode bench_family(cdn_model_desc_t *d, const char *key)
{
  cdn_graph_t *g = NULL;
  cdn_rng_t   rng;
  unsigned    stats = (1u << CDN_STAT_COUNT) - 1, aggs = (1u << CDN_AGG_COUNT) - 1;
  PetscReal  *row;
  const int   reps = 5;
  double      t0;
  PetscFunctionBeginUser;
  cdn_rng_seed(&rng, 5, 0);
  for (int k = 0; k < d->nlayers; k++) {
    cdn_layer_desc_t *l = &d->layer[k];
    int               n = l->op == CDN_OP_BATCHNORM ? l->out_c : cdn_layer_weight_count(l);
    for (int i = 0; l->weight && i < n; i++) l->weight[i] = (float)(0.1 * cdn_rng_normal(&rng));
  }
  PetscCall(cdn_graph_create(PETSC_COMM_SELF, d, &g));
  PetscCall(PetscMalloc1(cdn_feature_count(g, stats, aggs), &row));
  t0 = MPI_Wtime();
  for (int r = 0; r < reps; r++) {
    PetscCall(cdn_graph_set_weights(g, d));
    PetscCall(cdn_graph_features(g, stats, aggs, row));
  }
  PetscCall(report(key, (MPI_Wtime() - t0) / reps));
  PetscCall(PetscFree(row));
  PetscCall(cdn_graph_destroy(&g));
  fam_free(d);
  PetscFunctionReturn(0);
}

int main(int argc, char **argv)
{
  cdn_model_desc_t d;
  PetscErrorCode   ierr = 0;
  if (cdn_initialize(&argc, &argv, NULL)) return 1;
  if (argc >= 3 && !strcmp(argv[1], "fc")) ierr = bench_fc(argv[2]);
  else if (argc >= 6 && !strcmp(argv[1], "edges")) ierr = bench_edges(argv[2], argv[3], argv[4], atoi(argv[5]));
  else if (argc >= 2 && !strcmp(argv[1], "families")) {
    fam_lenet(&d);
    ierr = bench_family(&d, "lenet_graph_stats_s");
    fam_vgg(&d);
    if (!ierr) ierr = bench_family(&d, "vgg_graph_stats_s");
  } else {
    fprintf(stderr, "usage: bench_graph fc W.npy | edges EI.npy EJ.npy W.npy N | families\n");
    cdn_finalize();
    return 2;
  }
  if (ierr) (void)cdn_error_exit("bench_graph"); /* a user error (a missing file) is not printed on its way up */
  cdn_finalize();
  return ierr ? 1 : 0;
}
