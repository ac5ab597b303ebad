#pragma once
/* Helpers shared by the statistics (centrality.c defines them). */
#include <petscmat.h>

/* Copies a (possibly distributed) vector into a plain array on every rank. */
PetscErrorCode cdn_vec_to_array(Vec v, PetscReal *out);
/* Largest |a_ij| over the stored entries and whether any is NaN or Inf; collective. */
PetscErrorCode cdn_scan_entries(Mat A, PetscReal *maxabs, PetscBool *nonfinite);
/* n0 when A (one rank) is one complete bipartite block, nodes 0..n0-1 against the rest, which
   eigenvector centrality solves through the dense block; else 0. */
PetscErrorCode cdn_dense_block_side(Mat A, PetscInt *n0);
