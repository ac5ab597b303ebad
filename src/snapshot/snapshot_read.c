/* Reading a snapshot back. Everything is checked before it is trusted: the JSON fields, the layer
   stack's shapes from input to output, and every .npy file's shape against its layer, so a damaged
   or hand-edited snapshot fails with the file and field named instead of feeding wrong weights. */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "cnndyn/snapshot.h"
#include "cnndyn/util.h"
#include "snapshot_impl.h"


/* Where a snapshot's files are: folder dir, or members prefix + NAME of an .npz (dir its path). */
typedef struct {
  const char *dir;
  cdn_zip_t  *zip;
  char        prefix[32];
} src_t;

typedef struct {
  const char *path; /* model.json, for messages */
  int         k;    /* layer index, -1 at the top level */
  char        where[64];
} ctx_t;

static const char *at(ctx_t *c, const char *key)
{
  if (c->k < 0) snprintf(c->where, sizeof c->where, "%s", key);
  else snprintf(c->where, sizeof c->where, "layers[%d].%s", c->k, key);
  return c->where;
}

static PetscErrorCode get_int(ctx_t *c, const cJSON *o, const char *key, int lo, int *out)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

  PetscFunctionBeginUser;
  PetscCheck(cJSON_IsNumber(v) && v->valuedouble == floor(v->valuedouble) && v->valuedouble >= lo &&
               v->valuedouble <= 1e9,
             PETSC_COMM_SELF, CDN_ERR_CORRUPT, "%s: %s: missing or not an integer >= %d", c->path, at(c, key), lo);
  *out = (int)v->valuedouble;
  PetscFunctionReturn(0);
}

static PetscErrorCode get_ints(ctx_t *c, const cJSON *o, const char *key, int n, int *out)
{
  const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, key);

  PetscFunctionBeginUser;
  PetscCheck(cJSON_IsArray(a) && cJSON_GetArraySize(a) == n, PETSC_COMM_SELF, CDN_ERR_CORRUPT,
             "%s: %s: missing or not an array of %d integers", c->path, at(c, key), n);
  for (int i = 0; i < n; i++) {
    const cJSON *v = cJSON_GetArrayItem(a, i);
    PetscCheck(cJSON_IsNumber(v) && v->valuedouble == floor(v->valuedouble) && v->valuedouble >= 1 &&
                 v->valuedouble <= 1e9,
               PETSC_COMM_SELF, CDN_ERR_CORRUPT, "%s: %s: entry %d is not a positive integer", c->path, at(c, key), i);
    out[i] = (int)v->valuedouble;
  }
  PetscFunctionReturn(0);
}

/* Names become file names, so they must stay inside the snapshot folder. */
static PetscErrorCode get_name(ctx_t *c, const cJSON *o, const char *key, char *out, size_t cap)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

  PetscFunctionBeginUser;
  PetscCheck(cJSON_IsString(v) && strlen(v->valuestring) < cap && cdn_file_name_ok(v->valuestring),
             PETSC_COMM_SELF, CDN_ERR_CORRUPT, "%s: %s: missing, empty, too long, '.', '..' or containing '/'", c->path,
             at(c, key));
  snprintf(out, cap, "%s", v->valuestring);
  PetscFunctionReturn(0);
}

/* A file of the snapshot: path (for messages) and, from an .npz, its bytes (malloc'd). */
static PetscErrorCode src_get(const src_t *src, const char *file, char *path, size_t cap, unsigned char **buf, size_t *n)
{
  PetscFunctionBeginUser;
  *buf = NULL, *n = 0;
  PetscCheck(snprintf(path, cap, "%s/%s%s", src->dir, src->prefix, file) < (int)cap, PETSC_COMM_SELF, CDN_ERR_INPUT,
             "%s/%s: path too long", src->dir, file);
  if (src->zip) {
    char member[PETSC_MAX_PATH_LEN];
    snprintf(member, sizeof member, "%s%s", src->prefix, file);
    PetscCall(cdn_zip_read(src->zip, member, buf, n));
  }
  PetscFunctionReturn(0);
}

