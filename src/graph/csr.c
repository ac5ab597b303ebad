/* A rank's matrix entries straight into PETSc's AIJ arrays. PETSc's COO preallocation sorts every
   entry with a permutation (measured: 68% of building the 16.8M-edge FC graph, 19.5 of 28.6 s);
   here the rows come from a counting sort, the columns of a row are usually already in order
   (the walkers emit them so), and only rows that are not get sorted. The arrays are handed to
   PETSc as they are (MatCreateSeqAIJWithArrays / MatCreateMPIAIJWithSplitArrays) and freed with
   the matrix. The matrix is the one COO assembly gives, entry for entry: the same diagonal and
   off-diagonal blocks, columns sorted, repeated entries summed in entry order. */
#include <stdlib.h>
#include "cnndyn/util.h"
#include "graph_impl.h"

#define CSR_KEY "cdn_csr"

/* The arrays the matrix is built on; they live as long as the matrix (a composed container). */
typedef struct {
  PetscInt    *di, *dj, *oi, *oj; /* diagonal block (local columns), off-diagonal (global until assembly) */
  PetscScalar *da, *oa;
  PetscInt     nzd, nzo;
  PetscBool    merged; /* some entries share a position: values are summed, not stored */
} csr_t;

static PetscErrorCode csr_free(void *p)
{
  csr_t *c = p;

  PetscFunctionBeginUser;
  PetscCall(PetscFree(c->di));
  PetscCall(PetscFree(c->oi));
  cdn_big_free(c->dj), cdn_big_free(c->da), cdn_big_free(c->oj), cdn_big_free(c->oa);
  PetscCall(PetscFree(c));
  PetscFunctionReturn(0);
}

/* Sorts row [b, e) of col by column, merges equal columns, writes the result from q on and
   records in moved[] where each old position went. tc/ti: scratch of the row's length. */
static void sort_row(PetscInt *col, PetscInt b, PetscInt e, PetscInt *q, PetscInt *moved, PetscInt *tc, PetscInt *ti)
{
  PetscInt len = e - b;

  for (PetscInt t = 0; t < len; t++) tc[t] = col[b + t], ti[t] = t;
  PetscSortIntWithArray(len, tc, ti); /* ties need no order: values are summed in entry order */
  for (PetscInt t = 0; t < len; t++) {
    if (t == 0 || tc[t] != tc[t - 1]) col[(*q)++] = tc[t];
    moved[b + ti[t]] = *q - 1;
  }
}

/* The diagonal and off-diagonal blocks of rows whose merged columns are ptr/col (global, sorted);
   code[u] is where merged entry u lands: u's index in the diagonal block, or nzd + its index in the
   off-diagonal one. */
static PetscErrorCode split_blocks(csr_t *c, PetscInt rstart, PetscInt nlocal, const PetscInt *ptr, const PetscInt *col,
                                   PetscInt *code)
{
  PetscInt rend = rstart + nlocal, d = 0, o = 0;

  PetscFunctionBeginUser;
  for (PetscInt u = 0; u < ptr[nlocal]; u++) c->nzd += col[u] >= rstart && col[u] < rend;
  c->nzo = ptr[nlocal] - c->nzd;
  PetscCall(PetscMalloc1(nlocal + 1, &c->di));
  PetscCall(cdn_big_calloc((c->nzd + 1) * sizeof(PetscInt), &c->dj));
  PetscCall(PetscMalloc1(nlocal + 1, &c->oi));
  PetscCall(cdn_big_calloc((c->nzo + 1) * sizeof(PetscInt), &c->oj));
  c->di[0] = c->oi[0] = 0;
  for (PetscInt r = 0; r < nlocal; r++) {
    for (PetscInt u = ptr[r]; u < ptr[r + 1]; u++)
      if (col[u] >= rstart && col[u] < rend) c->dj[d] = col[u] - rstart, code[u] = d++;
      else c->oj[o] = col[u], code[u] = c->nzd + o++;
    c->di[r + 1] = d, c->oi[r + 1] = o;
  }
  PetscFunctionReturn(0);
}

/* Large zeroed arrays, checked. They were placed on 2 MiB transparent huge pages (one fault
   instead of 512); measured again on the shared 2-core machine (load about 16), that made the
   4096 x 4096 FC graph's build 2.8-3.4 CPU s against 0.83-0.89 s on ordinary pages, and the
   random 1M-node graph's 1.7-2.4 s against 0.96 s: zeroing each huge page on its first touch cost
   more than the faults it saved. */
PetscErrorCode cdn_big_calloc(size_t bytes, void *p)
{
  void *a = calloc(1, bytes ? bytes : 1);

  PetscFunctionBeginUser;
  *(void **)p = a;
  PetscCheck(a, PETSC_COMM_SELF, PETSC_ERR_MEM, "out of memory (%zu bytes)", bytes);
  PetscFunctionReturn(0);
}

