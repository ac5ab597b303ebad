/* Snapshots: a LeNet-5 round trip is byte-exact, numpy reads our .npy files and we read numpy's,
   checksums.txt names a damaged file, and every kind of damage to a folder without checksums
   gives the right code with the file and field named. */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include "check.h"
#include "families.h"
#include "cnndyn/graph.h"
#include "cnndyn/snapshot.h"
#include "cnndyn/util.h"

static char root[256];

static cdn_layer_desc_t layer(cdn_op_t op, const char *name, int in_c, int out_c, int in_hw, int out_hw, int k)
{
  cdn_layer_desc_t l = {.op = op, .in_c = in_c, .out_c = out_c, .in_h = in_hw, .in_w = in_hw, .out_h = out_hw,
                        .out_w = out_hw, .kernel = k, .stride = k};
  snprintf(l.name, sizeof l.name, "%s", name);
  return l;
}

/* LeNet-5 on 1x28x28 with weights drawn from a seeded stream. */
static void lenet(cdn_model_desc_t *d)
{
  cdn_rng_t rng;
  int       k = 0;
  memset(d, 0, sizeof *d);
  snprintf(d->arch, sizeof d->arch, "lenet5");
  d->in_c = 1, d->in_h = d->in_w = 28, d->num_classes = 10;
  d->layer[k++]           = layer(CDN_OP_CONV2D, "conv1", 1, 6, 28, 28, 5);
  d->layer[k - 1].stride  = 1;
  d->layer[k - 1].padding = 2;
  d->layer[k++]           = layer(CDN_OP_RELU, "relu1", 6, 6, 28, 28, 0);
  d->layer[k++]           = layer(CDN_OP_MAXPOOL2D, "pool1", 6, 6, 28, 14, 2);
  d->layer[k++]           = layer(CDN_OP_CONV2D, "conv2", 6, 16, 14, 10, 5);
  d->layer[k - 1].stride  = 1;
  d->layer[k++]           = layer(CDN_OP_RELU, "relu2", 16, 16, 10, 10, 0);
  d->layer[k++]           = layer(CDN_OP_MAXPOOL2D, "pool2", 16, 16, 10, 5, 2);
  d->layer[k++]           = layer(CDN_OP_FLATTEN, "flatten", 16, 400, 5, 1, 0);
  d->layer[k++]           = layer(CDN_OP_DROPOUT, "drop1", 400, 400, 1, 1, 0);
  d->layer[k - 1].p       = 0.1f;
  d->layer[k++]           = layer(CDN_OP_LINEAR, "fc1", 400, 120, 1, 1, 0);
  d->layer[k++]           = layer(CDN_OP_LINEAR, "fc2", 120, 84, 1, 1, 0);
  d->layer[k++]           = layer(CDN_OP_LINEAR, "fc3", 84, 10, 1, 1, 0);
  d->nlayers              = k;
  for (int i = 0; i < k; i++) d->layer[i].src = i - 1, d->layer[i].src2 = -1;
  cdn_rng_seed(&rng, 7, 1);
  for (int i = 0; i < k; i++) {
    cdn_layer_desc_t *l = &d->layer[i];
    if (!cdn_layer_has_params(l)) continue;
    l->weight = malloc(cdn_layer_weight_count(l) * sizeof(float));
    l->bias   = malloc(l->out_c * sizeof(float));
    for (int j = 0; j < cdn_layer_weight_count(l); j++) l->weight[j] = (float)cdn_rng_normal(&rng);
    for (int j = 0; j < l->out_c; j++) l->bias[j] = (float)cdn_rng_normal(&rng);
  }
}

static void free_lenet(cdn_model_desc_t *d)
{
  for (int i = 0; i < d->nlayers; i++) free(d->layer[i].weight), free(d->layer[i].bias);
}