/* Reads one parameter tensor and checks its shape against what the layer implies. */
static PetscErrorCode load_tensor(const src_t *src, const char *file, int ndim, const int *want, const char *lname,
                                  float **data)
{
  char           path[PETSC_MAX_PATH_LEN];
  int            nd, shape[4], same;
  unsigned char *buf;
  size_t         n;
  PetscErrorCode ierr;

  PetscFunctionBeginUser;
  PetscCall(src_get(src, file, path, sizeof path, &buf, &n));
  if (src->zip) {
    ierr = cdn_npy_decode(path, buf, n, data, &nd, shape);
    free(buf);
    PetscCall(ierr);
  } else PetscCall(cdn_npy_read(path, data, &nd, shape));
  same = nd == ndim;
  for (int d = 0; same && d < nd; d++) same = shape[d] == want[d];
  if (!same) {
    PetscCall(PetscFree(*data));
    SETERRQ(PETSC_COMM_SELF, CDN_ERR_CORRUPT, "%s: shape does not match layer %s (expected %d dims: %d %d %d %d)",
            path, lname, ndim, want[0], ndim > 1 ? want[1] : 0, ndim > 2 ? want[2] : 0, ndim > 3 ? want[3] : 0);
  }
  /* one NaN spreads through every centrality of the graph: refuse it here, where it can be named */
  {
    size_t n = 1;
    for (int d = 0; d < nd; d++) n *= (size_t)shape[d];
    for (size_t i = 0; i < n; i++)
      if (!isfinite((*data)[i])) {
        float v = (*data)[i];
        PetscCall(PetscFree(*data));
        SETERRQ(PETSC_COMM_SELF, CDN_ERR_CORRUPT, "%s: tensor of layer %s holds a non-finite value (%s at index %zu)", path,
                lname, isnan(v) ? "NaN" : v > 0 ? "inf" : "-inf", i);
      }
  }
  PetscFunctionReturn(0);
}

/* Where a layer reads from: "src" (absent in snapshots written before residual networks: the
   previous layer) and, for an ADD, "src2"; both must be earlier layers or -1, the input. */
static PetscErrorCode read_links(ctx_t *c, const cJSON *o, cdn_layer_desc_t *l)
{
  const cJSON *s = cJSON_GetObjectItemCaseSensitive(o, "src");

  PetscFunctionBeginUser;
  l->src = c->k - 1, l->src2 = -1;
  if (s) PetscCall(get_int(c, o, "src", -1, &l->src));
  if (l->op == CDN_OP_ADD) PetscCall(get_int(c, o, "src2", -1, &l->src2));
  PetscCheck(l->src < c->k && l->src2 < c->k, PETSC_COMM_SELF, CDN_ERR_CORRUPT,
             "%s: layers[%d] (%s): src %d / src2 %d is not an earlier layer", c->path, c->k, l->name, l->src, l->src2);
  PetscFunctionReturn(0);
}

/* BatchNorm: eps and four [C] tensors, all required (the graph folds gamma and running_var). */
static PetscErrorCode read_bn(ctx_t *c, const cJSON *o, const src_t *src, cdn_layer_desc_t *l)
{
  static const char *const part[4] = {"weight", "bias", "running_mean", "running_var"};
  float                  **t[4]    = {&l->weight, &l->bias, &l->running_mean, &l->running_var};
  const cJSON             *e       = cJSON_GetObjectItemCaseSensitive(o, "eps");
  char                     file[CDN_NAME_LEN + 32];

  PetscFunctionBeginUser;
  PetscCheck(cJSON_IsNumber(e) && e->valuedouble >= 0 && e->valuedouble < 1, PETSC_COMM_SELF, CDN_ERR_CORRUPT,
             "%s: %s: missing or not in [0, 1)", c->path, at(c, "eps"));
  l->eps = (float)e->valuedouble;
  for (int i = 0; i < 4; i++) {
    PetscCall(get_name(c, o, part[i], file, sizeof file));
    PetscCall(load_tensor(src, file, 1, &l->out_c, l->name, t[i]));
  }
  PetscFunctionReturn(0);
}