void cdn_big_free(void *p) { free(p); }

/* The matrix on rows ptr/col (merged, sorted, global columns; both taken over) with values val
   (taken over) or zero (val NULL; pos[k] then moves from merged position to stored position). */
static PetscErrorCode make_mat(MPI_Comm comm, PetscInt rstart, PetscInt nlocal, PetscInt N, PetscInt *ptr, PetscInt *col,
                               PetscScalar *val, PetscInt n, PetscInt *pos, csr_t *c, Mat *A)
{
  PetscMPIInt    size;
  PetscContainer box;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_size(comm, &size));
  if (size == 1) { /* one block: the arrays as they are */
    c->di = ptr, c->dj = col, c->nzd = ptr[nlocal], c->da = val;
    if (!val) PetscCall(cdn_big_calloc((c->nzd + 1) * sizeof(PetscScalar), &c->da));
    PetscCall(MatCreateSeqAIJWithArrays(comm, nlocal, N, c->di, c->dj, c->da, A));
  } else {
    PetscInt *code;
    PetscCall(cdn_big_calloc((ptr[nlocal] + 1) * sizeof(PetscInt), &code));
    PetscCall(split_blocks(c, rstart, nlocal, ptr, col, code));
    PetscCall(cdn_big_calloc((c->nzd + 1) * sizeof(PetscScalar), &c->da));
    PetscCall(cdn_big_calloc((c->nzo + 1) * sizeof(PetscScalar), &c->oa));
    if (val)
      for (PetscInt u = 0; u < ptr[nlocal]; u++) *(code[u] < c->nzd ? c->da + code[u] : c->oa + code[u] - c->nzd) = val[u];
    else
      for (PetscInt k = 0; k < n; k++) pos[k] = code[pos[k]];
    cdn_big_free(code), cdn_big_free(col), cdn_big_free(val);
    PetscCall(PetscFree(ptr));
    PetscCall(MatCreateMPIAIJWithSplitArrays(comm, nlocal, nlocal, N, N, c->di, c->dj, c->da, c->oi, c->oj, c->oa, A));
  }
  PetscCall(PetscContainerCreate(PETSC_COMM_SELF, &box));
  PetscCall(PetscContainerSetPointer(box, c));
  PetscCall(PetscContainerSetUserDestroy(box, csr_free));
  PetscCall(PetscObjectCompose((PetscObject)*A, CSR_KEY, (PetscObject)box));
  PetscCall(PetscContainerDestroy(&box));
  PetscFunctionReturn(0);
}

/* Local rows [rstart, rstart + nlocal) of an N x N matrix on comm (square, rows and columns split
   alike). ptr (PetscMalloc'd, nlocal + 1) and col (cdn_big_calloc'd) hold the rows' global
   columns, each row's in the order its entries came, and pos[k] entry k's slot in col; both
   arrays are taken over. On return pos[k] says where entry k's value goes (cdn_csr_set_values);
   values are zero until then. Collective. */
PetscErrorCode cdn_csr_create(MPI_Comm comm, PetscInt rstart, PetscInt nlocal, PetscInt N, PetscInt n, PetscInt *ptr,
                              PetscInt *col, PetscInt *pos, Mat *A)
{
  PetscInt *moved = NULL, *tc = NULL, *ti = NULL, maxlen = 0, q = 0;
  csr_t    *c;

  PetscFunctionBeginUser;
  for (PetscInt r = 0; r < nlocal; r++) maxlen = PetscMax(maxlen, ptr[r + 1] - ptr[r]);
  /* Rows in strictly increasing column order stay as they are. The first row that is not starts
     the map moved[] (old position -> merged position), which every later position then needs. */
  for (PetscInt r = 0, b = 0; r < nlocal; r++) {
    PetscInt  e      = ptr[r + 1];
    PetscBool strict = PETSC_TRUE, sorted = PETSC_TRUE;
    for (PetscInt p = b + 1; p < e && sorted; p++) strict = strict && col[p] > col[p - 1], sorted = col[p] >= col[p - 1];
    if (!strict && !moved) {
      PetscCall(PetscMalloc3(n, &moved, maxlen, &tc, maxlen, &ti));
      for (PetscInt p = 0; p < b; p++) moved[p] = p;
      q = b;
    }
    if (!sorted) sort_row(col, b, e, &q, moved, tc, ti);
    else if (moved) /* in order, repeated columns side by side: merged in one pass */
      for (PetscInt p = b; p < e; p++) {
        if (p == b || col[p] != col[p - 1]) col[q++] = col[p];
        moved[p] = q - 1;
      }
    ptr[r + 1] = moved ? q : e, b = e;
  }
  PetscCall(PetscNew(&c));
  if (moved) {
    c->merged = ptr[nlocal] < n;
    for (PetscInt k = 0; k < n; k++) pos[k] = moved[pos[k]];
    PetscCall(PetscFree3(moved, tc, ti));
  }
  PetscCall(make_mat(comm, rstart, nlocal, N, ptr, col, NULL, n, pos, c, A));
  PetscFunctionReturn(0);
}

