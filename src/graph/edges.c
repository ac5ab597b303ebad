/* Matrices from plain edge lists: the statistics work on any symmetric graph, not only on the
   rolled graph of a network, and tests need graphs with known answers. */
#include "cnndyn/graph.h"
#include "cnndyn/util.h"

PetscErrorCode cdn_graph_mat_from_edges(MPI_Comm comm, PetscInt n, PetscInt m, const PetscInt *ei, const PetscInt *ej,
                                        const PetscReal *w, Mat *A)
{
  PetscInt    *ci, *cj;
  PetscScalar *cv;

  PetscFunctionBeginUser;
  PetscCheck(n >= 0 && m >= 0, comm, PETSC_ERR_ARG_OUTOFRANGE, "graph with %d nodes and %d edges", (int)n, (int)m);
  PetscCall(PetscMalloc3(2 * m, &ci, 2 * m, &cj, 2 * m, &cv));
  for (PetscInt k = 0; k < m; k++) {
    PetscCheck(ei[k] >= 0 && ei[k] < n && ej[k] >= 0 && ej[k] < n && ei[k] != ej[k], comm, PETSC_ERR_ARG_OUTOFRANGE,
               "edge %d (%d, %d): node out of range or self-loop", (int)k, (int)ei[k], (int)ej[k]);
    ci[2 * k] = cj[2 * k + 1] = ei[k];
    cj[2 * k] = ci[2 * k + 1] = ej[k];
    cv[2 * k] = cv[2 * k + 1] = w[k];
  }
  PetscCall(MatCreate(comm, A));
  PetscCall(MatSetSizes(*A, PETSC_DECIDE, PETSC_DECIDE, n, n));
  PetscCall(MatSetType(*A, MATAIJ));
  /* Every rank contributes the edges it was given; COO assembly sends them where they belong. */
  PetscCall(MatSetPreallocationCOO(*A, 2 * m, ci, cj));
  PetscCall(MatSetValuesCOO(*A, cv, ADD_VALUES));
  PetscCall(PetscFree3(ci, cj, cv));
  PetscFunctionReturn(0);
}