static int same_file(const char *a, const char *b)
{
  FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
  int   same = fa && fb, ca, cb;
  while (same && ((ca = fgetc(fa)) != EOF) | ((cb = fgetc(fb)) != EOF)) same = ca == cb;
  if (fa) fclose(fa);
  if (fb) fclose(fb);
  return same;
}

static const char *at(const char *a, const char *b)
{
  static char p[4][512];
  static int  r;
  r = (r + 1) % 4;
  snprintf(p[r], sizeof p[r], "%s/%s%s%s", root, a, b ? "/" : "", b ? b : "");
  return p[r];
}

static void test_round_trip(cdn_model_desc_t *d)
{
  cdn_model_desc_t *r = NULL;
  const char      *files[] = {"model.json", "conv1.weight.npy", "conv2.bias.npy", "fc3.weight.npy"};
  CHECK(!cdn_snapshot_write(at("e0", NULL), d));
  CHECK(!cdn_snapshot_read(at("e0", NULL), &r));
  CHECK(!strcmp(r->arch, "lenet5") && r->in_c == 1 && r->in_h == 28 && r->num_classes == 10 && r->nlayers == d->nlayers);
  int bad = 0;
  for (int i = 0; i < d->nlayers; i++) {
    cdn_layer_desc_t *a = &d->layer[i], *b = &r->layer[i];
    bad += a->op != b->op || strcmp(a->name, b->name) || a->in_c != b->in_c || a->out_c != b->out_c ||
           a->in_h != b->in_h || a->out_w != b->out_w || a->kernel != b->kernel || a->stride != b->stride ||
           a->padding != b->padding || a->p != b->p;
    if (cdn_layer_has_params(a))
      bad += memcmp(a->weight, b->weight, cdn_layer_weight_count(a) * sizeof(float)) ||
             memcmp(a->bias, b->bias, a->out_c * sizeof(float));
  }
  CHECK(bad == 0);
  /* Writing what was read gives the same bytes. */
  CHECK(!cdn_snapshot_write(at("e0again", NULL), r));
  for (int f = 0; f < 4; f++) CHECK(same_file(at("e0", files[f]), at("e0again", files[f])));
  CHECK(cdn_snapshot_destroy(&r) == 0);
  /* An existing snapshot is never replaced, and a failed write leaves nothing behind. */
  CHECK(cdn_snapshot_write(at("e0", NULL), d) == CDN_ERR_WRITE);
  CHECK_CONTAINS(cdn_error_message(), "already exists");
  float *w              = d->layer[8].weight;
  d->layer[8].weight    = NULL;
  struct stat st;
  char        tmp[600];
  CHECK(cdn_snapshot_write(at("e1", NULL), d) != 0);
  snprintf(tmp, sizeof tmp, "%s.tmp.%ld", at("e1", NULL), (long)getpid());
  CHECK(stat(at("e1", NULL), &st) != 0 && stat(tmp, &st) != 0);
  d->layer[8].weight = w;
}

