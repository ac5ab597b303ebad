/* Snapshot folders: model.json (the layer stack) plus one .npy per parameter tensor, and
   checksums.txt over them (checksums.c). A folder appears whole or not at all: it is filled under
   DIR.tmp.PID and renamed onto DIR. An existing DIR is never replaced (an error), so a resumed job
   cannot silently mix two epochs' files. */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cnndyn/snapshot.h"
#include "cnndyn/util.h"
#include "snapshot_impl.h"

/* The "type" of a layer in model.json, from the one list of operations (model.h). */
#define CDN_OP_NAME(E, NAME, NN) [CDN_OP_##E] = NAME,
static const char *op_names[CDN_OP_COUNT] = {CDN_OPS(CDN_OP_NAME)};
#undef CDN_OP_NAME

const char *cdn_op_name(cdn_op_t op)
{
  return (int)op >= 0 && (int)op < (int)(sizeof op_names / sizeof op_names[0]) ? op_names[op] : NULL;
}

int cdn_op_from_name(const char *name)
{
  for (int i = 0; i < (int)(sizeof op_names / sizeof op_names[0]); i++)
    if (!strcmp(name, op_names[i])) return i;
  return -1;
}

static PetscErrorCode join(char *out, const char *dir, const char *name, const char *suffix)
{
  PetscFunctionBeginUser;
  /* a file of the snapshot folder, never a path out of it */
  PetscCheck(cdn_file_name_ok(name) && !strchr(suffix, '/'), PETSC_COMM_SELF, CDN_ERR_INPUT,
             "%s: '%s%s' is not a file name inside the snapshot folder", dir, name, suffix);
  PetscCheck(snprintf(out, PETSC_MAX_PATH_LEN, "%s/%s%s", dir, name, suffix) < PETSC_MAX_PATH_LEN, PETSC_COMM_SELF,
             CDN_ERR_INPUT, "%s/%s%s: path too long", dir, name, suffix);
  PetscFunctionReturn(0);
}

/* ---- writing --------------------------------------------------------------------------------- */

static cJSON *pair(int a, int b)
{
  int v[2] = {a, b};
  return cJSON_CreateIntArray(v, 2);
}

static cJSON *layer_json(const cdn_layer_desc_t *l)
{
  cJSON *o     = cJSON_CreateObject();
  int    lin   = l->op == CDN_OP_LINEAR;
  char   f[CDN_NAME_LEN + 16];

  cJSON_AddStringToObject(o, "type", cdn_op_name(l->op));
  cJSON_AddStringToObject(o, "name", l->name);
  cJSON_AddNumberToObject(o, lin ? "in_features" : "in_channels", l->in_c);
  cJSON_AddNumberToObject(o, lin ? "out_features" : "out_channels", l->out_c);
  cJSON_AddItemToObject(o, "input_size", pair(l->in_h, l->in_w));
  cJSON_AddItemToObject(o, "output_size", pair(l->out_h, l->out_w));
  cJSON_AddNumberToObject(o, "src", l->src);
  if (l->op == CDN_OP_ADD) cJSON_AddNumberToObject(o, "src2", l->src2);
  if (l->op == CDN_OP_CONV2D || l->op == CDN_OP_MAXPOOL2D || l->op == CDN_OP_AVGPOOL2D) {
    cJSON_AddNumberToObject(o, "kernel_size", l->kernel);
    cJSON_AddNumberToObject(o, "stride", l->stride);
    cJSON_AddNumberToObject(o, "padding", l->padding);
  }
  if (l->op == CDN_OP_DROPOUT) cJSON_AddNumberToObject(o, "p", (double)l->p);
  if (l->op == CDN_OP_BATCHNORM) {
    static const char *const part[4] = {"weight", "bias", "running_mean", "running_var"};
    cJSON_AddNumberToObject(o, "eps", (double)l->eps);
    for (int t = 0; t < 4; t++) {
      snprintf(f, sizeof f, "%s.%s.npy", l->name, part[t]);
      cJSON_AddStringToObject(o, part[t], f);
    }
  }
  if (cdn_layer_has_params(l)) {
    snprintf(f, sizeof f, "%s.weight.npy", l->name);
    cJSON_AddStringToObject(o, "weight", f);
    snprintf(f, sizeof f, "%s.bias.npy", l->name);
    if (l->bias) cJSON_AddStringToObject(o, "bias", f);
    else cJSON_AddNullToObject(o, "bias");
  }
  return o;
}

