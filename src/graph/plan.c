/* From a layer stack to node groups and edge blocks (graph.h documents the conventions). Every
   family goes through here: sequential stacks, BatchNorm after conv or linear layers, residual
   blocks with identity or 1x1 projection shortcuts, global average pooling before the classifier. */
#include "cnndyn/graph.h"
#include "cnndyn/util.h"

#define CHECKL(cond, ...) PetscCheck(cond, PETSC_COMM_SELF, CDN_ERR_INPUT, __VA_ARGS__)

typedef struct {
  int uses[CDN_MAX_LAYERS]; /* how many layers read layer k's output */
  int bn_of[CDN_MAX_LAYERS]; /* BatchNorm folded into conv/linear k, or -1 */
  int proj_of[CDN_MAX_LAYERS]; /* ADD k: its projection conv, or -1 for an identity shortcut */
  int is_proj[CDN_MAX_LAYERS];
  int outg[CDN_MAX_LAYERS]; /* node group that holds layer k's output channels (-1: none) */
} walk_t;

static int is_weighted(const cdn_layer_desc_t *l) { return l->op == CDN_OP_CONV2D || l->op == CDN_OP_LINEAR; }

/* Inputs must come before the layer: the stack is in an order where each layer's inputs exist. */
static PetscErrorCode check_links(const cdn_model_desc_t *d, walk_t *w)
{
  PetscFunctionBeginUser;
  for (int k = 0; k < d->nlayers; k++) w->uses[k] = 0, w->bn_of[k] = -1, w->proj_of[k] = -1, w->is_proj[k] = 0;
  for (int k = 0; k < d->nlayers; k++) {
    const cdn_layer_desc_t *l = &d->layer[k];
    CHECKL(l->src >= -1 && l->src < k, "%s: layer %d (%s): src %d is not an earlier layer or -1 (the input)", d->arch,
           k, l->name, l->src);
    if (l->src >= 0) w->uses[l->src]++;
    if (l->op == CDN_OP_ADD) {
      CHECKL(l->src2 >= -1 && l->src2 < k && l->src2 != l->src, "%s: layer %d (%s): src2 %d is not another earlier layer",
             d->arch, k, l->name, l->src2);
      if (l->src2 >= 0) w->uses[l->src2]++;
    }
  }
  PetscFunctionReturn(0);
}

/* BatchNorm folds into the conv or linear layer it reads when nothing else reads that layer. */
static void find_folds(const cdn_model_desc_t *d, walk_t *w)
{
  for (int k = 0; k < d->nlayers; k++) {
    const cdn_layer_desc_t *l = &d->layer[k];
    if (l->op == CDN_OP_BATCHNORM && l->src >= 0 && is_weighted(&d->layer[l->src]) && w->uses[l->src] == 1)
      w->bn_of[l->src] = k;
  }
  for (int k = 0; k < d->nlayers; k++) {
    const cdn_layer_desc_t *l = &d->layer[k];
    int                     x = l->src2;
    if (l->op != CDN_OP_ADD) continue;
    if (x >= 0 && d->layer[x].op == CDN_OP_BATCHNORM && w->uses[x] == 1) x = d->layer[x].src;
    if (x >= 0 && d->layer[x].op == CDN_OP_CONV2D && w->uses[x] == 1) {
      w->proj_of[k] = x;
      w->is_proj[x] = 1;
    }
  }
}

static PetscErrorCode add_group(const cdn_model_desc_t *d, cdn_graph_t *g, const char *name, PetscInt size, PetscInt64 *nodes)
{
  PetscFunctionBeginUser;
  CHECKL(size > 0, "%s: %s: %d outputs", d->arch, name, (int)size);
  snprintf(g->group_name[g->ngroups], CDN_NAME_LEN, "%s", name);
  g->group_start[g->ngroups] = (PetscInt)*nodes;
  g->group_size[g->ngroups]  = size;
  g->ngroups++;
  *nodes += size;
  PetscFunctionReturn(0);
}