/* Our files load in numpy with the right shape and values; numpy's own files load here. */
static void test_numpy(void)
{
  if (access("/usr/bin/python3", X_OK) || system("/usr/bin/python3 -c 'import numpy' 2>/dev/null")) {
    printf("numpy check skipped: /usr/bin/python3 with numpy not found\n");
    return;
  }
  float v[6] = {1.5f, -2, 3.25f, 0, 1e-3f, -7e10f};
  int   s1[1] = {6}, s4[4] = {1, 2, 1, 3};
  char  cmd[2048], e0[512];
  snprintf(e0, sizeof e0, "%s", at("e0", NULL)); /* at() keeps 4 results: the command needs 5 */
  CHECK(!cdn_npy_write(at("a.npy", NULL), v, 1, s1));
  CHECK(!cdn_npy_write(at("b.npy", NULL), v, 4, s4));
  snprintf(cmd, sizeof cmd,
           "/usr/bin/python3 -c \"import numpy as np; v=np.array([1.5,-2,3.25,0,1e-3,-7e10],dtype='<f4'); "
           "a=np.load('%s'); b=np.load('%s'); w=np.load('%s'); "
           "assert a.shape==(6,) and b.shape==(1,2,1,3) and a.dtype==np.float32 and (a==v).all() and (b.ravel()==v).all(); "
           "assert w.shape==(6,1,5,5); "
           "np.save('%s', np.arange(12,dtype='<f4').reshape(3,4)/8); "
           "import zlib, os; d='%s'; L=[l.split(' ', 2) for l in open(d+'/checksums.txt').read().splitlines()]; "
           "assert sorted(n for c,s,n in L)==sorted(f for f in os.listdir(d) if f!='checksums.txt'); "
           "assert all(int(c,16)==zlib.crc32(open(d+'/'+n,'rb').read()) and int(s)==os.path.getsize(d+'/'+n) for c,s,n in L)\"",
           at("a.npy", NULL), at("b.npy", NULL), at("e0", "conv1.weight.npy"), at("c.npy", NULL), e0);
  CHECK(system(cmd) == 0);
  float *c = NULL;
  int    nd = 0, sh[4];
  CHECK(!cdn_npy_read(at("c.npy", NULL), &c, &nd, sh));
  CHECK(nd == 2 && sh[0] == 3 && sh[1] == 4 && c && c[11] == 11.0f / 8);
  PetscFree(c);
}

/* Writes a fresh copy of the snapshot, applies one change to its model.json, returns the read code.
   checksums.txt is removed first, as in a folder written by hand: the reader's own checks are tested. */
typedef void (*mutate_t)(cJSON *root);
static int damaged(cdn_model_desc_t *d, const char *name, mutate_t mutate, const char *rm, const char *trunc)
{
  cdn_model_desc_t *r = NULL;
  const char      *dir = at(name, NULL);
  CHECK(!cdn_snapshot_write(dir, d));
  CHECK(remove(at(name, CDN_SNAPSHOT_SUMS)) == 0);
  if (mutate) {
    FILE *fp = fopen(at(name, "model.json"), "rb");
    char  buf[1 << 16];
    size_t n = fp ? fread(buf, 1, sizeof buf - 1, fp) : 0;
    if (fp) fclose(fp);
    buf[n]      = 0;
    cJSON *root = cJSON_Parse(buf);
    mutate(root);
    char *text = cJSON_Print(root);
    fp         = fopen(at(name, "model.json"), "wb");
    fputs(text, fp);
    fclose(fp);
    cJSON_free(text);
    cJSON_Delete(root);
  }
  if (rm) remove(at(name, rm));
  if (trunc) CHECK(truncate(at(name, trunc), 200) == 0);
  int code = cdn_snapshot_read(dir, &r);
  if (!code) CHECK(cdn_snapshot_destroy(&r) == 0);
  CHECK(r == NULL); /* destroyed, or nothing held after the error */
  return code;
}

static cJSON *layer_at(cJSON *root, int k) { return cJSON_GetArrayItem(cJSON_GetObjectItem(root, "layers"), k); }
static void   unknown_type(cJSON *r) { cJSON_ReplaceItemInObject(layer_at(r, 1), "type", cJSON_CreateString("gelu")); }
static void   no_kernel(cJSON *r) { cJSON_DeleteItemFromObject(layer_at(r, 3), "kernel_size"); }
static void   wrong_features(cJSON *r) { cJSON_ReplaceItemInObject(layer_at(r, 8), "in_features", cJSON_CreateNumber(401)); }
static void   bad_output(cJSON *r) { cJSON_ReplaceItemInObject(layer_at(r, 2), "output_size", cJSON_CreateString("14")); }
static void   wrong_file(cJSON *r) { cJSON_ReplaceItemInObject(layer_at(r, 9), "weight", cJSON_CreateString("fc1.weight.npy")); }
static void   escape(cJSON *r) { cJSON_ReplaceItemInObject(layer_at(r, 9), "weight", cJSON_CreateString("../x.npy")); }
static void   dup_name(cJSON *r) { cJSON_ReplaceItemInObject(layer_at(r, 4), "name", cJSON_CreateString("relu1")); }

