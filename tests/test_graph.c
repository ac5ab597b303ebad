/* The rolled graph: edge weights of a tiny net worked out by hand (conv, flatten, linear), LeNet-5
   node and edge counts, per-epoch value updates, and a Matrix Market export read back. */
#include <stdlib.h>
#include <unistd.h>
#include "check.h"
#include "cnndyn/graph.h"
#include "cnndyn/util.h"

static cdn_layer_desc_t layer(cdn_op_t op, const char *name, int in_c, int out_c, int in_hw, int out_hw, int k)
{
  cdn_layer_desc_t l = {.op = op, .in_c = in_c, .out_c = out_c, .in_h = in_hw, .in_w = in_hw, .out_h = out_hw,
                        .out_w = out_hw, .kernel = k, .stride = k ? 1 : 0};
  snprintf(l.name, sizeof l.name, "%s", name);
  return l;
}

/* 1x3x3 input -> conv 1->2 (k2) -> relu -> flatten (2x2x2 = 8) -> linear 8->3 -> dropout -> linear 3->2. */
static float conv_w[8] = {1, 2, 2, 4, /* o0: ||.|| = 5 */ 1, 1, 1, 1 /* o1: 2 */};
static float fc1_w[24] = {1, 2, 2, 4, 0, 0, 0, 0,   /* o0: channel 0 -> 5, channel 1 -> 0 */
                          3, 4, 0, 0, 1, 1, 1, 1,   /* o1: 5, 2 */
                          -2, 0, 0, 0, 0, -6, 0, 8}; /* o2: 2, 10 */
static float fc2_w[6]  = {1, -2, 3, -4, 5, -6};

static void tiny(cdn_model_desc_t *d)
{
  memset(d, 0, sizeof *d);
  snprintf(d->arch, sizeof d->arch, "tiny");
  d->in_c = 1, d->in_h = d->in_w = 3, d->num_classes = 2;
  d->layer[0]        = layer(CDN_OP_CONV2D, "conv1", 1, 2, 3, 2, 2);
  d->layer[0].weight = conv_w;
  d->layer[1]        = layer(CDN_OP_RELU, "relu1", 2, 2, 2, 2, 0);
  d->layer[2]        = layer(CDN_OP_FLATTEN, "flatten", 2, 8, 2, 1, 0);
  d->layer[3]        = layer(CDN_OP_LINEAR, "fc1", 8, 3, 1, 1, 0);
  d->layer[3].weight = fc1_w;
  d->layer[4]        = layer(CDN_OP_DROPOUT, "drop", 3, 3, 1, 1, 0);
  d->layer[5]        = layer(CDN_OP_LINEAR, "fc2", 3, 2, 1, 1, 0);
  d->layer[5].weight = fc2_w;
  d->nlayers         = 6;
  for (int k = 0; k < 6; k++) d->layer[k].src = k - 1;
}

/* Expected dense adjacency (nodes: input 0 | conv1 1-2 | fc1 3-5 | fc2 6-7). */
static void tiny_expected(double E[8][8])
{
  memset(E, 0, 64 * sizeof(double));
  double e[][3] = {{1, 0, 5}, {2, 0, 2}, {3, 1, 5}, {3, 2, 0}, {4, 1, 5}, {4, 2, 2}, {5, 1, 2},
                   {5, 2, 10}, {6, 3, 1}, {6, 4, 2}, {6, 5, 3}, {7, 3, 4}, {7, 4, 5}, {7, 5, 6}};
  for (int k = 0; k < 14; k++) E[(int)e[k][0]][(int)e[k][1]] = E[(int)e[k][1]][(int)e[k][0]] = e[k][2];
}