/* Fills layer c->k from JSON and checks it against the output shape (c, h, w) of the layer it
   reads; shp[k] receives its own output shape. */
static PetscErrorCode read_layer(ctx_t *c, const cJSON *o, const src_t *src, cdn_model_desc_t *d, int (*shp)[3])
{
  const cJSON      *t = cJSON_GetObjectItemCaseSensitive(o, "type"), *b;
  cdn_layer_desc_t *l = &d->layer[c->k];
  int               in[2], out[2], lin, conv, pool, ws[4];
  char              file[CDN_NAME_LEN + 32];
  int              *rc, *rh, *rw;

  PetscFunctionBeginUser;
  PetscCheck(cJSON_IsObject(o), PETSC_COMM_SELF, CDN_ERR_CORRUPT, "%s: layers[%d]: not an object", c->path, c->k);
  PetscCheck(cJSON_IsString(t), PETSC_COMM_SELF, CDN_ERR_CORRUPT, "%s: %s: missing", c->path, at(c, "type"));
  PetscCheck(cdn_op_from_name(t->valuestring) >= 0, PETSC_COMM_SELF, CDN_ERR_CORRUPT, "%s: %s: unknown layer type '%s'", c->path,
             at(c, "type"), t->valuestring);
  l->op = (cdn_op_t)cdn_op_from_name(t->valuestring);
  lin  = l->op == CDN_OP_LINEAR;
  conv = l->op == CDN_OP_CONV2D;
  pool = l->op == CDN_OP_MAXPOOL2D || l->op == CDN_OP_AVGPOOL2D;
  PetscCall(get_name(c, o, "name", l->name, sizeof l->name));
  PetscCall(read_links(c, o, l));
  int *from = l->src < 0 ? shp[CDN_MAX_LAYERS] : shp[l->src];
  shp[c->k][0] = from[0], shp[c->k][1] = from[1], shp[c->k][2] = from[2];
  rc = &shp[c->k][0], rh = &shp[c->k][1], rw = &shp[c->k][2];
  PetscCall(get_int(c, o, lin ? "in_features" : "in_channels", 1, &l->in_c));
  PetscCall(get_int(c, o, lin ? "out_features" : "out_channels", 1, &l->out_c));
  PetscCall(get_ints(c, o, "input_size", 2, in));
  PetscCall(get_ints(c, o, "output_size", 2, out));
  l->in_h = in[0], l->in_w = in[1], l->out_h = out[0], l->out_w = out[1];
  if (conv || pool) {
    PetscCall(get_int(c, o, "kernel_size", 1, &l->kernel));
    PetscCall(get_int(c, o, "stride", 1, &l->stride));
    PetscCall(get_int(c, o, "padding", 0, &l->padding));
  }
  if (l->op == CDN_OP_DROPOUT) {
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(o, "p");
    PetscCheck(cJSON_IsNumber(p) && p->valuedouble >= 0 && p->valuedouble < 1, PETSC_COMM_SELF, CDN_ERR_CORRUPT,
               "%s: %s: missing or not in [0, 1)", c->path, at(c, "p"));
    l->p = (float)p->valuedouble;
  }
  /* Shape chain: a linear layer sees the flattened C*H*W features; others must see (c, h, w). */
  /* sizes are up to 1e9 each: products and sums in double / long long, never in int */
  if (lin) {
    PetscCheck((double)l->in_c == (double)*rc * *rh * *rw, PETSC_COMM_SELF, CDN_ERR_CORRUPT,
               "%s: %s: %d, but the layers before give %.0f", c->path, at(c, "in_features"), l->in_c,
               (double)*rc * *rh * *rw);
    *rc = l->out_c, *rh = *rw = 1;
  } else {
    PetscCheck(l->in_c == *rc && l->in_h == *rh && l->in_w == *rw, PETSC_COMM_SELF, CDN_ERR_CORRUPT,
               "%s: layers[%d] (%s): input %d x %d x %d, but the layers before give %d x %d x %d", c->path, c->k,
               l->name, l->in_c, l->in_h, l->in_w, *rc, *rh, *rw);
    if (conv || pool) {
      long long oh = ((long long)l->in_h + 2LL * l->padding - l->kernel) / l->stride + 1;
      long long ow = ((long long)l->in_w + 2LL * l->padding - l->kernel) / l->stride + 1;
      PetscCheck(l->out_h == oh && l->out_w == ow && (conv || l->out_c == l->in_c), PETSC_COMM_SELF, CDN_ERR_CORRUPT,
                 "%s: layers[%d] (%s): output_size %d x %d does not follow from kernel/stride/padding (%lld x %lld)",
                 c->path, c->k, l->name, l->out_h, l->out_w, oh, ow);
      *rc = l->out_c, *rh = (int)oh, *rw = (int)ow;
    } else if (l->op == CDN_OP_FLATTEN) {
      PetscCheck((double)*rc * *rh * *rw <= 1e9, PETSC_COMM_SELF, CDN_ERR_CORRUPT,
                 "%s: layers[%d] (%s): flattens %d x %d x %d, more than 1e9 features", c->path, c->k, l->name, *rc, *rh,
                 *rw);
      *rc = *rc * *rh * *rw, *rh = *rw = 1;
    } else if (l->op == CDN_OP_GLOBALAVGPOOL) {
      PetscCheck(l->out_c == l->in_c && l->out_h == 1 && l->out_w == 1, PETSC_COMM_SELF, CDN_ERR_CORRUPT,
                 "%s: layers[%d] (%s): global average pooling must give %d x 1 x 1", c->path, c->k, l->name, l->in_c);
      *rh = *rw = 1;
    } else {
      const int *s2 = l->src2 < 0 ? shp[CDN_MAX_LAYERS] : shp[l->src2];
      PetscCheck(l->op != CDN_OP_ADD || (s2[0] == *rc && s2[1] == *rh && s2[2] == *rw), PETSC_COMM_SELF,
                 CDN_ERR_CORRUPT, "%s: layers[%d] (%s): adds a %d x %d x %d input to a %d x %d x %d one", c->path, c->k,
                 l->name, s2[0], s2[1], s2[2], *rc, *rh, *rw);
      PetscCheck(l->out_c == l->in_c && l->out_h == l->in_h && l->out_w == l->in_w, PETSC_COMM_SELF, CDN_ERR_CORRUPT,
                 "%s: layers[%d] (%s): a %s layer must keep its input shape", c->path, c->k, l->name, cdn_op_name(l->op));
    }
  }
  if (l->op == CDN_OP_BATCHNORM) PetscCall(read_bn(c, o, src, l));
  if (!cdn_layer_has_params(l)) PetscFunctionReturn(0);
  ws[0] = l->out_c, ws[1] = l->in_c, ws[2] = ws[3] = l->kernel;
  PetscCall(get_name(c, o, "weight", file, sizeof file));
  PetscCall(load_tensor(src, file, conv ? 4 : 2, ws, l->name, &l->weight));
  b = cJSON_GetObjectItemCaseSensitive(o, "bias");
  if (b && !cJSON_IsNull(b)) {
    PetscCall(get_name(c, o, "bias", file, sizeof file));
    PetscCall(load_tensor(src, file, 1, &l->out_c, l->name, &l->bias));
  }
  PetscFunctionReturn(0);
}

