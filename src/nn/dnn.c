/* Building the oneDNN engine of a network (dnn.h says what it keeps where): for each plan (batch
   size), every layer's primitives bound to the net's fixed buffers (each operation's plan, in its
   own file), then one scratchpad for all of them. Everything is created here, once; training
   steps only execute. */
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include "cnndyn/nn.h"
#include "dnn.h"

int cdn_dnn_blocked(const cdn_net_t *net, int i)
{
  const cdn_layer_desc_t *d   = &net->desc.layer[i];
  const cdn_layer_ops_t  *ops = net->layer[i].ops;
  if (ops->ends_nhwc) return 0;
  return d->src < 0 ? ops->starts_nhwc : cdn_dnn_blocked(net, d->src);
}

size_t cdn_dnn_out_floats(const cdn_net_t *net, int i)
{
  const cdn_layer_desc_t *d = &net->desc.layer[i];
  return (size_t)d->out_c * d->out_h * d->out_w; /* neither layout pads (nChw16c only at C % 16 == 0) */
}

size_t cdn_dnn_at(const cdn_net_t *net, int i, int b, int c, int h, int w)
{
  const cdn_layer_desc_t *d = &net->desc.layer[i];
  int                     k = cdn_dnn_cblock(net->dnn, d->out_c);
  return ((((size_t)b * (d->out_c / k) + c / k) * d->out_h + h) * d->out_w + w) * k + c % k;
}

/* nChw16c rather than NHWC when that spares the Winograd convolutions their reorders: some
   convolution of the training plan runs on Winograd, every blocked layer has a multiple of 16
   channels (nChw16c then pads nothing) and every operation that writes or reads a blocked layer
   runs on it (the flatten reads one). The network's input is not a layer: the first convolution
   reads it as it is. */
static int use_blocks16(const cdn_net_t *net)
{
  int wino = 0;
  for (int i = 0; i < net->nl; i++) {
    const cdn_layer_desc_t *ld = &net->desc.layer[i];
    int reads = (ld->src >= 0 && cdn_dnn_blocked(net, ld->src)) ||
                (net->layer[i].ops->inputs == 2 && ld->src2 >= 0 && cdn_dnn_blocked(net, ld->src2));
    if (cdn_dnn_blocked(net, i) && ld->out_c % 16) return 0;
    if ((cdn_dnn_blocked(net, i) || reads) && !net->layer[i].ops->blocks16) return 0;
    wino |= ld->op == CDN_OP_CONV2D && cdn_conv_wino_fits(net, ld, net->cfg.batch_size);
  }
  return wino;
}

void cdn_dnn_md4(dnnl_memory_desc_t *md, int n, int c, int h, int w, dnnl_format_tag_t tag)
{
  dnnl_dims_t dims = {n, c, h, w};
  (void)dnnl_memory_desc_init_by_tag(md, 4, dims, dnnl_f32, tag); /* cannot fail for these tags */
}