static PetscErrorCode json_text(const cdn_model_desc_t *d, char **text)
{
  cJSON *root = cJSON_CreateObject(), *layers = cJSON_CreateArray();
  int    in[3] = {d->in_c, d->in_h, d->in_w};

  PetscFunctionBeginUser;
  cJSON_AddStringToObject(root, "format", "cnndyn-snapshot-1");
  cJSON_AddStringToObject(root, "arch", d->arch);
  cJSON_AddItemToObject(root, "input", cJSON_CreateIntArray(in, 3));
  cJSON_AddNumberToObject(root, "num_classes", d->num_classes);
  for (int k = 0; k < d->nlayers; k++) cJSON_AddItemToArray(layers, layer_json(&d->layer[k]));
  cJSON_AddItemToObject(root, "layers", layers);
  *text = cJSON_Print(root);
  cJSON_Delete(root);
  PetscCheck(*text, PETSC_COMM_SELF, PETSC_ERR_MEM, "%s: out of memory building JSON", d->arch);
  PetscFunctionReturn(0);
}

/* Where a snapshot's files go: files in folder dir, or members in memory (dir NULL, for .npz). */
typedef struct {
  const char   *dir;
  cdn_member_t *m;
  int           n;
} sink_t;

static PetscErrorCode sink_add(sink_t *s, const char *name, const char *suffix, cdn_member_t **m)
{
  PetscFunctionBeginUser;
  PetscCheck(s->n < 4 * CDN_MAX_LAYERS + 1, PETSC_COMM_SELF, PETSC_ERR_PLIB, "too many snapshot members");
  *m = &s->m[s->n];
  PetscCheck(cdn_file_name_ok(name) && snprintf((*m)->name, sizeof (*m)->name, "%s%s", name, suffix) < (int)sizeof (*m)->name,
             PETSC_COMM_SELF, CDN_ERR_INPUT, "'%s%s' is not a snapshot file name", name, suffix);
  PetscFunctionReturn(0);
}

static PetscErrorCode put_tensor(sink_t *s, const char *name, const char *suffix, const float *t, int ndim, const int *shape)
{
  char          path[PETSC_MAX_PATH_LEN];
  cdn_member_t *m;

  PetscFunctionBeginUser;
  if (s->dir) {
    PetscCall(join(path, s->dir, name, suffix));
    PetscCall(cdn_npy_write(path, t, ndim, shape));
    PetscFunctionReturn(0);
  }
  PetscCall(sink_add(s, name, suffix, &m));
  PetscCall(cdn_npy_encode(t, ndim, shape, &m->data, &m->n));
  s->n++;
  PetscFunctionReturn(0);
}

static PetscErrorCode put_json(sink_t *s, const cdn_model_desc_t *d)
{
  char         *text, path[PETSC_MAX_PATH_LEN];
  cdn_afile_t   af = {0};
  cdn_member_t *m;
  int           ok;

  PetscFunctionBeginUser;
  PetscCall(json_text(d, &text));
  if (!s->dir) {
    PetscErrorCode ierr = sink_add(s, "model", ".json", &m);
    size_t         n    = strlen(text);
    if (!ierr && (m->data = malloc(n + 1))) memcpy(m->data, text, n), m->data[n] = '\n', m->n = n + 1, s->n++;
    cJSON_free(text);
    PetscCall(ierr);
    PetscCheck(m->data, PETSC_COMM_SELF, PETSC_ERR_MEM, "out of memory");
    PetscFunctionReturn(0);
  }
  PetscCall(join(path, s->dir, "model", ".json"));
  PetscCall(cdn_afile_open(&af, path));
  ok = fputs(text, af.fp) >= 0 && fputc('\n', af.fp) != EOF;
  cJSON_free(text);
  if (!ok) {
    cdn_afile_abort(&af);
    SETERRQ(PETSC_COMM_SELF, CDN_ERR_WRITE, "%s: cannot write", path);
  }
  PetscCall(cdn_afile_commit(&af));
  PetscFunctionReturn(0);
}

/* BatchNorm: gamma, beta and the running statistics, one [C] tensor each (PyTorch's names). */
static PetscErrorCode write_bn(sink_t *s, const cdn_layer_desc_t *l)
{
  const float *t[4]    = {l->weight, l->bias, l->running_mean, l->running_var};
  const char  *part[4] = {".weight.npy", ".bias.npy", ".running_mean.npy", ".running_var.npy"};

  PetscFunctionBeginUser;
  for (int i = 0; i < 4; i++) {
    PetscCheck(t[i], PETSC_COMM_SELF, PETSC_ERR_ARG_NULL, "%s: BatchNorm without its%s tensor", l->name, part[i]);
    PetscCall(put_tensor(s, l->name, part[i], t[i], 1, &l->out_c));
  }
  PetscFunctionReturn(0);
}