/* Sorts row [b, e) of col/val by column and sums repeated columns in their order in the row,
   writing from *q on. tc, ti, tv: scratch of the row's length. Short rows (most rows of a sparse
   graph) by a stable insertion sort, which keeps repeated columns in order by itself; long ones
   by PETSc's sort, then each repeated column's entries back in their order. */
static void merge_row(PetscInt *col, PetscScalar *val, PetscInt b, PetscInt e, PetscInt *q, PetscInt *tc, PetscInt *ti,
                      PetscScalar *tv)
{
  PetscInt len = e - b;

  for (PetscInt t = 0; t < len; t++) tc[t] = col[b + t], ti[t] = t, tv[t] = val[b + t];
  if (len <= 32)
    for (PetscInt t = 1; t < len; t++) {
      PetscInt x = tc[t], y = ti[t], u = t;
      for (; u > 0 && tc[u - 1] > x; u--) tc[u] = tc[u - 1], ti[u] = ti[u - 1];
      tc[u] = x, ti[u] = y;
    }
  else PetscSortIntWithArray(len, tc, ti);
  for (PetscInt t = 0, u; t < len; t = u) {
    PetscScalar sum = 0.0;
    for (u = t + 1; u < len && tc[u] == tc[t]; u++) {}
    if (u - t > 1) PetscSortInt(u - t, ti + t); /* a repeated column's values in their order */
    for (PetscInt x = t; x < u; x++) sum += tv[ti[x]];
    col[*q] = tc[t], val[(*q)++] = sum;
  }
}

#define ROWS_PER_BUCKET 4096

/* The same from entries with values (ri global and owned by this rank, cj global, v), in any
   order; repeated entries are summed in their order. With sym, each entry k also stands for its
   mirror (cj[k], ri[k], v[k]) right after it (then every row is this rank's). Rows come from a counting sort in two
   levels, first into buckets of 4096 rows, then within a bucket, so that every pass writes
   either to a few hundred sequential streams or inside a cache-sized bucket: one pass straight
   to a million rows stalled on a cache miss per entry. */
PetscErrorCode cdn_csr_from_entries(MPI_Comm comm, PetscInt rstart, PetscInt nlocal, PetscInt N, PetscInt n,
                                    const PetscInt *ri, const PetscInt *cj, const PetscScalar *v, PetscBool sym, Mat *A)
{
  PetscInt    *ptr, *fill, *col, *br, *bc, *bfill, nb = nlocal / ROWS_PER_BUCKET + 1, q = 0, maxlen = 0, *tc, *ti;
  PetscScalar *val, *bv, *tv;
  csr_t       *c;

  PetscFunctionBeginUser;
  PetscCall(PetscCalloc1(nlocal + 1, &ptr));
  for (PetscInt k = 0; k < n; k++) {
    PetscCheck(ri[k] >= rstart && ri[k] < rstart + nlocal && cj[k] >= 0 && cj[k] < N &&
                 (!sym || (cj[k] >= rstart && cj[k] < rstart + nlocal)),
               PETSC_COMM_SELF, PETSC_ERR_PLIB, "entry %d (%d, %d) outside rows [%d, %d) or columns [0, %d)", (int)k,
               (int)ri[k], (int)cj[k], (int)rstart, (int)(rstart + nlocal), (int)N);
    ptr[ri[k] - rstart + 1]++;
    if (sym) ptr[cj[k] - rstart + 1]++;
  }
  if (sym) n *= 2;
  for (PetscInt r = 0; r < nlocal; r++) maxlen = PetscMax(maxlen, ptr[r + 1]), ptr[r + 1] += ptr[r];
  PetscCall(PetscMalloc2(nlocal + 1, &fill, nb, &bfill));
  for (PetscInt b = 0; b < nb; b++) bfill[b] = ptr[PetscMin(b * ROWS_PER_BUCKET, nlocal)];
  PetscCall(cdn_big_calloc((n + 1) * sizeof(PetscInt), &br));
  PetscCall(cdn_big_calloc((n + 1) * sizeof(PetscInt), &bc));
  PetscCall(cdn_big_calloc((n + 1) * sizeof(PetscScalar), &bv));
  for (PetscInt e = 0; e < n; e++) {
    PetscInt k = sym ? e / 2 : e, m = sym && (e & 1), r = (m ? cj[k] : ri[k]) - rstart, p = bfill[r / ROWS_PER_BUCKET]++;
    br[p] = r, bc[p] = m ? ri[k] : cj[k], bv[p] = v[k];
  }
  PetscCall(PetscArraycpy(fill, ptr, nlocal));
  PetscCall(cdn_big_calloc((n + 1) * sizeof(PetscInt), &col));
  PetscCall(cdn_big_calloc((n + 1) * sizeof(PetscScalar), &val));
  for (PetscInt t = 0; t < n; t++) { /* bucket by bucket: the writes stay inside one bucket's rows */
    PetscInt p = fill[br[t]]++;
    col[p] = bc[t], val[p] = bv[t];
  }
  cdn_big_free(br), cdn_big_free(bc), cdn_big_free(bv);
  PetscCall(PetscFree2(fill, bfill));
  PetscCall(PetscMalloc3(maxlen + 1, &tc, maxlen + 1, &ti, maxlen + 1, &tv));
  for (PetscInt r = 0, b = 0; r < nlocal; r++) {
    PetscInt  e      = ptr[r + 1];
    PetscBool strict = PETSC_TRUE;
    for (PetscInt p = b + 1; p < e && strict; p++) strict = col[p] > col[p - 1];
    if (strict)
      for (PetscInt p = b; p < e; p++) col[q] = col[p], val[q++] = 0.0 + val[p]; /* as summed into a zero */
    else merge_row(col, val, b, e, &q, tc, ti, tv);
    ptr[r + 1] = q, b = e;
  }
  PetscCall(PetscFree3(tc, ti, tv));
  PetscCall(PetscNew(&c));
  PetscCall(make_mat(comm, rstart, nlocal, N, ptr, col, val, 0, NULL, c, A));
  PetscFunctionReturn(0);
}