/* The block of a conv or linear layer from group g0 to group g1, with its shape checked. */
static PetscErrorCode weight_block(const cdn_model_desc_t *d, const walk_t *w, cdn_graph_t *g, int k, int g0, int g1)
{
  const cdn_layer_desc_t *l    = &d->layer[k];
  cdn_edge_block_t       *b    = &g->block[g->nblocks++];
  PetscInt                prev = g->group_size[g0];

  PetscFunctionBeginUser;
  if (l->op == CDN_OP_CONV2D) {
    CHECKL(l->in_c == prev, "%s: conv layer has %d input channels but the layer before gives %d", l->name, l->in_c,
           (int)prev);
    CHECKL(l->kernel > 0, "%s: kernel size %d", l->name, l->kernel);
    b->hw = (PetscInt)l->kernel * l->kernel;
  } else {
    CHECKL(l->in_c > 0 && l->in_c % prev == 0, "%s: linear layer has %d inputs, not a multiple of the %d nodes before it",
           l->name, l->in_c, (int)prev);
    b->hw = l->in_c / prev;
  }
  CHECKL(l->out_c == g->group_size[g1], "%s: %d outputs, but its nodes (%s) are %d", l->name, l->out_c,
         g->group_name[g1], (int)g->group_size[g1]);
  b->kind  = CDN_BLOCK_WEIGHTS;
  b->layer = k, b->bn = w->bn_of[k], b->g0 = g0, b->g1 = g1;
  snprintf(b->name, CDN_NAME_LEN, "%s", l->name);
  PetscFunctionReturn(0);
}

static int group_of(const walk_t *w, int src) { return src < 0 ? 0 : w->outg[src]; }

PetscErrorCode cdn_graph_plan(const cdn_model_desc_t *d, cdn_graph_t *g)
{
  walk_t     w;
  PetscInt64 nodes = 0, edges = 0;

  PetscFunctionBeginUser;
  CHECKL(d->in_c > 0, "%s: %d input channels", d->arch, d->in_c);
  CHECKL(d->nlayers >= 0 && d->nlayers <= CDN_MAX_LAYERS, "%s: %d layers", d->arch, d->nlayers);
  g->ngroups = g->nblocks = 0;
  PetscCall(check_links(d, &w));
  find_folds(d, &w);
  PetscCall(add_group(d, g, "input", d->in_c, &nodes));
  for (int k = 0; k < d->nlayers; k++) {
    const cdn_layer_desc_t *l = &d->layer[k];
    int                     g0 = group_of(&w, l->src);
    w.outg[k]                  = g0;
    if (is_weighted(l) && w.is_proj[k]) w.outg[k] = -1; /* its edges come with its ADD */
    else if (is_weighted(l)) {
      CHECKL(g0 >= 0, "%s: %s reads a shortcut projection's output", d->arch, l->name);
      PetscCall(add_group(d, g, l->name, l->out_c, &nodes));
      w.outg[k] = g->ngroups - 1;
      PetscCall(weight_block(d, &w, g, k, g0, w.outg[k]));
    } else if (l->op == CDN_OP_ADD) {
      int p = w.proj_of[k], gs = p >= 0 ? group_of(&w, d->layer[p].src) : group_of(&w, l->src2);
      CHECKL(g0 > 0 && gs >= 0 && gs != g0, "%s: %s: a residual sum needs a main path with a conv or linear layer",
             d->arch, l->name);
      if (p >= 0) PetscCall(weight_block(d, &w, g, p, gs, g0));
      else {
        cdn_edge_block_t *b = &g->block[g->nblocks++];
        CHECKL(g->group_size[gs] == g->group_size[g0], "%s: %s: identity shortcut joins %d channels (%s) to %d (%s)",
               d->arch, l->name, (int)g->group_size[gs], g->group_name[gs], (int)g->group_size[g0], g->group_name[g0]);
        *b = (cdn_edge_block_t){.kind = CDN_BLOCK_IDENTITY, .layer = k, .bn = -1, .g0 = gs, .g1 = g0, .hw = 1};
        snprintf(b->name, CDN_NAME_LEN, "%s", l->name);
      }
    } else /* only the projection's own BatchNorm may read it; the ADD takes it from there */
      CHECKL(g0 >= 0 || (l->op == CDN_OP_BATCHNORM && w.bn_of[l->src] == k), "%s: %s reads a shortcut projection's output",
             d->arch, l->name);
  }
  /* Blocks in the order of the layer that owns them (a projection is met at its ADD). */
  for (int i = 1; i < g->nblocks; i++)
    for (int j = i; j > 0 && g->block[j - 1].layer > g->block[j].layer; j--) {
      cdn_edge_block_t t = g->block[j];
      g->block[j] = g->block[j - 1], g->block[j - 1] = t;
    }
  for (int b = 0; b < g->nblocks; b++) {
    const cdn_edge_block_t *e = &g->block[b];
    edges += e->kind == CDN_BLOCK_IDENTITY ? g->group_size[e->g0] : (PetscInt64)g->group_size[e->g0] * g->group_size[e->g1];
  }
  PetscCheck(2 * edges < PETSC_MAX_INT && nodes < PETSC_MAX_INT, PETSC_COMM_SELF, PETSC_ERR_SUP,
             "%s: graph too large for 32-bit indices (%lld edges)", d->arch, (long long)edges);
  g->nnodes = (PetscInt)nodes;
  g->nedges = (PetscInt)edges;
  PetscFunctionReturn(0);
}
