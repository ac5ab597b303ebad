/* Checkpoints under DIR/checkpoints/, one file per model, each written whole or not at all
   (cdn_afile: temporary name, fsync, rename):
     model-MMMMMM.ckpt  a model in training: the epoch it completed, its training random stream,
                        its record so far and the network's state (parameters + optimiser)
     model-MMMMMM.done  a finished model: its record, exactly what the gather needs
     complete           the reports were written; resuming has nothing left to do
   A restart reloads the state at the start of the next epoch, whose data order is then drawn from
   the restored stream: the continued run is bit-identical to one that never stopped. */
#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cnndyn/nn.h"
#include "run_internal.h"

#define CKPT_MAGIC "CDNCKPT1"
#define DONE_MAGIC "CDNDONE1"

typedef struct {
  char     magic[8];
  int32_t  model, epoch, reclen, pad;
  uint64_t state_bytes;
  uint64_t rng[4];
} ckpt_header_t;

static void ckpt_path(char *buf, size_t n, const char *outdir, int model, const char *ext)
{
  snprintf(buf, n, "%s/checkpoints/model-%06d.%s", outdir, model, ext);
}

static PetscErrorCode write_all(cdn_afile_t *af, const void *p, size_t n)
{
  PetscFunctionBeginUser;
  if (fwrite(p, 1, n, af->fp) != n) {
    cdn_afile_abort(af);
    SETERRQ(PETSC_COMM_SELF, CDN_ERR_WRITE, "%s: cannot write: %s", af->path, strerror(errno));
  }
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_ckpt_save(const char *outdir, int model, int epoch, const cdn_rng_t *rng, const double *rec,
                             int reclen, const cdn_net_t *net)
{
  char          path[PETSC_MAX_PATH_LEN];
  cdn_afile_t   af = {0};
  ckpt_header_t h  = {.model = model, .epoch = epoch, .reclen = reclen, .state_bytes = cdn_net_state_bytes(net)};
  void         *state;

  PetscFunctionBeginUser;
  memcpy(h.magic, CKPT_MAGIC, 8);
  memcpy(h.rng, rng->s, sizeof h.rng);
  PetscCall(PetscMalloc(h.state_bytes, &state));
  cdn_net_state_save(net, state);
  ckpt_path(path, sizeof path, outdir, model, "ckpt");
  PetscCall(cdn_afile_open(&af, path));
  PetscCall(write_all(&af, &h, sizeof h));
  PetscCall(write_all(&af, rec, sizeof(double) * reclen));
  PetscCall(write_all(&af, state, h.state_bytes));
  PetscCall(cdn_afile_commit(&af));
  PetscCall(PetscFree(state));
  PetscFunctionReturn(0);
}

/* Reads a whole checkpoint file; *found is false when there is none. */
static PetscErrorCode read_file(const char *path, char **buf, size_t *n, PetscBool *found)
{
  FILE       *fp = fopen(path, "rb");
  struct stat st;

  PetscFunctionBeginUser;
  *found = PETSC_FALSE;
  *buf   = NULL;
  if (!fp) {
    PetscCheck(errno == ENOENT, PETSC_COMM_SELF, CDN_ERR_OPEN, "%s: cannot read: %s", path, strerror(errno));
    PetscFunctionReturn(0);
  }
  if (fstat(fileno(fp), &st) != 0) st.st_size = 0;
  *n = (size_t)st.st_size;
  if (PetscMalloc(*n + 1, buf) || fread(*buf, 1, *n, fp) != *n) {
    fclose(fp);
    PetscCall(PetscFree(*buf));
    SETERRQ(PETSC_COMM_SELF, CDN_ERR_OPEN, "%s: cannot read", path);
  }
  fclose(fp);
  *found = PETSC_TRUE;
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_ckpt_load(const char *outdir, int model, int *epoch, cdn_rng_t *rng, double *rec, int reclen,
                             cdn_net_t *net, PetscBool *found)
{
  char          path[PETSC_MAX_PATH_LEN], *buf;
  size_t        n;
  ckpt_header_t h;

  PetscFunctionBeginUser;
  ckpt_path(path, sizeof path, outdir, model, "ckpt");
  PetscCall(read_file(path, &buf, &n, found));
  if (!*found) PetscFunctionReturn(0);
  if (n >= sizeof h) memcpy(&h, buf, sizeof h);
  if (n < sizeof h || memcmp(h.magic, CKPT_MAGIC, 8) || h.model != model || h.reclen != reclen ||
      n != sizeof h + sizeof(double) * reclen + h.state_bytes) {
    PetscCall(PetscFree(buf));
    SETERRQ(PETSC_COMM_SELF, CDN_ERR_CORRUPT, "%s: not a checkpoint of model %d of this job (remove it to retrain the model)", path, model);
  }
  *epoch = h.epoch;
  memcpy(rng->s, h.rng, sizeof h.rng);
  memcpy(rec, buf + sizeof h, sizeof(double) * reclen);
  PetscCall(cdn_net_state_load(net, buf + sizeof h + sizeof(double) * reclen, h.state_bytes));
  PetscCall(PetscFree(buf));
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_ckpt_save_done(const char *outdir, int model, const double *rec, int reclen)
{
  char        path[PETSC_MAX_PATH_LEN];
  cdn_afile_t af = {0};
  int32_t     hdr[2] = {model, reclen};

  PetscFunctionBeginUser;
  ckpt_path(path, sizeof path, outdir, model, "done");
  PetscCall(cdn_afile_open(&af, path));
  PetscCall(write_all(&af, DONE_MAGIC, 8));
  PetscCall(write_all(&af, hdr, sizeof hdr));
  PetscCall(write_all(&af, rec, sizeof(double) * reclen));
  PetscCall(cdn_afile_commit(&af));
  /* the record now stands for the model; its training state is no longer needed */
  ckpt_path(path, sizeof path, outdir, model, "ckpt");
  PetscCheck(remove(path) == 0 || errno == ENOENT, PETSC_COMM_SELF, CDN_ERR_WRITE, "%s: cannot remove: %s", path,
             strerror(errno));
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_ckpt_load_done(const char *outdir, int model, double *rec, int reclen, PetscBool *found)
{
  char    path[PETSC_MAX_PATH_LEN], *buf;
  size_t  n;
  int32_t hdr[2];

  PetscFunctionBeginUser;
  ckpt_path(path, sizeof path, outdir, model, "done");
  PetscCall(read_file(path, &buf, &n, found));
  if (!*found) PetscFunctionReturn(0);
  if (n >= 8 + sizeof hdr) memcpy(hdr, buf + 8, sizeof hdr);
  if (n != 8 + sizeof hdr + sizeof(double) * reclen || memcmp(buf, DONE_MAGIC, 8) || hdr[0] != model ||
      hdr[1] != reclen) {
    PetscCall(PetscFree(buf));
    SETERRQ(PETSC_COMM_SELF, CDN_ERR_CORRUPT, "%s: not a finished record of model %d of this job", path, model);
  }
  memcpy(rec, buf + 8 + sizeof hdr, sizeof(double) * reclen);
  PetscCall(PetscFree(buf));
  PetscFunctionReturn(0);
}

/* A snapshot folder written by a run that was killed before the epoch's checkpoint: the resumed
   run writes that epoch again, and snapshots never replace an existing folder. */
PetscErrorCode cdn_ckpt_drop_snapshot(const char *dir)
{
  DIR           *d = opendir(dir);
  struct dirent *e;
  char           path[PETSC_MAX_PATH_LEN + 256];

  PetscFunctionBeginUser;
  if (!d) PetscFunctionReturn(0);
  while ((e = readdir(d)))
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
      snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
      remove(path);
    }
  closedir(d);
  PetscCheck(rmdir(dir) == 0, PETSC_COMM_SELF, CDN_ERR_WRITE, "%s: cannot remove the unfinished snapshot: %s", dir,
             strerror(errno));
  PetscFunctionReturn(0);
}