static void test_damage(cdn_model_desc_t *d)
{
  cdn_model_desc_t *r = NULL;
  CHECK(cdn_snapshot_read(at("nowhere", NULL), &r) == CDN_ERR_OPEN);
  CHECK_CONTAINS(cdn_error_message(), "nowhere/model.json: cannot open");
  CHECK(damaged(d, "d_type", unknown_type, NULL, NULL) == CDN_ERR_CORRUPT);
  CHECK_CONTAINS(cdn_error_message(), "model.json: layers[1].type: unknown layer type 'gelu'");
  CHECK(damaged(d, "d_kernel", no_kernel, NULL, NULL) == CDN_ERR_CORRUPT);
  CHECK_CONTAINS(cdn_error_message(), "layers[3].kernel_size: missing");
  CHECK(damaged(d, "d_feat", wrong_features, NULL, NULL) == CDN_ERR_CORRUPT);
  CHECK_CONTAINS(cdn_error_message(), "layers[8].in_features: 401, but the layers before give 400");
  CHECK(damaged(d, "d_out", bad_output, NULL, NULL) == CDN_ERR_CORRUPT);
  CHECK_CONTAINS(cdn_error_message(), "layers[2].output_size");
  CHECK(damaged(d, "d_shape", wrong_file, NULL, NULL) == CDN_ERR_CORRUPT);
  CHECK_CONTAINS(cdn_error_message(), "d_shape/fc1.weight.npy: shape does not match layer fc2");
  CHECK(damaged(d, "d_escape", escape, NULL, NULL) == CDN_ERR_CORRUPT);
  CHECK_CONTAINS(cdn_error_message(), "layers[9].weight");
  CHECK(damaged(d, "d_dup", dup_name, NULL, NULL) == CDN_ERR_CORRUPT);
  CHECK_CONTAINS(cdn_error_message(), "'relu1' is used twice");
  CHECK(damaged(d, "d_missing", NULL, "conv2.bias.npy", NULL) == CDN_ERR_OPEN);
  CHECK_CONTAINS(cdn_error_message(), "d_missing/conv2.bias.npy: cannot open");
  CHECK(damaged(d, "d_trunc", NULL, NULL, "fc1.weight.npy") == CDN_ERR_CORRUPT);
  CHECK_CONTAINS(cdn_error_message(), "d_trunc/fc1.weight.npy: truncated data");
  CHECK(damaged(d, "d_json", NULL, NULL, "model.json") == CDN_ERR_CORRUPT);
  CHECK_CONTAINS(cdn_error_message(), "d_json/model.json: not valid JSON");
  FILE *fp = fopen(at("bad.npy", NULL), "wb");
  fputs("PK\003\004 not numpy at all", fp);
  fclose(fp);
  float *x;
  int    nd, sh[4];
  CHECK(cdn_npy_read(at("bad.npy", NULL), &x, &nd, sh) == CDN_ERR_CORRUPT);
  CHECK_CONTAINS(cdn_error_message(), "bad.npy: not a .npy file");
}

/* Flips one byte of path at offset (from the end when negative). */
static void flip(const char *path, long offset)
{
  FILE *fp = fopen(path, "r+b");
  int   c;
  CHECK(fp && !fseek(fp, offset, offset < 0 ? SEEK_END : SEEK_SET));
  if (!fp) return;
  c = fgetc(fp);
  fseek(fp, -1, SEEK_CUR);
  fputc(c ^ 0x40, fp);
  fclose(fp);
}

/* checksums.txt names the damaged file: a flipped weight byte, which the .npy reader alone would
   take as a valid weight, a truncated tensor, an edited model.json, a missing file, a damaged
   checksums.txt. */