static PetscErrorCode read_model(const cJSON *root, const src_t *src, ctx_t *c, cdn_model_desc_t *d)
{
  const cJSON *layers;
  int          in[3], shp[CDN_MAX_LAYERS + 1][3]; /* output shape per layer; the input last */

  PetscFunctionBeginUser;
  PetscCheck(cJSON_IsObject(root), PETSC_COMM_SELF, CDN_ERR_CORRUPT, "%s: not a JSON object", c->path);
  PetscCall(get_name(c, root, "arch", d->arch, sizeof d->arch));
  PetscCall(get_ints(c, root, "input", 3, in));
  d->in_c = shp[CDN_MAX_LAYERS][0] = in[0], d->in_h = shp[CDN_MAX_LAYERS][1] = in[1];
  d->in_w = shp[CDN_MAX_LAYERS][2] = in[2];
  PetscCall(get_int(c, root, "num_classes", 1, &d->num_classes));
  layers = cJSON_GetObjectItemCaseSensitive(root, "layers");
  PetscCheck(cJSON_IsArray(layers) && cJSON_GetArraySize(layers) >= 1 && cJSON_GetArraySize(layers) <= CDN_MAX_LAYERS,
             PETSC_COMM_SELF, CDN_ERR_CORRUPT, "%s: layers: missing, empty or more than %d", c->path, CDN_MAX_LAYERS);
  for (c->k = 0; c->k < cJSON_GetArraySize(layers); c->k++) {
    d->nlayers = c->k + 1; /* first, so cdn_snapshot_destroy releases a half-read layer too */
    PetscCall(read_layer(c, cJSON_GetArrayItem(layers, c->k), src, d, shp));
    for (int j = 0; j < c->k; j++)
      PetscCheck(strcmp(d->layer[j].name, d->layer[c->k].name), PETSC_COMM_SELF, CDN_ERR_CORRUPT,
                 "%s: %s: '%s' is used twice", c->path, at(c, "name"), d->layer[c->k].name);
  }
  PetscFunctionReturn(0);
}

