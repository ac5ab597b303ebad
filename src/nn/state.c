/* Checkpoint state of a network: a small header that identifies the layout, then the parameter
   block, the optimiser's moments (Adam's second moments too), and the BatchNorm running
   statistics. Gradients are not saved: every step recomputes them. */
#include <string.h>
#include "cnndyn/nn.h"
#include "net.h"

#define STATE_MAGIC   0x74736e6463ULL /* "cdnst" */
#define STATE_VERSION 2

typedef struct {
  uint64_t magic;
  uint32_t version;
  uint32_t nparam;
  uint32_t nstats;
  uint32_t adam;  /* the second-moment block follows the first */
  int64_t  step;  /* optimiser steps (Adam's bias correction) */
  int64_t  epoch; /* schedule position */
} state_header_t;

typedef struct {
  float *p;
  size_t n;
} span_t;

static int spans(const cdn_net_t *net, span_t s[4])
{
  int k = 0;
  s[k++] = (span_t){net->param, (size_t)net->nparam};
  s[k++] = (span_t){net->mom, (size_t)net->nparam};
  if (net->mom2) s[k++] = (span_t){net->mom2, (size_t)net->nparam};
  s[k++] = (span_t){net->stats, (size_t)net->nstats};
  return k;
}

size_t cdn_net_state_bytes(const cdn_net_t *net)
{
  span_t s[4];
  size_t b = sizeof(state_header_t);
  for (int i = 0, k = spans(net, s); i < k; i++) b += s[i].n * sizeof(float);
  return b;
}

void cdn_net_state_save(const cdn_net_t *net, void *buf)
{
  state_header_t h = {STATE_MAGIC, STATE_VERSION, (uint32_t)net->nparam, (uint32_t)net->nstats, net->mom2 != NULL,
                      net->step, net->epoch};
  span_t         s[4];
  char          *p = buf;
  memcpy(p, &h, sizeof h), p += sizeof h;
  for (int i = 0, k = spans(net, s); i < k; i++) memcpy(p, s[i].p, s[i].n * sizeof(float)), p += s[i].n * sizeof(float);
}

PetscErrorCode cdn_net_state_load(cdn_net_t *net, const void *buf, size_t bytes)
{
  state_header_t h;
  span_t         s[4];
  const char    *p = buf;

  PetscFunctionBeginUser;
  PetscCheck(bytes >= sizeof h, PETSC_COMM_SELF, CDN_ERR_CORRUPT, "network state: %zu bytes is too short", bytes);
  memcpy(&h, p, sizeof h);
  PetscCheck(h.magic == STATE_MAGIC && h.version == STATE_VERSION, PETSC_COMM_SELF, CDN_ERR_CORRUPT,
             "network state: not a cnndyn network state (or from another version)");
  PetscCheck((int)h.nparam == net->nparam && (int)h.nstats == net->nstats && (h.adam != 0) == (net->mom2 != NULL) &&
               bytes == cdn_net_state_bytes(net),
             PETSC_COMM_SELF, CDN_ERR_CORRUPT,
             "network state: holds %u parameters and %u statistics (%s), this %s network has %d and %d (%s)", h.nparam,
             h.nstats, h.adam ? "Adam" : "SGD", net->desc.arch, net->nparam, net->nstats, net->mom2 ? "Adam" : "SGD");
  p += sizeof h;
  for (int i = 0, k = spans(net, s); i < k; i++) memcpy(s[i].p, p, s[i].n * sizeof(float)), p += s[i].n * sizeof(float);
  net->step  = h.step;
  net->epoch = (int)h.epoch;
  PetscFunctionReturn(0);
}