static void test_checksums(cdn_model_desc_t *d)
{
  cdn_model_desc_t *r = NULL;
  const char      *dirs[] = {"s_flip", "s_trunc", "s_json", "s_missing", "s_sums"};
  FILE            *fp;

  for (int i = 0; i < 5; i++) CHECK(!cdn_snapshot_write(at(dirs[i], NULL), d));
  flip(at("s_flip", "fc2.weight.npy"), -5);
  CHECK(cdn_snapshot_read(at("s_flip", NULL), &r) == CDN_ERR_CORRUPT);
  CHECK_CONTAINS(cdn_error_message(), "s_flip/fc2.weight.npy: damaged: its CRC-32 differs from");
  CHECK(truncate(at("s_trunc", "conv1.bias.npy"), 100) == 0);
  CHECK(cdn_snapshot_read(at("s_trunc", NULL), &r) == CDN_ERR_CORRUPT);
  CHECK_CONTAINS(cdn_error_message(), "s_trunc/conv1.bias.npy: damaged: 100 bytes, 152 when written");
  flip(at("s_json", "model.json"), 40);
  CHECK(cdn_snapshot_read(at("s_json", NULL), &r) == CDN_ERR_CORRUPT);
  CHECK_CONTAINS(cdn_error_message(), "s_json/model.json: damaged");
  CHECK(remove(at("s_missing", "fc3.bias.npy")) == 0);
  CHECK(cdn_snapshot_read(at("s_missing", NULL), &r) == CDN_ERR_OPEN);
  CHECK_CONTAINS(cdn_error_message(), "s_missing/fc3.bias.npy: cannot read");
  fp = fopen(at("s_sums", CDN_SNAPSHOT_SUMS), "a");
  CHECK(fp && fputs("xyz 12 fc1.weight.npy\n", fp) >= 0);
  if (fp) fclose(fp);
  CHECK(cdn_snapshot_read(at("s_sums", NULL), &r) == CDN_ERR_CORRUPT);
  CHECK_CONTAINS(cdn_error_message(), "s_sums/checksums.txt: line 12: not \"CRC32 SIZE NAME\"");
  /* the sound folder next to them still reads */
  CHECK(!cdn_snapshot_read(at("e0", NULL), &r));
  CHECK(cdn_snapshot_destroy(&r) == 0);
}

/* Residual links, BatchNorm statistics and global average pooling survive a round trip, and the
   graph of what was read back has the same edges as the graph of the original. */
/* Both families read back as written; with npz, as epochs 0 and 1 of one archive (and epoch 1
   written twice: the second replaces the first's members). */
