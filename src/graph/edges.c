/* Matrices from plain edge lists: the statistics work on any symmetric graph, not only on the
   rolled graph of a network, and tests need graphs with known answers. */
#include "cnndyn/graph.h"
#include "cnndyn/util.h"
#include "graph_impl.h"

/* Entry e of an edge list: edge e / 2, in its own direction for even e, mirrored for odd. */
static inline void edge_entry(PetscInt e, const PetscInt *ei, const PetscInt *ej, PetscInt *r, PetscInt *c)
{
  PetscInt k = e / 2;
  *r = e & 1 ? ej[k] : ei[k], *c = e & 1 ? ei[k] : ej[k];
}

/* The rank owning row r: a binary search over the layout's ranges, inline (PetscLayoutFindOwner
   is a call per entry, twice per entry here). */
static inline PetscMPIInt owner_of(const PetscInt *range, PetscMPIInt size, PetscInt r)
{
  PetscMPIInt lo = 0, hi = size; /* range[lo] <= r < range[hi] */
  while (hi - lo > 1) {
    PetscMPIInt mid = (lo + hi) / 2;
    if (r >= range[mid]) lo = mid;
    else hi = mid;
  }
  return lo;
}

/* Both directions of this rank's m edges, sent to the ranks owning their rows. On return *ri,
   *rj, *rv (PetscMalloc3) hold this rank's rows' entries in order of sending rank, then of
   position there: with the edges split in order, the global order at any rank count, which fixes
   the order repeated edges are summed in. */
static PetscErrorCode to_owners(MPI_Comm comm, PetscLayout map, PetscInt m, const PetscInt *ei, const PetscInt *ej,
                                const PetscReal *w, PetscInt *nr, PetscInt **ri, PetscInt **rj, PetscScalar **rv)
{
  PetscMPIInt    *cnt, *rcnt, *off, *roff, *at, size, o;
  PetscInt       *gi, *gj, r, c;
  PetscScalar    *gv;
  const PetscInt *range;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_size(comm, &size));
  PetscCall(PetscLayoutGetRanges(map, &range));
  PetscCall(PetscCalloc5(size, &cnt, size, &rcnt, size, &off, size, &roff, size, &at));
  for (PetscInt e = 0; e < 2 * m; e++) {
    edge_entry(e, ei, ej, &r, &c);
    cnt[owner_of(range, size, r)]++;
  }
  PetscCallMPI(MPI_Alltoall(cnt, 1, MPI_INT, rcnt, 1, MPI_INT, comm));
  *nr = 0;
  for (PetscMPIInt q = 0; q < size; q++) {
    PetscCheck((PetscInt64)*nr + rcnt[q] < PETSC_MPI_INT_MAX, PETSC_COMM_SELF, PETSC_ERR_SUP,
               "graph too large: more than 2^31 entries for one rank");
    at[q] = off[q] = q ? off[q - 1] + cnt[q - 1] : 0, roff[q] = (PetscMPIInt)*nr, *nr += rcnt[q];
  }
  PetscCall(PetscMalloc3(2 * m + 1, &gi, 2 * m + 1, &gj, 2 * m + 1, &gv));
  for (PetscInt e = 0; e < 2 * m; e++) { /* grouped by destination, each group in order */
    PetscInt p;
    edge_entry(e, ei, ej, &r, &c);
    o = owner_of(range, size, r), p = at[o]++, gi[p] = r, gj[p] = c, gv[p] = w[e / 2];
  }
  PetscCall(PetscMalloc3(*nr + 1, ri, *nr + 1, rj, *nr + 1, rv));
  PetscCallMPI(MPI_Alltoallv(gi, cnt, off, MPIU_INT, *ri, rcnt, roff, MPIU_INT, comm));
  PetscCallMPI(MPI_Alltoallv(gj, cnt, off, MPIU_INT, *rj, rcnt, roff, MPIU_INT, comm));
  PetscCallMPI(MPI_Alltoallv(gv, cnt, off, MPIU_SCALAR, *rv, rcnt, roff, MPIU_SCALAR, comm));
  PetscCall(PetscFree3(gi, gj, gv));
  PetscCall(PetscFree5(cnt, rcnt, off, roff, at));
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_graph_mat_from_edges(MPI_Comm comm, PetscInt n, PetscInt m, const PetscInt *ei, const PetscInt *ej,
                                        const PetscReal *w, Mat *A)
{
  PetscInt    nr = 0, *ri, *rj, rstart, nlocal, bad = -1, anybad;
  PetscScalar *rv;
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
  else {
    PetscCall(to_owners(comm, map, m, ei, ej, w, &nr, &ri, &rj, &rv));
    PetscCall(cdn_csr_from_entries(comm, rstart, nlocal, n, nr, ri, rj, rv, PETSC_FALSE, A));
    PetscCall(PetscFree3(ri, rj, rv));
  }
  PetscCall(PetscLayoutDestroy(&map));
  PetscFunctionReturn(0);
}
