/* Checkpoints under DIR/checkpoints/, one file per model, each written whole or not at all
   (cdn_afile: temporary name, rename) and ending with the CRC-32 of its other bytes:
     model-MMMMMM.ckpt  a model in training: the epoch it completed, its training random stream,
                        its record so far and the network's state (parameters + optimiser)
     model-MMMMMM.done  a finished model: its record, exactly what the gather needs
     complete           the reports were written; resuming has nothing left to do
   A restart reloads the state at the start of the next epoch, whose data order is then drawn from
   the restored stream: the continued run is bit-identical to one that never stopped. A damaged
   file (bad checksum, wrong size, another model's) costs only that model's progress: it is
   reported and the model trains again from scratch, which gives the same bytes as before.
   That is why these files are not fsynced one by one (two fsyncs took 1.3 of a tiny model's 11 ms,
   issue 15): a killed process loses nothing it renamed into place, and after a crash of the
   machine a file the kernel had not yet written back (vm.dirty_expire_centisecs, 30 s by default)
   is missing, which resumes the model from its previous checkpoint or from scratch, or torn,
   which the checksum and size find. Either way the resumed run gives the same bytes. Each rank
   syncs the file system once when its share ends (share.c), so a run that exited has its
   checkpoints on disk. */
#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include "cnndyn/nn.h"
#include "run_internal.h"

#define CKPT_MAGIC "CDNCKPT2" /* 1: before the checksum */
#define DONE_MAGIC "CDNDONE2"

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

/* Writes n bytes and adds them to *crc. */
static PetscErrorCode write_all(cdn_afile_t *af, const void *p, size_t n, uint32_t *crc)
{
  PetscFunctionBeginUser;
  *crc = (uint32_t)crc32_z(*crc, p, n);
  if (fwrite(p, 1, n, af->fp) != n) {
    cdn_afile_abort(af);
    SETERRQ(PETSC_COMM_SELF, CDN_ERR_WRITE, "%s: cannot write: %s", af->path, strerror(errno));
  }
  PetscFunctionReturn(0);
}

