/* Dynamic scheduling without a dispatcher: the next model id is a counter in an MPI window on the
   root, and a rank that frees up takes the next id with an atomic fetch-and-add. Every rank,
   the root included, trains; nobody waits for a reply from a busy peer. The same window holds a
   stop word that a rank told to stop (SIGTERM, SIGUSR1) raises so that the others stop too.

   Progress: on one node Open MPI serves the window from shared memory (osc/sm), so the atomics
   complete while the root computes. Across nodes the one-sided component (osc/rdma or osc/ucx)
   needs network atomics for the same; without them the operations still complete, later. */
#include "run_internal.h"

enum { SCHED_NEXT, SCHED_STOP, SCHED_WORDS };

static PetscErrorCode sched_open(MPI_Comm comm, int first, cdn_sched_t *s)
{
  PetscMPIInt rank;
  MPI_Aint    bytes;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  bytes = rank == 0 ? (MPI_Aint)(SCHED_WORDS * sizeof(long)) : 0;
  PetscCallMPI(MPI_Win_allocate(bytes, sizeof(long), MPI_INFO_NULL, comm, &s->base, &s->win));
  if (rank == 0) {
    s->base[SCHED_NEXT] = first;
    s->base[SCHED_STOP] = 0;
  }
  /* nobody takes a model before the root has set the counter */
  PetscCallMPI(MPI_Barrier(comm));
  PetscCallMPI(MPI_Win_lock_all(MPI_MODE_NOCHECK, s->win));
  s->locked = 1;
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_sched_create(MPI_Comm comm, int first, cdn_sched_t **out)
{
  cdn_sched_t   *s;
  PetscErrorCode ierr;

  PetscFunctionBeginUser;
  *out = NULL;
  PetscCall(PetscNew(&s));
  s->win = MPI_WIN_NULL;
  ierr   = sched_open(comm, first, s);
  if (ierr) {
    PetscCall(cdn_sched_destroy(&s));
    PetscCall(ierr);
  }
  *out = s;
  PetscFunctionReturn(0);
}

static PetscErrorCode fetch_op(cdn_sched_t *s, int word, long add, MPI_Op op, long *old)
{
  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Fetch_and_op(&add, old, MPI_LONG, 0, word, op, s->win));
  PetscCallMPI(MPI_Win_flush(0, s->win));
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_sched_next(cdn_sched_t *s, long *model)
{
  PetscFunctionBeginUser;
  PetscCall(fetch_op(s, SCHED_NEXT, 1, MPI_SUM, model));
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_sched_raise_stop(cdn_sched_t *s)
{
  long old;

  PetscFunctionBeginUser;
  PetscCall(fetch_op(s, SCHED_STOP, 1, MPI_REPLACE, &old));
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_sched_stop_raised(cdn_sched_t *s, PetscBool *stop)
{
  long v;

  PetscFunctionBeginUser;
  PetscCall(fetch_op(s, SCHED_STOP, 0, MPI_NO_OP, &v));
  *stop = v ? PETSC_TRUE : PETSC_FALSE;
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_sched_destroy(cdn_sched_t **s)
{
  PetscFunctionBeginUser;
  if (!s || !*s) PetscFunctionReturn(0);
  if ((*s)->locked) PetscCallMPI(MPI_Win_unlock_all((*s)->win));
  if ((*s)->win != MPI_WIN_NULL) PetscCallMPI(MPI_Win_free(&(*s)->win));
  PetscCall(PetscFree(*s));
  PetscFunctionReturn(0);
}