static PetscErrorCode write_contents(sink_t *s, const cdn_model_desc_t *d)
{
  PetscFunctionBeginUser;
  for (int k = 0; k < d->nlayers; k++) {
    const cdn_layer_desc_t *l = &d->layer[k];
    if (l->op == CDN_OP_BATCHNORM) {
      PetscCall(write_bn(s, l));
      continue;
    }
    if (!cdn_layer_has_params(l)) continue;
    int conv = l->op == CDN_OP_CONV2D, ws[4] = {l->out_c, l->in_c, l->kernel, l->kernel};
    PetscCheck(l->weight, PETSC_COMM_SELF, PETSC_ERR_ARG_NULL, "%s: layer has no weight array", l->name);
    PetscCall(put_tensor(s, l->name, ".weight.npy", l->weight, conv ? 4 : 2, ws));
    if (l->bias) PetscCall(put_tensor(s, l->name, ".bias.npy", l->bias, 1, &l->out_c));
  }
  PetscCall(put_json(s, d));
  PetscFunctionReturn(0);
}

/* Our temporary folder holds only files we wrote: one level of unlink, then rmdir. */
static void remove_flat(const char *dir)
{
  DIR           *dp = opendir(dir);
  struct dirent *e;
  char           p[PETSC_MAX_PATH_LEN];

  if (!dp) return;
  while ((e = readdir(dp)))
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
      snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
      unlink(p);
    }
  closedir(dp);
  rmdir(dir);
}

/* dir = ".../model-MMMMMM/epoch-EEE" as for a folder; the epoch goes into ".../model-MMMMMM.npz". */
static PetscErrorCode write_npz(const char *dir, const cdn_model_desc_t *desc)
{
  char           npz[PETSC_MAX_PATH_LEN], *slash;
  const char    *base;
  cdn_member_t   m[4 * CDN_MAX_LAYERS + 1];
  sink_t         s = {.m = m};
  PetscErrorCode ierr;

  PetscFunctionBeginUser;
  memset(m, 0, sizeof m);
  snprintf(npz, sizeof npz, "%s", dir);
  slash = strrchr(npz, '/');
  base  = slash ? dir + (slash - npz) + 1 : dir;
  PetscCheck(slash && slash != npz && !strncmp(base, "epoch-", 6) && strlen(npz) + 4 < sizeof npz, PETSC_COMM_SELF,
             CDN_ERR_INPUT, "%s: an npz snapshot needs a path MODEL/epoch-EEE", dir);
  *slash = '\0';
  if ((slash = strrchr(npz, '/')) && slash != npz) { /* the archive's folder, as for a snapshot folder */
    *slash = '\0';
    PetscCall(cdn_mkdir_p(npz));
    *slash = '/';
  }
  strcat(npz, ".npz");
  ierr = write_contents(&s, desc);
  if (!ierr) ierr = cdn_npz_put_epoch(npz, atoi(base + 6), s.n, m);
  for (int i = 0; i < s.n; i++) free(m[i].data);
  PetscCall(ierr);
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_snapshot_write(const char *dir, const cdn_model_desc_t *desc)
{
  PetscFunctionBeginUser;
  PetscCall(cdn_snapshot_write_as(dir, desc, CDN_SNAPSHOT_NPY));
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_snapshot_write_as(const char *dir, const cdn_model_desc_t *desc, cdn_snapshot_format_t format)
{
  char           tmp[PETSC_MAX_PATH_LEN], parent[PETSC_MAX_PATH_LEN];
  struct stat    st;
  PetscErrorCode ierr;

  PetscFunctionBeginUser;
  if (format == CDN_SNAPSHOT_NPZ) {
    PetscCall(write_npz(dir, desc));
    PetscFunctionReturn(0);
  }
  PetscCheck(stat(dir, &st) != 0, PETSC_COMM_SELF, CDN_ERR_WRITE, "%s: snapshot already exists", dir);
  PetscCheck(snprintf(tmp, sizeof tmp, "%s.tmp.%ld", dir, (long)getpid()) < (int)sizeof tmp, PETSC_COMM_SELF,
             CDN_ERR_INPUT, "%s: path too long", dir);
  snprintf(parent, sizeof parent, "%s", dir);
  char *slash = strrchr(parent, '/');
  if (slash && slash != parent) {
    *slash = '\0';
    PetscCall(cdn_mkdir_p(parent));
  }
  remove_flat(tmp); /* left by a killed run with our pid: it was never renamed, so it is garbage */
  PetscCheck(mkdir(tmp, 0777) == 0, PETSC_COMM_SELF, CDN_ERR_WRITE, "%s: cannot create: %s", tmp, strerror(errno));
  ierr = write_contents(&(sink_t){.dir = tmp}, desc);
  if (!ierr) ierr = cdn_snapshot_sums_write(tmp);
  if (!ierr && rename(tmp, dir) != 0) {
    int err = errno;
    remove_flat(tmp);
    SETERRQ(PETSC_COMM_SELF, CDN_ERR_WRITE, "%s: cannot rename %s into place: %s", dir, tmp, strerror(err));
  }
  if (ierr) remove_flat(tmp);
  PetscCall(ierr);
  PetscFunctionReturn(0);
}
