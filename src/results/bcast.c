/* The gathered results from the root to every rank, so that prediction tasks can run anywhere.
   The per-epoch arrays (curves, timing, features: nearly all of a table, about 5 KB a model in the
   zoo benchmark) are held once per node by the ranks other than the root: the first of them on a
   node puts them in POSIX shared memory, the others map it read-only. A copy per rank would
   multiply a large population's table by the ranks a node runs. Where shared memory cannot be had
   (no /dev/shm, or too small) each rank of that node takes a copy of its own, as with
   -cnndyn_shared_table 0. The name of the segment is removed as soon as every rank has mapped it,
   so nothing is left behind however the job ends; unmapping it is local to each rank. */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>
#include "cnndyn/results.h"
#include "cnndyn/util.h"
#include "records_impl.h"

/* MPI counts are ints: arrays go in pieces of this many bytes (a test option makes it small) */
#define BCAST_PIECE ((size_t)1 << 30)

/* The broadcast's options (docs/cli.md): -cnndyn_shared_table, and the test hooks' failing rank
   (-1: none) and piece size. */
static PetscErrorCode bcast_options(int *shared, int *fail_rank, size_t *piece)
{
  int p = 0;

  PetscFunctionBeginUser;
  *shared = 1, *fail_rank = -1, *piece = BCAST_PIECE;
  PetscCall(cdn_option_int(NULL, "-cnndyn_shared_table", 0, 1, shared));
  PetscCall(cdn_option_int(NULL, "-cnndyn_test_shm_fail", -1, INT_MAX, fail_rank));
  PetscCall(cdn_option_int(NULL, "-cnndyn_test_bcast_piece", 0, INT_MAX, &p));
  if (p) *piece = (size_t)p;
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_results_bcast_options_check(void)
{
  int    shared, fail_rank;
  size_t piece;

  PetscFunctionBeginUser;
  PetscCall(bcast_options(&shared, &fail_rank, &piece));
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
   read-only by the others; *map NULL on every rank of grp when any of them failed, and on its own
   rank fail (the test hook -cnndyn_test_shm_fail RANK) plays a failure. */
static PetscErrorCode map_shared(MPI_Comm grp, size_t bytes, PetscBool fail, void **map)
{
  struct {
    int  ok;
    char name[64];
  } made = {0, ""};
  static int  made_here; /* names made by this process: each segment its own */
  PetscMPIInt grank;
  int         fd, ok, all;
  void       *p = MAP_FAILED;

  PetscFunctionBeginUser;
  *map = NULL;
  PetscCallMPI(MPI_Comm_rank(grp, &grank));
  if (grank == 0 && !fail) {
    snprintf(made.name, sizeof made.name, "/cnndyn.%ld.%d", (long)getpid(), made_here++);
    fd = shm_open(made.name, O_CREAT | O_EXCL | O_RDWR, 0600);
    /* reserved now: tmpfs would otherwise fail a write beyond its size with SIGBUS */
    if (fd >= 0 && posix_fallocate(fd, 0, (off_t)bytes) == 0) p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (fd >= 0) (void)close(fd);
    made.ok = p != MAP_FAILED;
    if (fd >= 0 && !made.ok) (void)shm_unlink(made.name);
  }
  PetscCallMPI(MPI_Bcast(&made, (int)sizeof made, MPI_BYTE, 0, grp));
  if (made.ok && grank != 0 && !fail) {
    fd = shm_open(made.name, O_RDONLY, 0);
    if (fd >= 0) p = mmap(NULL, bytes, PROT_READ, MAP_SHARED, fd, 0), (void)close(fd);
  }
  ok = p != MAP_FAILED;
  PetscCallMPI(MPI_Allreduce(&ok, &all, 1, MPI_INT, MPI_LAND, grp));
  if (grank == 0 && made.ok) (void)shm_unlink(made.name); /* every rank has mapped it or given up */
  if (all) *map = p;
  else if (ok) (void)munmap(p, bytes);
  PetscFunctionReturn(0);
}

/* Every rank's res has the root's shape (allocated on the others), then the arrays follow. */
static PetscErrorCode bcast(MPI_Comm comm, PetscMPIInt rank, cdn_results_t *res)
{
  int         hdr[4] = {res->nmodels, res->epochs, res->nfeat, res->num_classes}, shared, fail_rank, mine;
  size_t      piece, cells, bytes;
  PetscMPIInt world;
  MPI_Comm    node, grp = MPI_COMM_NULL, recv;
  void       *map = NULL;

  PetscFunctionBeginUser;
  PetscCall(bcast_options(&shared, &fail_rank, &piece));
  PetscCallMPI(MPI_Comm_rank(PETSC_COMM_WORLD, &world));
  PetscCallMPI(MPI_Bcast(hdr, 4, MPI_INT, 0, comm));
  cells = (size_t)hdr[0] * (hdr[1] + 1);
  bytes = sizeof(double) * cdn_results_epoch_doubles(hdr[0], hdr[1], hdr[2]);
  /* grp: this node's ranks other than the root, which share one copy */
  PetscCallMPI(MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, rank, MPI_INFO_NULL, &node));
  PetscCallMPI(MPI_Comm_split(node, rank == 0 ? MPI_UNDEFINED : 0, rank, &grp));
  PetscCallMPI(MPI_Comm_free(&node));
  if (grp != MPI_COMM_NULL && shared && bytes) PetscCall(map_shared(grp, bytes, world == fail_rank, &map));
  if (rank != 0) {
    res->num_classes = hdr[3];
    PetscCall(cdn_results_alloc_models(res, hdr[0]));
    if (map) PetscCall(cdn_results_map_epochs(res, hdr[1], hdr[2], map, bytes));
    else PetscCall(cdn_results_alloc_epochs(res, hdr[1], hdr[2]));
  }
  PetscCall(bcast_bytes(res->columns, sizeof(cdn_column_t) * hdr[2], piece, comm));
  PetscCall(bcast_bytes(res->config, sizeof(cdn_model_config_t) * hdr[0], piece, comm));
  PetscCall(bcast_bytes(res->status, sizeof(cdn_status_t) * hdr[0], piece, comm));
  PetscCall(bcast_bytes(res->diverged_epoch, sizeof(int) * hdr[0], piece, comm));
  PetscCall(bcast_bytes(res->epochs_done, sizeof(int) * hdr[0], piece, comm));
  PetscCall(bcast_bytes(res->rank, sizeof(int) * hdr[0], piece, comm));
  PetscCall(bcast_bytes(res->test_acc, sizeof(double) * hdr[0], piece, comm));
  PetscCall(bcast_bytes(res->pruned_epoch, sizeof(int) * hdr[0], piece, comm));
  PetscCall(bcast_bytes(res->pruned_test_acc, sizeof(double) * hdr[0], piece, comm));
  /* the per-epoch arrays go to the root's receivers: the first rank of a shared copy, and every
     rank that holds its own */
  {
    PetscMPIInt grank = 0;
    if (grp != MPI_COMM_NULL) PetscCallMPI(MPI_Comm_rank(grp, &grank));
    mine = rank == 0 || !map || grank == 0;
  }
  PetscCallMPI(MPI_Comm_split(comm, mine ? 0 : MPI_UNDEFINED, rank, &recv));
  if (mine) {
    PetscCall(bcast_bytes(res->curves, sizeof(double) * cells * CDN_CURVE_COLS, piece, recv));
    PetscCall(bcast_bytes(res->timing, sizeof(double) * cells * CDN_TIME_COLS, piece, recv));
    PetscCall(bcast_bytes(res->features, sizeof(double) * cells * hdr[2], piece, recv));
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
