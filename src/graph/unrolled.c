/* The unrolled graph: one node per channel and pixel position of every feature map (Gebhart et
   al. 2019), so a convolution becomes the sparse linear map it really is. Only for small,
   sequential networks: its size grows with the image, hence the edge guard. */
#include <math.h>
#include "cnndyn/util.h"
#include "graph_impl.h"

#define CHECKU(cond, ...) PetscCheck(cond, PETSC_COMM_SELF, CDN_ERR_INPUT, __VA_ARGS__)

/* How many (output position, kernel offset) pairs land inside an input of size n. */
static PetscInt64 taps(int out, int n, int k, int stride, int pad)
{
  PetscInt64 c = 0;
  for (int o = 0; o < out; o++)
    for (int kk = 0; kk < k; kk++) {
      int i = o * stride - pad + kk;
      c += i >= 0 && i < n;
    }
  return c;
}

static PetscErrorCode add_block(cdn_graph_t *g, const cdn_layer_desc_t *l, int k, int bn, cdn_block_kind_t kind,
                                PetscInt size, int h, int w)
{
  cdn_edge_block_t *b = &g->block[g->nblocks++];

  PetscFunctionBeginUser;
  CHECKU(size > 0, "%s: %d nodes", l->name, (int)size);
  snprintf(g->group_name[g->ngroups], CDN_NAME_LEN, "%s", l->name);
  g->group_start[g->ngroups] = g->group_start[g->ngroups - 1] + g->group_size[g->ngroups - 1];
  g->group_size[g->ngroups]  = size;
  *b = (cdn_edge_block_t){.kind = kind, .layer = k, .bn = bn, .g0 = g->ngroups - 1, .g1 = g->ngroups, .hw = 1,
                          .op = l->op, .in_h = h, .in_w = w, .out_h = l->out_h, .out_w = l->out_w,
                          .kernel = l->kernel, .stride = l->stride, .padding = l->padding};
  snprintf(b->name, CDN_NAME_LEN, "%s", l->name);
  g->ngroups++;
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_unrolled_plan(const cdn_model_desc_t *d, PetscInt64 max_edges, cdn_graph_t *g)
{
  int        c = d->in_c, h = d->in_h, w = d->in_w;
  PetscInt64 edges = 0, nodes = (PetscInt64)c * h * w;

  PetscFunctionBeginUser;
  CHECKU(c > 0 && h > 0 && w > 0 && d->nlayers <= CDN_MAX_LAYERS, "%s: input %d x %d x %d", d->arch, c, h, w);
  g->unrolled = 1, g->ngroups = 1, g->nblocks = 0;
  snprintf(g->group_name[0], CDN_NAME_LEN, "input");
  g->group_start[0] = 0, g->group_size[0] = (PetscInt)nodes;
  for (int k = 0; k < d->nlayers; k++) {
    const cdn_layer_desc_t *l  = &d->layer[k];
    int                     bn = k + 1 < d->nlayers && d->layer[k + 1].op == CDN_OP_BATCHNORM ? k + 1 : -1;
    CHECKU(l->src == k - 1 && l->op != CDN_OP_ADD, "%s: %s: the unrolled graph needs a sequential stack (no residual blocks)",
           d->arch, l->name);
    if (l->op == CDN_OP_CONV2D || l->op == CDN_OP_MAXPOOL2D || l->op == CDN_OP_AVGPOOL2D) {
      int conv = l->op == CDN_OP_CONV2D;
      CHECKU(l->in_c == c && l->in_h == h && l->in_w == w && l->kernel > 0 && l->stride > 0 && (conv || l->out_c == c),
             "%s: %s: input %d x %d x %d, but the layers before give %d x %d x %d", d->arch, l->name, l->in_c, l->in_h,
             l->in_w, c, h, w);
      edges += (PetscInt64)l->out_c * (conv ? c : 1) * taps(l->out_h, h, l->kernel, l->stride, l->padding) *
               taps(l->out_w, w, l->kernel, l->stride, l->padding);
      PetscCall(add_block(g, l, k, conv ? bn : -1, conv ? CDN_BLOCK_WEIGHTS : CDN_BLOCK_POOL,
                          (PetscInt)l->out_c * l->out_h * l->out_w, h, w));
      c = l->out_c, h = l->out_h, w = l->out_w;
    } else if (l->op == CDN_OP_GLOBALAVGPOOL) {
      edges += (PetscInt64)c * h * w;
      PetscCall(add_block(g, l, k, -1, CDN_BLOCK_POOL, c, h, w));
      h = w = 1;
    } else if (l->op == CDN_OP_LINEAR) {
      CHECKU(l->in_c == c * h * w, "%s: %s: %d inputs, but the layers before give %d", d->arch, l->name, l->in_c, c * h * w);
      edges += (PetscInt64)l->out_c * l->in_c;
      PetscCall(add_block(g, l, k, bn, CDN_BLOCK_WEIGHTS, l->out_c, 1, 1));
      c = l->out_c, h = w = 1;
    } else if (l->op == CDN_OP_FLATTEN) c = c * h * w, h = w = 1; /* same nodes, C,H,W order */
    if (g->nblocks && g->block[g->nblocks - 1].layer == k) nodes += g->group_size[g->ngroups - 1];
    CHECKU(edges <= max_edges, "%s: the unrolled graph would have at least %lld edges, more than the limit of %lld "
           "([graph] max_edges)", d->arch, (long long)edges, (long long)max_edges);
  }
  PetscCheck(2 * edges < PETSC_MAX_INT && nodes < PETSC_MAX_INT, PETSC_COMM_SELF, PETSC_ERR_SUP,
             "%s: unrolled graph too large for 32-bit indices (%lld edges)", d->arch, (long long)edges);
  g->nnodes = (PetscInt)nodes, g->nedges = (PetscInt)edges;
  PetscFunctionReturn(0);
}

/* Node of (channel, y, x) in a group whose maps are h x w: PyTorch's C,H,W order. */
#define NODE(s, ch, y, x, h, w) ((s) + ((PetscInt)(ch) * (h) + (y)) * (w) + (x))

static PetscErrorCode walk_block(walker_t *w, const cdn_model_desc_t *d, const cdn_edge_block_t *b)
{
  const cdn_graph_t *g = w->g;
  PetscInt           s0 = g->group_start[b->g0], s1 = g->group_start[b->g1], n0 = g->group_size[b->g0];
  int                vals = w->mode == WALK_VALUES, ih = b->in_h, iw = b->in_w, K = b->kernel;
  int                ic = (int)(n0 / ((PetscInt)ih * iw)), oc = (int)(g->group_size[b->g1] / ((PetscInt)b->out_h * b->out_w));
  const float       *W = vals && b->kind == CDN_BLOCK_WEIGHTS ? d->layer[b->layer].weight : NULL;

  PetscFunctionBeginUser;
  PetscCheck(!vals || b->kind != CDN_BLOCK_WEIGHTS || W, PETSC_COMM_SELF, PETSC_ERR_ARG_NULL, "%s: no weights", b->name);
  if (b->op == CDN_OP_LINEAR) {
    for (int o = 0; o < oc; o++) {
      double s = 1;
      if (vals && b->bn >= 0) PetscCall(cdn_bn_scale(&d->layer[b->bn], o, &s));
      for (PetscInt j = 0; j < n0; j++) cdn_put(w, s1 + o, s0 + j, vals ? s * fabs((double)W[o * n0 + j]) : 0);
    }
  } else if (b->op == CDN_OP_GLOBALAVGPOOL) {
    for (int ch = 0; ch < oc; ch++)
      for (int y = 0; y < ih; y++)
        for (int x = 0; x < iw; x++) cdn_put(w, s1 + ch, NODE(s0, ch, y, x, ih, iw), 1.0 / (ih * iw));
  } else {
    int conv = b->op == CDN_OP_CONV2D;
    for (int o = 0; o < oc; o++) {
      double s = 1;
      if (vals && b->bn >= 0) PetscCall(cdn_bn_scale(&d->layer[b->bn], o, &s));
      for (int oy = 0; oy < b->out_h; oy++)
        for (int ox = 0; ox < b->out_w; ox++) {
          PetscInt r = NODE(s1, o, oy, ox, b->out_h, b->out_w);
          for (int i = conv ? 0 : o; i < (conv ? ic : o + 1); i++)
            for (int ky = 0; ky < K; ky++)
              for (int kx = 0; kx < K; kx++) {
                int y = oy * b->stride - b->padding + ky, x = ox * b->stride - b->padding + kx;
                if (y < 0 || y >= ih || x < 0 || x >= iw) continue;
                /* max pooling: any input may be the maximum, weight 1; average: 1/k^2 */
                double v = !conv ? (b->op == CDN_OP_MAXPOOL2D ? 1.0 : 1.0 / (K * K))
                           : vals ? s * fabs((double)W[(((size_t)o * ic + i) * K + ky) * K + kx]) : 0;
                cdn_put(w, r, NODE(s0, i, y, x, ih, iw), v);
              }
        }
    }
  }
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_unrolled_walk(walker_t *w, const cdn_model_desc_t *d)
{
  PetscFunctionBeginUser;
  for (int b = 0; b < w->g->nblocks; b++) PetscCall(walk_block(w, d, &w->g->block[b]));
  PetscFunctionReturn(0);
}
