/* The gathered results from the root to every rank, so that prediction tasks can run anywhere.
   The per-epoch arrays (curves, timing, features: nearly all of a table, about 5 KB a model in the
   zoo benchmark) are held once per node by the ranks other than the root: the first of them on a
   node puts them in POSIX shared memory, the others map it read-only. A copy per rank would
   multiply a large population's table by the ranks a node runs. Where shared memory cannot be had
   (no /dev/shm, or too small) each rank of that node takes a copy of its own, as with
   -cnndyn_shared_table 0. The segment's name is removed the moment it is made: the other ranks
   open the maker's descriptor through /proc, so nothing is left behind however the job ends (a
   name kept until every rank had mapped it stayed in /dev/shm, the table's size, when a rank was
   killed meanwhile); unmapping it is local to each rank. */
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cnndyn/results.h"
#include "cnndyn/util.h"
#include "records_impl.h"

/* MPI counts are ints: arrays go in pieces of this many bytes (a test option makes it small) */
#define BCAST_PIECE ((size_t)1 << 30)

/* The broadcast's options (docs/cli.md): -cnndyn_shared_table, and the test hooks' world ranks
   (-1: none) failing their part in sharing or killed there, and their piece size. */
typedef struct {
  int    shared, fail_rank, kill_rank;
  size_t piece;
} bcast_options_t;

