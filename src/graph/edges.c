/* Matrices from plain edge lists: the statistics work on any symmetric graph, not only on the
   rolled graph of a network, and tests need graphs with known answers. */
#include "cnndyn/graph.h"
#include "cnndyn/util.h"
#include "graph_impl.h"

/* Entries grouped by destination rank, each rank's in their order (off[] is where each group
   starts); then sent, rcnt/roff saying what arrives from whom. */
static PetscErrorCode send_grouped(MPI_Comm comm, PetscInt n, const PetscMPIInt *owner, const PetscInt *ci, const PetscInt *cj,
                                   const PetscScalar *cv, PetscMPIInt *cnt, PetscMPIInt *off, PetscMPIInt *rcnt,
                                   PetscMPIInt *roff, PetscInt *ri, PetscInt *rj, PetscScalar *rv)
{
  PetscMPIInt  size;
  PetscInt    *gi, *gj, *at;
  PetscScalar *gv;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_size(comm, &size));
  PetscCall(PetscMalloc4(n + 1, &gi, n + 1, &gj, n + 1, &gv, size, &at));
  for (PetscMPIInt r = 0; r < size; r++) at[r] = off[r];
  for (PetscInt k = 0; k < n; k++) {
    PetscInt p = at[owner[k]]++;
    gi[p] = ci[k], gj[p] = cj[k], gv[p] = cv[k];
  }
  PetscCallMPI(MPI_Alltoallv(gi, cnt, off, MPIU_INT, ri, rcnt, roff, MPIU_INT, comm));
  PetscCallMPI(MPI_Alltoallv(gj, cnt, off, MPIU_INT, rj, rcnt, roff, MPIU_INT, comm));
  PetscCallMPI(MPI_Alltoallv(gv, cnt, off, MPIU_SCALAR, rv, rcnt, roff, MPIU_SCALAR, comm));
  PetscCall(PetscFree4(gi, gj, gv, at));
  PetscFunctionReturn(0);
}

/* Entries (ci, cj, cv) as this rank was given them, moved to the ranks owning their rows. On
   return *ri, *rj, *rv (PetscMalloc3) hold this rank's rows' entries in order of sending rank,
   then of position there: with the edges split in order, the global order at any rank count,
   which fixes the order repeated edges are summed in. */
static PetscErrorCode to_owners(MPI_Comm comm, PetscLayout map, PetscInt n, const PetscInt *ci, const PetscInt *cj,
                                const PetscScalar *cv, PetscInt *nr, PetscInt **ri, PetscInt **rj, PetscScalar **rv)
{
  PetscMPIInt *cnt, *rcnt, *off, *roff, *owner, size;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_size(comm, &size));
  PetscCall(PetscCalloc4(size, &cnt, size, &rcnt, size, &off, size, &roff));
  PetscCall(PetscMalloc1(n + 1, &owner));
  for (PetscInt k = 0; k < n; k++) {
    PetscCall(PetscLayoutFindOwner(map, ci[k], &owner[k]));
    cnt[owner[k]]++;
  }
  PetscCallMPI(MPI_Alltoall(cnt, 1, MPI_INT, rcnt, 1, MPI_INT, comm));
  *nr = 0;
  for (PetscMPIInt r = 0; r < size; r++) {
    PetscCheck((PetscInt64)*nr + rcnt[r] < PETSC_MPI_INT_MAX, PETSC_COMM_SELF, PETSC_ERR_SUP,
               "graph too large: more than 2^31 entries for one rank");
    off[r] = r ? off[r - 1] + cnt[r - 1] : 0, roff[r] = (PetscMPIInt)*nr, *nr += rcnt[r];
  }
  PetscCall(PetscMalloc3(*nr + 1, ri, *nr + 1, rj, *nr + 1, rv));
  PetscCall(send_grouped(comm, n, owner, ci, cj, cv, cnt, off, rcnt, roff, *ri, *rj, *rv));
  PetscCall(PetscFree(owner));
  PetscCall(PetscFree4(cnt, rcnt, off, roff));
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_graph_mat_from_edges(MPI_Comm comm, PetscInt n, PetscInt m, const PetscInt *ei, const PetscInt *ej,
                                        const PetscReal *w, Mat *A)
{
  PetscInt    *ci, *cj, nr = 0, *ri, *rj, rstart, nlocal, bad = -1, anybad;
  PetscScalar *cv, *rv;
  PetscLayout  map;
  PetscMPIInt  size;

  PetscFunctionBeginUser;
  PetscCheck(n >= 0 && m >= 0, comm, PETSC_ERR_ARG_OUTOFRANGE, "graph with %d nodes and %d edges", (int)n, (int)m);
  PetscCheck(m < PETSC_MAX_INT / 2, PETSC_COMM_SELF, PETSC_ERR_SUP, "%d edges: too many for 32-bit indices", (int)m);
  PetscCallMPI(MPI_Comm_size(comm, &size));
  /* Checked on every rank before any message, so a bad edge on one stops them all. */
  for (PetscInt k = 0; k < m && bad < 0; k++)
    if (!(ei[k] >= 0 && ei[k] < n && ej[k] >= 0 && ej[k] < n && ei[k] != ej[k])) bad = k;
  PetscCallMPI(MPI_Allreduce(&bad, &anybad, 1, MPIU_INT, MPI_MAX, comm));
  PetscCheck(bad < 0, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "edge %d (%d, %d): node out of range or self-loop",
             (int)bad, (int)ei[bad], (int)ej[bad]);
  PetscCheck(anybad < 0, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "another rank's edge list has a node out of range or a self-loop");
  /* PETSc's default split of the rows, as MatSetSizes(PETSC_DECIDE) would give. */
  PetscCall(PetscLayoutCreateFromSizes(comm, PETSC_DECIDE, n, 1, &map));
  PetscCall(PetscLayoutGetRange(map, &rstart, NULL));
  PetscCall(PetscLayoutGetLocalSize(map, &nlocal));
  if (size == 1) PetscCall(cdn_csr_from_entries(comm, rstart, nlocal, n, m, ei, ej, w, PETSC_TRUE, A));
  else { /* both directions of every edge, each to the owner of its row */
    PetscCall(PetscMalloc3(2 * m + 1, &ci, 2 * m + 1, &cj, 2 * m + 1, &cv));
    for (PetscInt k = 0; k < m; k++) {
      ci[2 * k] = cj[2 * k + 1] = ei[k];
      cj[2 * k] = ci[2 * k + 1] = ej[k];
      cv[2 * k] = cv[2 * k + 1] = w[k];
    }
    PetscCall(to_owners(comm, map, 2 * m, ci, cj, cv, &nr, &ri, &rj, &rv));
    PetscCall(PetscFree3(ci, cj, cv));
    PetscCall(cdn_csr_from_entries(comm, rstart, nlocal, n, nr, ri, rj, rv, PETSC_FALSE, A));
    PetscCall(PetscFree3(ri, rj, rv));
  }
  PetscCall(PetscLayoutDestroy(&map));
  PetscFunctionReturn(0);
}
