/* Rolled graphs of every family from hand-built stacks: node and edge counts, node groups and
   edge blocks, BatchNorm folded into conv edges, identity and projection shortcuts, global
   average pooling at the flatten step, and shortcut errors named. */
#include "check.h"
#include "families.h"
#include "cnndyn/graph.h"
#include "cnndyn/util.h"

static double entry(Mat A, PetscInt i, PetscInt j)
{
  PetscScalar v = -1;
  MatGetValues(A, 1, &i, 1, &j, &v);
  return PetscRealPart(v);
}

static void counts(cdn_model_desc_t *d, int nodes, int edges, int groups, const char *last)
{
  cdn_graph_t *g = NULL;
  CHECK(!cdn_graph_create(PETSC_COMM_SELF, d, &g));
  CHECK(g->nnodes == nodes && g->nedges == edges && g->ngroups == groups);
  if (g->nnodes != nodes || g->nedges != edges) fprintf(stderr, "%s: %d nodes %d edges\n", d->arch, (int)g->nnodes, (int)g->nedges);
  CHECK(!strcmp(g->group_name[g->ngroups - 1], last));
  CHECK(!cdn_graph_set_weights(g, d));
  CHECK(!cdn_graph_destroy(&g));
  fam_free(d);
}

static void test_resnet(void)
{
  cdn_model_desc_t d;
  cdn_graph_t     *g = NULL;
  int              id[4];

  fam_resnet(&d, id);
  /* Nodes: input 0-2 | conv1 3-6 | b1.conv1 7-10 | b1.conv2 11-14 | b2.conv1 15-22 | b2.conv2 23-30 | fc 31-40. */
  if (cdn_graph_create(PETSC_COMM_SELF, &d, &g)) {
    CHECK(!"resnet graph");
    fprintf(stderr, "%s\n", cdn_error_message());
    return;
  }
  CHECK(g->nnodes == 41 && g->ngroups == 7);
  CHECK(g->nedges == 12 + 16 + 16 + 4 + 32 + 64 + 32 + 80);
  const char *names[] = {"conv1", "b1.conv1", "b1.conv2", "b1.add", "b2.conv1", "b2.conv2", "b2.proj", "fc"};
  CHECK(g->nblocks == 8);
  for (int b = 0; b < g->nblocks && b < 8; b++) CHECK(!strcmp(g->block[b].name, names[b]));
  CHECK(g->block[3].kind == CDN_BLOCK_IDENTITY && g->block[3].g0 == 1 && g->block[3].g1 == 3);
  CHECK(g->block[6].kind == CDN_BLOCK_WEIGHTS && g->block[6].g0 == 3 && g->block[6].g1 == 5 && g->block[6].bn == id[2]);
  CHECK(g->block[0].bn == id[0] && g->block[7].hw == 1 && g->block[7].bn == -1);

  /* Stem slice W[1][2] = (3, 4, 0...): norm 5, times |6| / sqrt(8 + 1) = 2 -> 10. */
  cdn_layer_desc_t *stem = &d.layer[0], *bn1 = &d.layer[id[0]];
  stem->weight[(1 * 3 + 2) * 9 + 0] = 3, stem->weight[(1 * 3 + 2) * 9 + 4] = 4;
  bn1->weight[1] = 6, bn1->running_var[1] = 8, bn1->eps = 1;
  /* Projection W[5][3] = -7 (1x1), BN gamma -1, var 3, eps 1: |-7| * 1/2 = 3.5. */
  cdn_layer_desc_t *proj = &d.layer[id[1]], *pbn = &d.layer[id[2]];
  proj->weight[5 * 4 + 3] = -7;
  pbn->weight[5] = -1, pbn->running_var[5] = 3, pbn->eps = 1;
  /* After global average pooling the FC sees one value per channel: W[2][7] = -0.25. */
  d.layer[id[3]].weight[2 * 8 + 7] = -0.25f;
  CHECK(!cdn_graph_set_weights(g, &d));
  CHECK_CLOSE(entry(g->A, 4, 2), 10.0, 1e-6);
  CHECK_CLOSE(entry(g->A, 2, 4), 10.0, 1e-6);
  for (int c = 0; c < 4; c++) CHECK(entry(g->A, 11 + c, 3 + c) == 1.0 && entry(g->A, 3 + c, 11 + c) == 1.0);
  CHECK(entry(g->A, 11, 4) == 0);
  CHECK_CLOSE(entry(g->A, 28, 14), 3.5, 1e-6);
  CHECK_CLOSE(entry(g->A, 33, 30), 0.25, 1e-7);
  int nonzero = 0;
  for (PetscInt c = 0; c < g->ncoo; c++) nonzero += g->coo_v[c] != 0;
  CHECK(nonzero == 2 * (1 + 4 + 1 + 1));
  /* A BatchNorm without running statistics cannot be folded: named, not guessed. */
  float *rv = bn1->running_var;
  bn1->running_var = NULL;
  CHECK(cdn_graph_set_weights(g, &d) == CDN_ERR_INPUT);
  CHECK_CONTAINS(cdn_error_message(), "bn1");
  bn1->running_var = rv;
  CHECK(!cdn_graph_destroy(&g));

  /* An identity shortcut between different widths is refused with the layer named. */
  int a2 = id[2] + 1;
  d.layer[a2].src2 = id[1] - 1; /* b2.bn2's sibling path: the block's 4-channel input */
  d.layer[a2].src2 = 9;         /* b1.relu2: 4 channels against 8 */
  CHECK(cdn_graph_create(PETSC_COMM_SELF, &d, &g) == CDN_ERR_INPUT);
  CHECK_CONTAINS(cdn_error_message(), "b2.add: identity shortcut joins 4 channels");
  fam_free(&d);
}

int main(int argc, char **argv)
{
  cdn_model_desc_t d;
  if (cdn_initialize(&argc, &argv, NULL)) return 1;
  fam_lenet(&d);
  counts(&d, 237, 12942, 6, "fc3");
  fam_alexnet(&d);
  counts(&d, 3 + 16 + 32 + 48 + 48 + 32 + 64 + 64 + 10, 48 + 512 + 1536 + 2304 + 1536 + 32 * 64 + 4096 + 640, 9, "fc3");
  fam_vgg(&d);
  counts(&d, 3 + 32 + 32 + 64 + 64 + 256 + 10, 96 + 1024 + 2048 + 4096 + 64 * 256 + 2560, 7, "fc2");
  test_resnet();
  cdn_finalize();
  return CHECK_STATUS();
}