static void test_tiny(void)
{
  cdn_model_desc_t d;
  cdn_graph_t     *g = NULL;
  double           E[8][8];
  PetscInt         idx[8];
  PetscScalar      A[64];
  int              grp;
  PetscInt         loc;

  tiny(&d);
  tiny_expected(E);
  CHECK(!cdn_graph_create(PETSC_COMM_SELF, &d, &g));
  CHECK(g->nnodes == 8 && g->nedges == 14 && g->ncoo == 28 && g->ngroups == 4 && g->nblocks == 3);
  CHECK(!strcmp(g->group_name[0], "input") && !strcmp(g->group_name[1], "conv1") && !strcmp(g->group_name[3], "fc2"));
  CHECK(g->group_start[2] == 3 && g->group_size[2] == 3);
  cdn_graph_node_group(g, 4, &grp, &loc);
  CHECK(grp == 2 && loc == 1);
  cdn_graph_node_group(g, 8, &grp, &loc);
  CHECK(grp == -1 && loc == -1);
  CHECK(!cdn_graph_set_weights(g, &d));
  for (int i = 0; i < 8; i++) idx[i] = i;
  CHECK(!MatGetValues(g->A, 8, idx, 8, idx, A));
  int bad = 0;
  for (int i = 0; i < 8; i++)
    for (int j = 0; j < 8; j++) bad += fabs(PetscRealPart(A[8 * i + j]) - E[i][j]) > 1e-12;
  CHECK(bad == 0);

  /* A new epoch: values change in place, pattern stays. */
  conv_w[4] = conv_w[5] = conv_w[6] = conv_w[7] = 2; /* o1 norm 4 */
  CHECK(!cdn_graph_set_weights(g, &d));
  CHECK(!MatGetValues(g->A, 8, idx, 8, idx, A));
  CHECK_CLOSE(PetscRealPart(A[8 * 2 + 0]), 4.0, 1e-14);
  CHECK_CLOSE(PetscRealPart(A[8 * 0 + 2]), 4.0, 1e-14);
  conv_w[4] = conv_w[5] = conv_w[6] = conv_w[7] = 1;
  CHECK(!cdn_graph_set_weights(g, &d));

  /* Export and read back: every lower-triangle edge once, 1-based, same values. */
  char path[256];
  snprintf(path, sizeof path, "/tmp/cdn_test_graph_%ld.mtx", (long)getpid());
  CHECK(!cdn_graph_export_mtx(g, path));
  FILE *fp = fopen(path, "r");
  char  line[256];
  int   n1, n2, ne, ok = fp != NULL, seen = 0;
  double seen_w[8][8] = {{0}};
  ok = ok && fgets(line, sizeof line, fp) && !strcmp(line, "%%MatrixMarket matrix coordinate real symmetric\n");
  ok = ok && fscanf(fp, "%d %d %d", &n1, &n2, &ne) == 3 && n1 == 8 && n2 == 8 && ne == 14;
  CHECK(ok);
  for (int i, j; ok && fscanf(fp, "%d %d %s", &i, &j, line) == 3; seen++) {
    CHECK(i > j && i >= 1 && i <= 8 && j >= 1);
    if (i > j && i <= 8 && j >= 1) seen_w[i - 1][j - 1] = strtod(line, NULL);
  }
  if (fp) fclose(fp);
  remove(path);
  CHECK(seen == 14);
  bad = 0;
  for (int i = 0; i < 8; i++)
    for (int j = 0; j < i; j++) bad += seen_w[i][j] != E[i][j];
  CHECK(bad == 0);

  /* Another architecture's weights are refused. */
  cdn_model_desc_t other = d;
  other.layer[5].out_c   = 3;
  CHECK(cdn_graph_set_weights(g, &other) == CDN_ERR_INPUT);
  CHECK_CONTAINS(cdn_error_message(), "architecture differs");
  CHECK(!cdn_graph_destroy(&g));

  /* A linear layer whose inputs do not split over the previous channels is a clear error. */
  tiny(&d);
  d.layer[3].in_c = 7;
  CHECK(cdn_graph_create(PETSC_COMM_SELF, &d, &g) == CDN_ERR_INPUT);
  CHECK_CONTAINS(cdn_error_message(), "fc1");
  /* A layer reading itself or a later layer is refused, naming it. */
  tiny(&d);
  d.layer[3].src = 3;
  CHECK(cdn_graph_create(PETSC_COMM_SELF, &d, &g) == CDN_ERR_INPUT);
  CHECK_CONTAINS(cdn_error_message(), "(fc1): src 3");
}

/* LeNet-5 as in the paper's code: conv 5x5 -> 6, pool, conv 5x5 -> 16, pool, FC 400-120-84-10. */
static void lenet(cdn_model_desc_t *d, int c, int hw)
{
  int pad = hw == 28 ? 2 : 0, k = 0;
  memset(d, 0, sizeof *d);
  snprintf(d->arch, sizeof d->arch, "lenet5");
  d->in_c = c, d->in_h = d->in_w = hw, d->num_classes = 10;
  d->layer[k++]           = layer(CDN_OP_CONV2D, "conv1", c, 6, hw, 28, 5);
  d->layer[k - 1].padding = pad;
  d->layer[k++]           = layer(CDN_OP_RELU, "relu1", 6, 6, 28, 28, 0);
  d->layer[k++]           = layer(CDN_OP_MAXPOOL2D, "pool1", 6, 6, 28, 14, 2);
  d->layer[k++]           = layer(CDN_OP_CONV2D, "conv2", 6, 16, 14, 10, 5);
  d->layer[k++]           = layer(CDN_OP_RELU, "relu2", 16, 16, 10, 10, 0);
  d->layer[k++]           = layer(CDN_OP_MAXPOOL2D, "pool2", 16, 16, 10, 5, 2);
  d->layer[k++]           = layer(CDN_OP_FLATTEN, "flatten", 16, 400, 5, 1, 0);
  d->layer[k++]           = layer(CDN_OP_LINEAR, "fc1", 400, 120, 1, 1, 0);
  d->layer[k++]           = layer(CDN_OP_RELU, "relu3", 120, 120, 1, 1, 0);
  d->layer[k++]           = layer(CDN_OP_LINEAR, "fc2", 120, 84, 1, 1, 0);
  d->layer[k++]           = layer(CDN_OP_LINEAR, "fc3", 84, 10, 1, 1, 0);
  d->nlayers              = k;
  for (int i = 0; i < k; i++) d->layer[i].src = i - 1;
  for (int i = 0; i < k; i++)
    if (cdn_layer_has_params(&d->layer[i])) d->layer[i].weight = calloc(cdn_layer_weight_count(&d->layer[i]), 4);
}

static void test_lenet(int c, int hw, int nodes, int edges)
{
  cdn_model_desc_t d;
  cdn_graph_t     *g = NULL;
  MatInfo          info;

  lenet(&d, c, hw);
  CHECK(!cdn_graph_create(PETSC_COMM_SELF, &d, &g));
  CHECK(g->nnodes == nodes);
  CHECK(g->nedges == edges);
  CHECK(g->ngroups == 6 && !strcmp(g->group_name[5], "fc3") && g->group_start[5] == nodes - 10);
  CHECK(!cdn_graph_set_weights(g, &d));
  CHECK(!MatGetInfo(g->A, MAT_LOCAL, &info));
  CHECK((PetscInt)info.nz_used == 2 * edges);
  CHECK(!cdn_graph_destroy(&g));
  for (int i = 0; i < d.nlayers; i++) free(d.layer[i].weight);
}

int main(int argc, char **argv)
{
  if (cdn_initialize(&argc, &argv, NULL)) return 1;
  test_tiny();
  test_lenet(1, 28, 237, 12942);
  test_lenet(3, 32, 239, 12954);
  cdn_finalize();
  return CHECK_STATUS();
}