static PetscErrorCode new_mem(cdn_dnn_t *d, const dnnl_memory_desc_t *md, void *ptr, dnnl_memory_t *out,
                              const char *layer_name)
{
  PetscFunctionBeginUser;
  if (d->nmem == d->maxmem) {
    dnnl_memory_t *m;
    PetscCall(PetscMalloc1(2 * d->maxmem + 64, &m));
    if (d->nmem) PetscCall(PetscArraycpy(m, d->mem, d->nmem));
    PetscCall(PetscFree(d->mem));
    d->mem = m, d->maxmem = 2 * d->maxmem + 64;
  }
  DNNL_CALL("memory", dnnl_memory_create(out, md, d->eng, ptr));
  d->mem[d->nmem++] = *out;
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_dnn_buf(cdn_dnn_t *d, size_t bytes, void **out)
{
  size_t slack = d->guard ? CDN_DNN_GUARD : 64;

  PetscFunctionBeginUser;
  if (d->nbufs == d->maxbufs) {
    void  **b;
    size_t *n;
    PetscCall(PetscMalloc2(2 * d->maxbufs + 16, &b, 2 * d->maxbufs + 16, &n));
    if (d->nbufs) PetscCall(PetscArraycpy(b, d->bufs, d->nbufs));
    if (d->nbufs) PetscCall(PetscArraycpy(n, d->buf_bytes, d->nbufs));
    PetscCall(PetscFree2(d->bufs, d->buf_bytes));
    d->bufs = b, d->buf_bytes = n, d->maxbufs = 2 * d->maxbufs + 16;
  }
  /* 64-byte aligned: some oneDNN kernels (Winograd's) use aligned and streaming stores on their buffers */
  *out = aligned_alloc(64, (bytes + 63) / 64 * 64 + slack);
  PetscCheck(*out, PETSC_COMM_SELF, PETSC_ERR_MEM, "out of memory: %zu bytes for the convolution engine", bytes);
  PetscCall(PetscMemzero(*out, bytes));
  if (d->guard) memset((char *)*out + bytes, CDN_DNN_GUARD_BYTE, (bytes + 63) / 64 * 64 + slack - bytes);
  d->buf_bytes[d->nbufs] = bytes;
  d->bufs[d->nbufs++]    = *out;
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_dnn_arg(cdn_dnn_t *d, cdn_dnn_op_t *op, int what, const dnnl_memory_desc_t *md, void *ptr,
                           const char *layer_name)
{
  dnnl_memory_t m;
  PetscFunctionBeginUser;
  PetscCall(new_mem(d, md, ptr, &m, layer_name));
  op->args[op->nargs].arg = what, op->args[op->nargs].memory = m, op->nargs++;
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_dnn_reorder(cdn_dnn_t *d, cdn_dnn_op_t *op, const dnnl_memory_desc_t *from, void *src,
                               const dnnl_memory_desc_t *to, void *dst, const char *layer_name)
{
  PetscFunctionBeginUser;
  DNNL_CALL("reorder", dnnl_reorder_primitive_desc_create(&op->pd, from, d->eng, to, d->eng, d->attr));
  PetscCall(cdn_dnn_arg(d, op, DNNL_ARG_FROM, from, src, layer_name));
  PetscCall(cdn_dnn_arg(d, op, DNNL_ARG_TO, to, dst, layer_name));
  PetscFunctionReturn(0);
}

float *cdn_dnn_grad_in(const cdn_net_t *net, int i)
{
  const cdn_layer_desc_t *ld = net->layer[i].d;
  return net->dnn->to_scratch[i] ? net->scratch : ld->src >= 0 ? net->layer[ld->src].dout : NULL;
}

int cdn_dnn_relu_after(const cdn_net_t *net, int i)
{
  const cdn_layer_desc_t *r = i + 1 < net->nl ? &net->desc.layer[i + 1] : NULL;
  return r && r->op == CDN_OP_RELU && r->src == i && net->dnn->readers[i] == 1 ? i + 1 : -1;
}

/* Which layers hand their input gradient to the scratch buffer: the same walk as the backward
   pass, whose order never depends on the data. */
static void route_gradients(cdn_net_t *net)
{
  char written[CDN_MAX_LAYERS] = {0};
  for (int i = net->nl - 1; i >= 0; i--) {
    const cdn_layer_desc_t *d = &net->desc.layer[i];
    if (d->src >= 0) net->dnn->to_scratch[i] = written[d->src], written[d->src] = 1;
    if (net->layer[i].ops->inputs == 2 && d->src2 >= 0) written[d->src2] = 1;
  }
}

/* Who reads whom, then each operation's fusions (layer.h, fused), in stack order: a fusion
   depends only on the layers before it and on its own. */
static void route_fusions(cdn_net_t *net)
{
  for (int i = 0; i < net->nl; i++) {
    const cdn_layer_desc_t *ld = &net->desc.layer[i];
    if (ld->src >= 0) net->dnn->readers[ld->src]++;
    if (net->layer[i].ops->inputs == 2 && ld->src2 >= 0) net->dnn->readers[ld->src2]++;
  }
  for (int i = 0; i < net->nl; i++)
    if (net->layer[i].ops->fuse) net->layer[i].ops->fuse(net, i);
}

/* Each operation says which layout its inputs need (layer.h, nhwc_in). */
static PetscErrorCode check_stack(const cdn_net_t *net)
{
  PetscFunctionBeginUser;
  for (int i = 0; i < net->nl; i++) {
    const cdn_layer_desc_t *d   = &net->desc.layer[i];
    const cdn_layer_ops_t  *ops = net->layer[i].ops;
    int in = d->src >= 0 ? cdn_dnn_blocked(net, d->src) : ops->starts_nhwc, two = ops->inputs == 2, ok = 1;
    if (ops->nhwc_in > 0) ok = in && (!two || (d->src2 >= 0 && cdn_dnn_blocked(net, d->src2)));
    if (ops->nhwc_in < 0) ok = !cdn_dnn_blocked(net, i); /* dropout: masks are drawn in PyTorch's element order */
    PetscCheck(ok, PETSC_COMM_SELF, CDN_ERR_INPUT, "%s: layer %s is not supported by the oneDNN engine here",
               net->desc.arch, d->name);
  }
  PetscFunctionReturn(0);
}

/* The k-th of layer i's ten primitives; i = -1, k = 0: the input reorder. */
static cdn_dnn_op_t *op_at(cdn_dnn_t *d, int p, int i, int k)
{
  cdn_dnn_layer_t *l = &d->plan[p].l[i < 0 ? 0 : i];
  cdn_dnn_op_t    *ops[CDN_DNN_LAYER_OPS] = {&l->fwd,     &l->bwd,      &l->bwd_w,    &l->w_fwd,    &l->w_bwd,
                                             &l->dw,      &l->src_blk,  &l->dst_nhwc, &l->ddst_blk, &l->dsrc_nhwc};
  if (i < 0) return k ? NULL : &d->plan[p].in;
  return ops[k];
}

/* After every plan exists: one scratchpad as large as the largest any primitive asked for, bound
   to each, then the primitives themselves. */
static PetscErrorCode finish(cdn_net_t *net)
{
  cdn_dnn_t  *d = net->dnn;
  size_t      most = 0;
  const char *layer_name = "";

  PetscFunctionBeginUser;
  for (int p = 0; p < d->nplan; p++)
    for (int i = -1; i < net->nl; i++)
      for (int k = 0; k < CDN_DNN_LAYER_OPS; k++) {
        cdn_dnn_op_t *op = op_at(d, p, i, k);
        if (op && op->pd) {
          size_t sz = dnnl_memory_desc_get_size(dnnl_primitive_desc_query_md(op->pd, dnnl_query_scratchpad_md, 0));
          if (sz > most) most = sz;
        }
      }
  PetscCall(cdn_dnn_buf(d, most, &d->scratch));
  for (int p = 0; p < d->nplan; p++)
    for (int i = -1; i < net->nl; i++)
      for (int k = 0; k < CDN_DNN_LAYER_OPS; k++) {
        cdn_dnn_op_t             *op = op_at(d, p, i, k);
        const dnnl_memory_desc_t *sp;
        if (!op || !op->pd) continue;
        layer_name = i < 0 ? "input" : net->desc.layer[i].name;
        sp         = dnnl_primitive_desc_query_md(op->pd, dnnl_query_scratchpad_md, 0);
        if (dnnl_memory_desc_get_size(sp)) PetscCall(cdn_dnn_arg(d, op, DNNL_ARG_SCRATCHPAD, sp, d->scratch, layer_name));
        DNNL_CALL("primitive", dnnl_primitive_create(&op->p, op->pd));
        DNNL_CALL("primitive descriptor", dnnl_primitive_desc_destroy(op->pd));
        op->pd = NULL;
      }
  PetscFunctionReturn(0);
}

int cdn_dnn_reference_kernels(const cdn_net_t *net, char *first, size_t len)
{
  cdn_dnn_t *d = net->dnn;
  int        count = 0;
  if (first && len) first[0] = '\0';
  for (int p = 0; d && p < d->nplan; p++)
    for (int i = -1; i < net->nl; i++)
      for (int k = 0; k < CDN_DNN_LAYER_OPS; k++) {
        cdn_dnn_op_t         *op = op_at(d, p, i, k);
        const_dnnl_primitive_desc_t pd;
        const char           *impl = "";
        if (!op || !op->p || dnnl_primitive_get_primitive_desc(op->p, &pd) != dnnl_success ||
            dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl) != dnnl_success || strncmp(impl, "ref", 3))
          continue;
        if (!count++ && first) snprintf(first, len, "%s (%s, batch %d)", i < 0 ? "input" : net->desc.layer[i].name, impl, d->plan[p].B);
      }
  return count;
}

PetscErrorCode cdn_dnn_create(cdn_net_t *net)
{
  cdn_dnn_t  *d;
  const char *layer_name = "";
  int         sizes[CDN_DNN_MAX_PLANS] = {net->cfg.batch_size, net->maxb};

  PetscFunctionBeginUser;
  /* Below AVX2 oneDNN 2.6 runs its SSE4.1 kernels, and its NHWC convolution there crashed (a segfault
     inside the generated code, seen with ONEDNN_MAX_CPU_ISA=SSE41): refuse with a message instead. */
  PetscCheck((dnnl_get_effective_cpu_isa() & dnnl_cpu_isa_avx2) == dnnl_cpu_isa_avx2, PETSC_COMM_SELF, PETSC_ERR_SUP,
             "%s: the convolution engine needs a CPU with AVX2 (x86-64-v3); oneDNN offers only older kernels here "
             "(check ONEDNN_MAX_CPU_ISA)", net->desc.arch);
  PetscCall(check_stack(net));
  PetscCall(PetscCalloc1(1, &d));
  net->dnn = d;
  d->guard = net->guard, d->guard_at = (const char *const *)net->guard_at, d->nguard = net->nguard;
  /* a thread team per rank as the spec says (1 by default), the same for OpenBLAS */
  omp_set_num_threads(net->cfg.threads > 0 ? net->cfg.threads : 1);
  DNNL_CALL("engine", dnnl_engine_create(&d->eng, dnnl_cpu, 0));
  DNNL_CALL("stream", dnnl_stream_create(&d->stream, d->eng, dnnl_stream_default_flags));
  DNNL_CALL("attributes", dnnl_primitive_attr_create(&d->attr));
  DNNL_CALL("attributes", dnnl_primitive_attr_set_scratchpad_mode(d->attr, dnnl_scratchpad_mode_user));
  route_gradients(net);
  for (int i = 0; i < net->nl; i++) d->blocked[i] = (char)cdn_dnn_blocked(net, i), d->floats[i] = cdn_dnn_out_floats(net, i);
  d->blocks16 = use_blocks16(net);
  route_fusions(net);
  PetscCall(cdn_conv_wino_buffers(net, sizes, CDN_DNN_MAX_PLANS));
  for (int k = 0; k < CDN_DNN_MAX_PLANS; k++) {
    cdn_dnn_plan_t *p = &d->plan[d->nplan];
    if (k && sizes[k] == sizes[0]) continue;
    p->B = sizes[k], d->nplan++;
    if (net->desc.in_c > 1 && !d->blocks16) { /* on nChw16c the first convolution reads NCHW (conv.c) */
      dnnl_memory_desc_t nchw, nhwc;
      cdn_dnn_md4(&nchw, p->B, net->desc.in_c, net->desc.in_h, net->desc.in_w, dnnl_nchw);
      cdn_dnn_md4(&nhwc, p->B, net->desc.in_c, net->desc.in_h, net->desc.in_w, dnnl_nhwc);
      PetscCall(cdn_dnn_reorder(d, &p->in, &nchw, net->x, &nhwc, net->xc, "input"));
    }
    for (int i = 0; i < net->nl; i++)
      if (net->layer[i].ops->plan) PetscCall(net->layer[i].ops->plan(net, i, p->B, &p->l[i]));
  }
  PetscCall(finish(net));
  DNNL_CALL("attributes", dnnl_primitive_attr_destroy(d->attr));
  d->attr = NULL;
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_dnn_free(cdn_net_t *net)
{
  cdn_dnn_t *d = net->dnn;
  if (!d) return 0;
  for (int p = 0; p < d->nplan; p++)
    for (int i = -1; i < net->nl; i++)
      for (int k = 0; k < CDN_DNN_LAYER_OPS; k++) {
        cdn_dnn_op_t *op = op_at(d, p, i, k);
        if (!op) continue;
        if (op->p) (void)dnnl_primitive_destroy(op->p);
        if (op->pd) (void)dnnl_primitive_desc_destroy(op->pd);
      }
  for (int k = 0; k < d->nmem; k++) (void)dnnl_memory_destroy(d->mem[k]);
  for (int k = 0; k < d->nbufs; k++) free(d->bufs[k]);
  (void)PetscFree(d->mem);
  (void)PetscFree2(d->bufs, d->buf_bytes);
  if (d->attr) (void)dnnl_primitive_attr_destroy(d->attr);
  if (d->stream) (void)dnnl_stream_destroy(d->stream);
  if (d->eng) (void)dnnl_engine_destroy(d->eng);
  (void)PetscFree(d);
  net->dnn = NULL;
  return 0;
}