static PetscErrorCode bcast_options(bcast_options_t *o)
{
  int p = 0;

  PetscFunctionBeginUser;
  *o = (bcast_options_t){.shared = 1, .fail_rank = -1, .kill_rank = -1, .piece = BCAST_PIECE};
  PetscCall(cdn_option_int(NULL, "-cnndyn_shared_table", 0, 1, &o->shared));
  PetscCall(cdn_option_int(NULL, "-cnndyn_test_shm_fail", -1, INT_MAX, &o->fail_rank));
  PetscCall(cdn_option_int(NULL, "-cnndyn_test_shm_kill", -1, INT_MAX, &o->kill_rank));
  PetscCall(cdn_option_int(NULL, "-cnndyn_test_bcast_piece", 0, INT_MAX, &p));
  if (p) o->piece = (size_t)p;
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_results_bcast_options_check(void)
{
  bcast_options_t o;

  PetscFunctionBeginUser;
  PetscCall(bcast_options(&o));
  PetscFunctionReturn(0);
}

/* n bytes at p from rank 0 of comm, in pieces */
static PetscErrorCode bcast_bytes(void *p, size_t n, size_t piece, MPI_Comm comm)
{
  PetscFunctionBeginUser;
  for (size_t at = 0; at < n; at += piece)
    PetscCallMPI(MPI_Bcast((char *)p + at, (int)(n - at < piece ? n - at : piece), MPI_BYTE, 0, comm));
  PetscFunctionReturn(0);
}

/* A shared mapping of `bytes` for the ranks of grp: made (read-write) by grp's first rank, mapped
   read-only by the others; *map NULL on every rank of grp when any of them failed. On its own rank,
   hook 1 (the test hook -cnndyn_test_shm_fail RANK) plays a failure, hook 2 (-cnndyn_test_shm_kill
   RANK) a rank killed while the others share, as by the OOM killer or scancel. */
static PetscErrorCode map_shared(MPI_Comm grp, size_t bytes, int hook, void **map)
{
  struct {
    int                ok, fd;
    long               pid;
    unsigned long long dev, ino;
  } made = {0, -1, 0, 0, 0};
  struct stat st;
  static int  made_here; /* names made by this process: each segment its own */
  PetscMPIInt grank;
  int         fd = -1, ok, all;
  void       *p = MAP_FAILED;

  PetscFunctionBeginUser;
  *map = NULL;
  PetscCallMPI(MPI_Comm_rank(grp, &grank));
  if (hook == 2) (void)raise(SIGKILL);
  if (grank == 0 && !hook) {
    char name[64];
    snprintf(name, sizeof name, "/cnndyn.%ld.%d", (long)getpid(), made_here++);
    fd = shm_open(name, O_CREAT | O_EXCL | O_RDWR, 0600);
    if (fd >= 0) (void)shm_unlink(name); /* at once: the descriptor is the segment from now on */
    /* reserved now: tmpfs would otherwise fail a write beyond its size with SIGBUS */
    if (fd >= 0 && posix_fallocate(fd, 0, (off_t)bytes) == 0) p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    made.ok = p != MAP_FAILED && fstat(fd, &st) == 0, made.fd = fd, made.pid = (long)getpid();
    if (made.ok) made.dev = st.st_dev, made.ino = st.st_ino;
  }
  PetscCallMPI(MPI_Bcast(&made, (int)sizeof made, MPI_BYTE, 0, grp));
  if (made.ok && grank != 0 && !hook) { /* the maker's descriptor: same node, same user */
    char path[64];
    snprintf(path, sizeof path, "/proc/%ld/fd/%d", made.pid, made.fd);
    fd = open(path, O_RDONLY);
    /* the same file, not another process's descriptor: a rank in its own PID namespace sees
       another process under that pid */
    if (fd >= 0 && fstat(fd, &st) == 0 && st.st_dev == made.dev && st.st_ino == made.ino)
      p = mmap(NULL, bytes, PROT_READ, MAP_SHARED, fd, 0);
  }
  ok = p != MAP_FAILED;
  PetscCallMPI(MPI_Allreduce(&ok, &all, 1, MPI_INT, MPI_LAND, grp)); /* the maker's fd is open until here */
  if (fd >= 0) (void)close(fd);
  if (all) *map = p;
  else if (ok) (void)munmap(p, bytes);
  PetscFunctionReturn(0);
}

/* Every rank's res has the root's shape (allocated on the others), then the arrays follow. */
static PetscErrorCode bcast(MPI_Comm comm, PetscMPIInt rank, cdn_results_t *res)
{
  int             hdr[4] = {res->nmodels, res->epochs, res->nfeat, res->num_classes}, mine;
  size_t          cells, bytes;
  bcast_options_t o;
  PetscMPIInt world;
  MPI_Comm    node, grp = MPI_COMM_NULL, recv;
  void       *map = NULL;

  PetscFunctionBeginUser;
  PetscCall(bcast_options(&o));
  PetscCallMPI(MPI_Comm_rank(PETSC_COMM_WORLD, &world));
  PetscCallMPI(MPI_Bcast(hdr, 4, MPI_INT, 0, comm));
  cells = (size_t)hdr[0] * (hdr[1] + 1);
  bytes = sizeof(double) * cdn_results_epoch_doubles(hdr[0], hdr[1], hdr[2]);
  /* grp: this node's ranks other than the root, which share one copy */
  PetscCallMPI(MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, rank, MPI_INFO_NULL, &node));
  PetscCallMPI(MPI_Comm_split(node, rank == 0 ? MPI_UNDEFINED : 0, rank, &grp));
  PetscCallMPI(MPI_Comm_free(&node));
  if (grp != MPI_COMM_NULL && o.shared && bytes)
    PetscCall(map_shared(grp, bytes, world == o.kill_rank ? 2 : world == o.fail_rank ? 1 : 0, &map));
  if (rank != 0) {
    res->num_classes = hdr[3];
    PetscCall(cdn_results_alloc_models(res, hdr[0]));
    if (map) PetscCall(cdn_results_map_epochs(res, hdr[1], hdr[2], map, bytes));
    else PetscCall(cdn_results_alloc_epochs(res, hdr[1], hdr[2]));
  }
  PetscCall(bcast_bytes(res->columns, sizeof(cdn_column_t) * hdr[2], o.piece, comm));
  PetscCall(bcast_bytes(res->config, sizeof(cdn_model_config_t) * hdr[0], o.piece, comm));
  PetscCall(bcast_bytes(res->status, sizeof(cdn_status_t) * hdr[0], o.piece, comm));
  PetscCall(bcast_bytes(res->diverged_epoch, sizeof(int) * hdr[0], o.piece, comm));
  PetscCall(bcast_bytes(res->epochs_done, sizeof(int) * hdr[0], o.piece, comm));
  PetscCall(bcast_bytes(res->rank, sizeof(int) * hdr[0], o.piece, comm));
  PetscCall(bcast_bytes(res->test_acc, sizeof(double) * hdr[0], o.piece, comm));
  PetscCall(bcast_bytes(res->pruned_epoch, sizeof(int) * hdr[0], o.piece, comm));
  PetscCall(bcast_bytes(res->pruned_test_acc, sizeof(double) * hdr[0], o.piece, comm));
  /* the per-epoch arrays go to the root's receivers: the first rank of a shared copy, and every
     rank that holds its own */
  {
    PetscMPIInt grank = 0;
    if (grp != MPI_COMM_NULL) PetscCallMPI(MPI_Comm_rank(grp, &grank));
    mine = rank == 0 || !map || grank == 0;
  }
  PetscCallMPI(MPI_Comm_split(comm, mine ? 0 : MPI_UNDEFINED, rank, &recv));
  if (mine) {
    PetscCall(bcast_bytes(res->curves, sizeof(double) * cells * CDN_CURVE_COLS, o.piece, recv));
    PetscCall(bcast_bytes(res->timing, sizeof(double) * cells * CDN_TIME_COLS, o.piece, recv));
    PetscCall(bcast_bytes(res->features, sizeof(double) * cells * hdr[2], o.piece, recv));
    PetscCallMPI(MPI_Comm_free(&recv));
  }
  if (map) { /* filled: read-only for its maker too (a write would change every rank's copy), then
                the others may read */
    int protected = mprotect(map, bytes, PROT_READ) == 0;
    PetscCallMPI(MPI_Barrier(grp));
    PetscCheck(protected, PETSC_COMM_SELF, PETSC_ERR_SYS, "results table: mprotect failed");
  }
  if (grp != MPI_COMM_NULL) { /* what -info shows: the tests check that the sharing happened */
    PetscMPIInt gsize;
    PetscCallMPI(MPI_Comm_size(grp, &gsize));
    PetscCall(PetscInfo(NULL, "results table: %zu bytes of per-epoch arrays %s %d rank(s) of this node\n", bytes,
                        map ? "shared by" : "copied to each of", (int)gsize));
    PetscCallMPI(MPI_Comm_free(&grp));
  }
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_results_bcast(MPI_Comm comm, cdn_results_t **res)
{
  PetscMPIInt    rank;
  PetscErrorCode ierr;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  PetscCheck(rank == 0 ? *res != NULL : *res == NULL, PETSC_COMM_SELF, PETSC_ERR_ARG_WRONGSTATE,
             "cdn_results_bcast: a table on the root and none elsewhere");
  if (rank != 0) PetscCall(cdn_results_create(res));
  ierr = bcast(comm, rank, *res);
  if (ierr && rank != 0) PetscCall(cdn_results_destroy(res));
  PetscCall(ierr);
  PetscFunctionReturn(0);
}