/* The checksum of everything written, then the file into place. */
static PetscErrorCode commit_summed(cdn_afile_t *af, uint32_t crc)
{
  uint32_t ignored = 0;

  PetscFunctionBeginUser;
  PetscCall(write_all(af, &crc, sizeof crc, &ignored));
  af->unsynced = PETSC_TRUE; /* the checksum finds a file torn by a crash (above) */
  PetscCall(cdn_afile_commit(af));
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_ckpt_save(const char *outdir, int model, int epoch, const cdn_rng_t *rng, const double *rec,
                             int reclen, const cdn_net_t *net)
{
  char          path[PETSC_MAX_PATH_LEN];
  cdn_afile_t   af = {0};
  ckpt_header_t h  = {.model = model, .epoch = epoch, .reclen = reclen, .state_bytes = cdn_net_state_bytes(net)};
  void         *state;
  uint32_t      crc  = 0;
  PetscErrorCode ierr;

  PetscFunctionBeginUser;
  memcpy(h.magic, CKPT_MAGIC, 8);
  memcpy(h.rng, rng->s, sizeof h.rng);
  PetscCall(PetscMalloc(h.state_bytes, &state));
  cdn_net_state_save(net, state);
  ckpt_path(path, sizeof path, outdir, model, "ckpt");
  ierr = cdn_afile_open(&af, path); /* a failure (a full disk) must not leak the state either */
  if (!ierr) ierr = write_all(&af, &h, sizeof h, &crc);
  if (!ierr) ierr = write_all(&af, rec, sizeof(double) * reclen, &crc);
  if (!ierr) ierr = write_all(&af, state, h.state_bytes, &crc);
  PetscCall(PetscFree(state));
  PetscCall(ierr);
  PetscCall(commit_summed(&af, crc));
  PetscFunctionReturn(0);
}

/* Reads a whole checkpoint file; *found is false when there is none. *n excludes the checksum,
   which *summed says was right. */
static PetscErrorCode read_file(const char *path, char **buf, size_t *n, PetscBool *found, PetscBool *summed)
{
  uint32_t    want;
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
  *found  = PETSC_TRUE;
  *summed = PETSC_FALSE;
  if (*n < sizeof want) PetscFunctionReturn(0);
  *n -= sizeof want;
  memcpy(&want, *buf + *n, sizeof want);
  *summed = (uint32_t)crc32_z(0, (const Bytef *)*buf, *n) == want ? PETSC_TRUE : PETSC_FALSE;
  PetscFunctionReturn(0);
}

/* A damaged file costs the model its progress, not the run: said once, on stderr and in the log. */
static void report_damaged(FILE *log, const char *path, const char *why, int model)
{
  if (!log) return;
  fprintf(stderr, "cnndyn: warning: %s: %s; model %d is trained again from scratch\n", path, why, model);
  fprintf(log, "model %d: %s: %s; trained again from scratch\n", model, path, why);
  fflush(log);
}

PetscErrorCode cdn_ckpt_load(const char *outdir, int model, int *epoch, cdn_rng_t *rng, double *rec, int reclen,
                             cdn_net_t *net, FILE *log, PetscBool *found)
{
  char          path[PETSC_MAX_PATH_LEN], *buf;
  size_t        n;
  ckpt_header_t h;
  PetscBool     summed;

  PetscFunctionBeginUser;
  ckpt_path(path, sizeof path, outdir, model, "ckpt");
  PetscCall(read_file(path, &buf, &n, found, &summed));
  if (!*found) PetscFunctionReturn(0);
  if (n >= sizeof h) memcpy(&h, buf, sizeof h);
  if (!summed || n < sizeof h || memcmp(h.magic, CKPT_MAGIC, 8) || h.model != model || h.reclen != reclen ||
      n != sizeof h + sizeof(double) * reclen + h.state_bytes || h.state_bytes != cdn_net_state_bytes(net)) {
    report_damaged(log, path, summed ? "not a checkpoint of this model and job" : "damaged (checksum mismatch)", model);
    *found = PETSC_FALSE;
    PetscCall(PetscFree(buf));
    PetscFunctionReturn(0);
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
  uint32_t    crc    = 0;

  PetscFunctionBeginUser;
  ckpt_path(path, sizeof path, outdir, model, "done");
  PetscCall(cdn_afile_open(&af, path));
  PetscCall(write_all(&af, DONE_MAGIC, 8, &crc));
  PetscCall(write_all(&af, hdr, sizeof hdr, &crc));
  PetscCall(write_all(&af, rec, sizeof(double) * reclen, &crc));
  PetscCall(commit_summed(&af, crc));
  /* the record now stands for the model; its training state is no longer needed */
  ckpt_path(path, sizeof path, outdir, model, "ckpt");
  PetscCheck(remove(path) == 0 || errno == ENOENT, PETSC_COMM_SELF, CDN_ERR_WRITE, "%s: cannot remove: %s", path,
             strerror(errno));
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_ckpt_load_done(const char *outdir, int model, double *rec, int reclen, FILE *log, PetscBool *found)
{
  char      path[PETSC_MAX_PATH_LEN], *buf;
  size_t    n;
  int32_t   hdr[2];
  PetscBool summed;

  PetscFunctionBeginUser;
  ckpt_path(path, sizeof path, outdir, model, "done");
  PetscCall(read_file(path, &buf, &n, found, &summed));
  if (!*found) PetscFunctionReturn(0);
  if (n >= 8 + sizeof hdr) memcpy(hdr, buf + 8, sizeof hdr);
  if (!summed || n != 8 + sizeof hdr + sizeof(double) * reclen || memcmp(buf, DONE_MAGIC, 8) || hdr[0] != model ||
      hdr[1] != reclen) {
    report_damaged(log, path, summed ? "not a finished record of this model and job" : "damaged (checksum mismatch)",
                   model);
    *found = PETSC_FALSE;
    PetscCall(PetscFree(buf));
    PetscFunctionReturn(0);
  }
  memcpy(rec, buf + 8 + sizeof hdr, sizeof(double) * reclen);
  PetscCall(PetscFree(buf));
  PetscFunctionReturn(0);
}

/* A snapshot folder that the resumed run writes again (train.c, resume_model says when). */
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
