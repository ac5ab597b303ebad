/* Checkpoint state of a network: a small header that identifies the layout, then the parameter
   and momentum blocks. Gradients are not saved: every step recomputes them. */
#include <string.h>
#include "cnndyn/nn.h"
#include "net.h"

#define STATE_MAGIC 0x74736e6463ULL /* "cdnst" */

typedef struct {
  uint64_t magic;
  uint32_t version;
  uint32_t nparam;
} state_header_t;

size_t cdn_net_state_bytes(const cdn_net_t *net)
{
  return sizeof(state_header_t) + 2 * (size_t)net->nparam * sizeof(float);
}

void cdn_net_state_save(const cdn_net_t *net, void *buf)
{
  state_header_t h = {STATE_MAGIC, 1, (uint32_t)net->nparam};
  char          *p = buf;
  memcpy(p, &h, sizeof h);
  memcpy(p + sizeof h, net->param, (size_t)net->nparam * sizeof(float));
  memcpy(p + sizeof h + (size_t)net->nparam * sizeof(float), net->mom, (size_t)net->nparam * sizeof(float));
}

PetscErrorCode cdn_net_state_load(cdn_net_t *net, const void *buf, size_t bytes)
{
  state_header_t h;
  const char    *p = buf;

  PetscFunctionBeginUser;
  PetscCheck(bytes >= sizeof h, PETSC_COMM_SELF, CDN_ERR_CORRUPT, "network state: %zu bytes is too short", bytes);
  memcpy(&h, p, sizeof h);
  PetscCheck(h.magic == STATE_MAGIC && h.version == 1, PETSC_COMM_SELF, CDN_ERR_CORRUPT,
             "network state: not a cnndyn network state (or from another version)");
  PetscCheck((int)h.nparam == net->nparam && bytes == cdn_net_state_bytes(net), PETSC_COMM_SELF, CDN_ERR_CORRUPT,
             "network state: holds %u parameters, this %s network has %d", h.nparam, net->desc.arch, net->nparam);
  memcpy(net->param, p + sizeof h, (size_t)net->nparam * sizeof(float));
  memcpy(net->mom, p + sizeof h + (size_t)net->nparam * sizeof(float), (size_t)net->nparam * sizeof(float));
  PetscFunctionReturn(0);
}