static PetscErrorCode slurp(const char *path, char **text)
{
  FILE *fp = fopen(path, "rb");
  long  n;
  int   ok;

  PetscFunctionBeginUser;
  *text = NULL;
  PetscCheck(fp, PETSC_COMM_SELF, CDN_ERR_OPEN, "%s: cannot open: %s", path, strerror(errno));
  ok = fseek(fp, 0, SEEK_END) == 0 && (n = ftell(fp)) >= 0 && fseek(fp, 0, SEEK_SET) == 0;
  if (ok) ok = (*text = malloc((size_t)n + 1)) != NULL;
  if (ok) ok = fread(*text, 1, (size_t)n, fp) == (size_t)n;
  fclose(fp);
  if (!ok) free(*text), *text = NULL;
  PetscCheck(ok, PETSC_COMM_SELF, CDN_ERR_OPEN, "%s: cannot read", path);
  (*text)[n] = '\0';
  PetscFunctionReturn(0);
}

/* MODEL.npz/epoch-EEE (not a folder): src reads the members epoch-EEE/NAME of MODEL.npz. */
static PetscErrorCode open_source(const char *dir, char *npz, src_t *src)
{
  struct stat st;
  const char *slash = strrchr(dir, '/');
  size_t      len   = slash ? (size_t)(slash - dir) : 0;

  PetscFunctionBeginUser;
  src->dir = dir;
  if (!stat(dir, &st) || len < 5 || strncmp(slash - 4, ".npz", 4) || len >= PETSC_MAX_PATH_LEN ||
      strlen(slash + 1) + 2 > sizeof src->prefix)
    PetscFunctionReturn(0);
  memcpy(npz, dir, len), npz[len] = '\0';
  if (stat(npz, &st) || !S_ISREG(st.st_mode)) PetscFunctionReturn(0);
  snprintf(src->prefix, sizeof src->prefix, "%s/", slash + 1);
  src->dir = npz;
  PetscCall(cdn_zip_open(npz, &src->zip));
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_snapshot_read(const char *dir, cdn_model_desc_t **out)
{
  cdn_model_desc_t *desc;
  char           path[PETSC_MAX_PATH_LEN], npz[PETSC_MAX_PATH_LEN], *text = NULL;
  unsigned char *buf = NULL;
  size_t         n;
  cJSON         *root;
  ctx_t          c   = {path, -1, ""};
  src_t          src = {0};
  PetscErrorCode ierr;

  PetscFunctionBeginUser;
  *out = NULL;
  PetscCall(PetscNew(&desc));
  ierr = open_source(dir, npz, &src);
  if (!ierr) ierr = src_get(&src, "model.json", path, sizeof path, &buf, &n);
  if (!ierr && !src.zip) ierr = cdn_snapshot_verify(dir); /* a damaged file is named as such, not misread */
  if (!ierr && !src.zip) ierr = slurp(path, &text);
  if (!ierr && src.zip) {
    if ((text = malloc(n + 1))) memcpy(text, buf, n), text[n] = '\0';
    else ierr = PetscError(PETSC_COMM_SELF, __LINE__, PETSC_FUNCTION_NAME, __FILE__, PETSC_ERR_MEM, PETSC_ERROR_INITIAL, "out of memory");
  }
  free(buf);
  root = ierr ? NULL : cJSON_Parse(text);
  free(text);
  if (!ierr && !root) ierr = PetscError(PETSC_COMM_SELF, __LINE__, PETSC_FUNCTION_NAME, __FILE__, CDN_ERR_CORRUPT, PETSC_ERROR_INITIAL, "%s: not valid JSON", path);
  if (!ierr) ierr = read_model(root, &src, &c, desc);
  cJSON_Delete(root);
  (void)cdn_zip_destroy(&src.zip);
  if (ierr) (void)cdn_snapshot_destroy(&desc); /* the first error is the one reported */
  PetscCall(ierr);
  *out = desc;
  PetscFunctionReturn(0);
}

static int by_int(const void *a, const void *b) { return (*(const int *)a > *(const int *)b) - (*(const int *)a < *(const int *)b); }

/* Adds epoch e to the list once (*ep malloc'd, grown by doubling). */
static int add_epoch(int **ep, int *n, int *cap, int e)
{
  for (int i = 0; i < *n; i++)
    if ((*ep)[i] == e) return 1;
  if (*n == *cap) {
    int *g = realloc(*ep, sizeof(int) * (size_t)(*cap = *cap ? 2 * *cap : 16));
    if (!g) return 0;
    *ep = g;
  }
  (*ep)[(*n)++] = e;
  return 1;
}

PetscErrorCode cdn_snapshot_epochs(const char *model, int **epochs, int *n)
{
  size_t len = strlen(model);
  int    cap = 0, ok = 1;

  PetscFunctionBeginUser;
  *epochs = NULL, *n = 0;
  if (len > 4 && !strcmp(model + len - 4, ".npz")) {
    cdn_zip_t *z;
    PetscCall(cdn_zip_open(model, &z));
    for (int i = 0; i < cdn_zip_count(z) && ok; i++) {
      const char *name = cdn_zip_name(z, i), *slash = strchr(name, '/');
      if (!strncmp(name, "epoch-", 6) && slash && !strcmp(slash, "/model.json")) ok = add_epoch(epochs, n, &cap, atoi(name + 6));
    }
    (void)cdn_zip_destroy(&z);
  } else {
    DIR           *d = opendir(model);
    struct dirent *e;
    PetscCheck(d, PETSC_COMM_SELF, CDN_ERR_OPEN, "%s: cannot list: %s", model, strerror(errno));
    while ((e = readdir(d)) && ok)
      if (!strncmp(e->d_name, "epoch-", 6) && !strchr(e->d_name, '.')) ok = add_epoch(epochs, n, &cap, atoi(e->d_name + 6));
    closedir(d);
  }
  if (!ok) free(*epochs), *epochs = NULL, *n = 0;
  PetscCheck(ok, PETSC_COMM_SELF, PETSC_ERR_MEM, "%s: out of memory", model);
  if (*n) qsort(*epochs, (size_t)*n, sizeof(int), by_int);
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_snapshot_destroy(cdn_model_desc_t **descp)
{
  cdn_model_desc_t *desc = descp ? *descp : NULL;

  PetscFunctionBeginUser;
  if (!desc) PetscFunctionReturn(0);
  for (int k = 0; k < desc->nlayers; k++) {
    PetscCall(PetscFree(desc->layer[k].weight));
    PetscCall(PetscFree(desc->layer[k].bias));
    PetscCall(PetscFree(desc->layer[k].running_mean));
    PetscCall(PetscFree(desc->layer[k].running_var));
  }
  PetscCall(PetscFree(*descp));
  PetscFunctionReturn(0);
}