static PetscErrorCode csr_of(Mat A, csr_t **c)
{
  PetscContainer box = NULL;

  PetscFunctionBeginUser;
  PetscCall(PetscObjectQuery((PetscObject)A, CSR_KEY, (PetscObject *)&box));
  PetscCheck(box, PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG, "matrix not built by cdn_csr_create");
  PetscCall(PetscContainerGetPointer(box, (void **)c));
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_csr_values_begin(Mat A, PetscScalar **da)
{
  csr_t *c;

  PetscFunctionBeginUser;
  PetscCall(csr_of(A, &c));
  *da = NULL;
  if (!c->oi && !c->merged) PetscCall(MatSeqAIJGetArray(A, da));
  PetscFunctionReturn(0);
}

/* As MatSetValuesCOO does: the matrix's state moves on, and it stays assembled. */
static PetscErrorCode csr_assemble(Mat A)
{
  PetscFunctionBeginUser;
  PetscCall(MatAssemblyBegin(A, MAT_FINAL_ASSEMBLY));
  PetscCall(MatAssemblyEnd(A, MAT_FINAL_ASSEMBLY));
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_csr_values_end(Mat A, PetscScalar **da)
{
  PetscFunctionBeginUser;
  if (*da) PetscCall(MatSeqAIJRestoreArray(A, da));
  PetscCall(csr_assemble(A));
  PetscFunctionReturn(0);
}

/* Entry k's value v[k] into its position. Repeated positions are summed in entry order (COO
   assembly's rule); a single one is stored as v + 0.0, which is what summing into a zeroed entry
   gives (-0 becomes +0), so the matrix is bit for bit COO's. Collective (the assembly). */
PetscErrorCode cdn_csr_set_values(Mat A, PetscInt n, const PetscInt *pos, const PetscScalar *v)
{
  csr_t       *c;
  Mat          Ad = A, Ao = NULL;
  PetscScalar *da, *oa = NULL;

  PetscFunctionBeginUser;
  PetscCall(csr_of(A, &c));
  if (c->oi) PetscCall(MatMPIAIJGetSeqAIJ(A, &Ad, &Ao, NULL));
  PetscCall(MatSeqAIJGetArray(Ad, &da));
  if (Ao) PetscCall(MatSeqAIJGetArray(Ao, &oa));
  if (c->merged) {
    PetscCall(PetscArrayzero(da, c->nzd));
    if (oa) PetscCall(PetscArrayzero(oa, c->nzo));
  }
  if (!oa && c->merged)
    for (PetscInt k = 0; k < n; k++) da[pos[k]] += v[k];
  else if (!oa)
    for (PetscInt k = 0; k < n; k++) da[pos[k]] = v[k] + 0.0;
  else
    for (PetscInt k = 0; k < n; k++) {
      PetscScalar *a = pos[k] < c->nzd ? da + pos[k] : oa + (pos[k] - c->nzd);
      *a             = c->merged ? *a + v[k] : v[k] + 0.0;
    }
  PetscCall(MatSeqAIJRestoreArray(Ad, &da));
  if (Ao) PetscCall(MatSeqAIJRestoreArray(Ao, &oa));
  PetscCall(csr_assemble(A));
  PetscFunctionReturn(0);
}