static void test_families(int npz)
{
  cdn_model_desc_t d, *r = NULL;
  cdn_rng_t        rng;
  int              id[4];
  cdn_graph_t    *g1 = NULL, *g2 = NULL;
  const char      *name[2] = {"resnet", "vgg"}, *npzname[2] = {"z/model-000000/epoch-000", "z/model-000000/epoch-001"};
  const char      *npzread[2] = {"z/model-000000.npz/epoch-000", "z/model-000000.npz/epoch-001"};

  const cdn_snapshot_format_t format = npz ? CDN_SNAPSHOT_NPZ : CDN_SNAPSHOT_NPY;
  for (int fam = 0; fam < 2; fam++) {
    if (fam == 0) fam_resnet(&d, id);
    else fam_vgg(&d);
    cdn_rng_seed(&rng, 11, fam);
    for (int k = 0; k < d.nlayers; k++) {
      cdn_layer_desc_t *l = &d.layer[k];
      int               n = l->op == CDN_OP_BATCHNORM ? l->out_c : cdn_layer_weight_count(l);
      for (int i = 0; l->weight && i < n; i++) l->weight[i] = (float)cdn_rng_normal(&rng);
      for (int i = 0; l->running_var && i < n; i++) l->running_var[i] = (float)(0.5 + cdn_rng_uniform(&rng));
      for (int i = 0; l->running_mean && i < n; i++) l->running_mean[i] = (float)cdn_rng_normal(&rng);
    }
    CHECK(!cdn_snapshot_write_as(at(npz ? npzname[fam] : name[fam], NULL), &d, format));
    if (npz && fam) CHECK(!cdn_snapshot_write_as(at(npzname[fam], NULL), &d, format));
    if (cdn_snapshot_read(at(npz ? npzread[fam] : name[fam], NULL), &r)) {
      CHECK(!cdn_error_message());
      fam_free(&d);
      continue;
    }
    int bad = r->nlayers != d.nlayers;
    for (int k = 0; !bad && k < d.nlayers; k++) {
      cdn_layer_desc_t *a = &d.layer[k], *b = &r->layer[k];
      bad += a->op != b->op || a->src != b->src || a->src2 != b->src2 || a->eps != b->eps || a->out_h != b->out_h;
      if (a->op == CDN_OP_BATCHNORM)
        bad += memcmp(a->weight, b->weight, a->out_c * 4) || memcmp(a->bias, b->bias, a->out_c * 4) ||
               memcmp(a->running_mean, b->running_mean, a->out_c * 4) || memcmp(a->running_var, b->running_var, a->out_c * 4);
    }
    CHECK(bad == 0);
    if (fam == 0) CHECK(r->layer[id[2] + 1].op == CDN_OP_ADD && r->layer[id[2] + 1].src2 == id[2]);
    CHECK(!cdn_graph_create(PETSC_COMM_SELF, &d, &g1) && !cdn_graph_create(PETSC_COMM_SELF, r, &g2));
    CHECK(!cdn_graph_set_weights(g1, &d) && !cdn_graph_set_weights(g2, r));
    CHECK(g1->ncoo == g2->ncoo && g1->ncoo > 0);
    bad = 0;
    for (PetscInt c = 0; c < g1->ncoo && g1->ncoo == g2->ncoo; c++) bad += g1->coo_v[c] != g2->coo_v[c];
    CHECK(bad == 0);
    cdn_graph_destroy(&g1), cdn_graph_destroy(&g2);
    CHECK(cdn_snapshot_destroy(&r) == 0);
    fam_free(&d);
  }
  if (npz) { /* two epochs, members once each; cut short, the archive is refused naming it */
    int *ep = NULL, n = 0;
    CHECK(!cdn_snapshot_epochs(at("z/model-000000.npz", NULL), &ep, &n) && n == 2 && ep[0] == 0 && ep[1] == 1);
    free(ep);
    CHECK(truncate(at("z/model-000000.npz", NULL), 100) == 0);
    CHECK(cdn_snapshot_read(at(npzread[1], NULL), &r) == CDN_ERR_CORRUPT);
    CHECK_CONTAINS(cdn_error_message(), "model-000000.npz: not a .npz or truncated");
    return;
  }
  /* An ADD of two different shapes is named. */
  fam_resnet(&d, id);
  d.layer[id[2] + 1].src2 = 2; /* relu1: 4 x 8 x 8 against 8 x 4 x 4 */
  CHECK(!cdn_snapshot_write(at("badadd", NULL), &d));
  CHECK(cdn_snapshot_read(at("badadd", NULL), &r) == CDN_ERR_CORRUPT);
  CHECK_CONTAINS(cdn_error_message(), "(b2.add): adds a 4 x 8 x 8 input to a 8 x 4 x 4 one");
  fam_free(&d);
}

int main(int argc, char **argv)
{
  cdn_model_desc_t d;
  char             cmd[300];
  if (cdn_initialize(&argc, &argv, NULL)) return 1;
  snprintf(root, sizeof root, "/tmp/cdn_test_snapshot_%ld", (long)getpid());
  CHECK(!cdn_mkdir_p(root));
  lenet(&d);
  test_round_trip(&d);
  test_numpy();
  test_damage(&d);
  test_checksums(&d);
  test_families(0);
  test_families(1);
  free_lenet(&d);
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
  if (!check_failures) CHECK(system(cmd) == 0);
  cdn_finalize();
  return CHECK_STATUS();
}
