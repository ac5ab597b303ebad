/* A rank's matrix entries straight into PETSc's AIJ arrays. PETSc's COO preallocation sorts every
   entry with a permutation (measured: 68% of building the 16.8M-edge FC graph, 19.5 of 28.6 s);
   here the rows come from a counting sort, the columns of a row are usually already in order
   (the walkers emit them so), and only rows that are not get sorted; entries from edge lists,
   in no order, are sorted bucket by bucket (cdn_csr_from_buckets). The arrays are handed to
   PETSc as they are (MatCreateSeqAIJWithArrays / MatCreateMPIAIJWithSplitArrays) and freed with
   the matrix. It has COO assembly's structure (the same diagonal and off-diagonal blocks, columns
   sorted) and a position's repeated entries summed in entry order, at any rank count. That is
   COO's value bit for bit when a position repeats at most twice; with three or more PETSc's COO
   sums in an order of its own, so the sums may differ in the last bit (and a NaN's sign may). */
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

/* calloc clears memory the heap hands out again (MPI's libraries keep freed memory in the heap),
   a pass over it for nothing when every slot is written before it is read. */
PetscErrorCode cdn_big_malloc(size_t bytes, void *p)
{
  void *a = malloc(bytes ? bytes : 1);

  PetscFunctionBeginUser;
  *(void **)p = a;
  PetscCheck(a, PETSC_COMM_SELF, PETSC_ERR_MEM, "out of memory (%zu bytes)", bytes);
  PetscFunctionReturn(0);
}

void cdn_big_free(void *p) { free(p); }

/* The matrix on c's arrays (c->oi set: the diagonal and off-diagonal blocks of an MPIAIJ matrix,
   else one SeqAIJ block), which it keeps until it is destroyed. */
static PetscErrorCode wrap_mat(MPI_Comm comm, PetscInt nlocal, PetscInt N, csr_t *c, Mat *A)
{
  PetscContainer box;

  PetscFunctionBeginUser;
  if (c->oi) PetscCall(MatCreateMPIAIJWithSplitArrays(comm, nlocal, nlocal, N, N, c->di, c->dj, c->da, c->oi, c->oj, c->oa, A));
  else PetscCall(MatCreateSeqAIJWithArrays(comm, nlocal, N, c->di, c->dj, c->da, A));
  PetscCall(PetscContainerCreate(PETSC_COMM_SELF, &box));
  PetscCall(PetscContainerSetPointer(box, c));
  PetscCall(PetscContainerSetUserDestroy(box, csr_free));
  PetscCall(PetscObjectCompose((PetscObject)*A, CSR_KEY, (PetscObject)box));
  PetscCall(PetscContainerDestroy(&box));
  PetscFunctionReturn(0);
}

/* The matrix on rows ptr/col (merged, sorted, global columns; both taken over) with zero values;
   pos[k] moves from merged position to stored position. */
static PetscErrorCode make_mat(MPI_Comm comm, PetscInt rstart, PetscInt nlocal, PetscInt N, PetscInt *ptr, PetscInt *col,
                               PetscInt n, PetscInt *pos, csr_t *c, Mat *A)
{
  PetscMPIInt size;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_size(comm, &size));
  if (size == 1) { /* one block: the arrays as they are */
    c->di = ptr, c->dj = col, c->nzd = ptr[nlocal];
    PetscCall(cdn_big_calloc((c->nzd + 1) * sizeof(PetscScalar), &c->da));
  } else {
    PetscInt *code;
    PetscCall(cdn_big_calloc((ptr[nlocal] + 1) * sizeof(PetscInt), &code));
    PetscCall(split_blocks(c, rstart, nlocal, ptr, col, code));
    PetscCall(cdn_big_calloc((c->nzd + 1) * sizeof(PetscScalar), &c->da));
    PetscCall(cdn_big_calloc((c->nzo + 1) * sizeof(PetscScalar), &c->oa));
    for (PetscInt k = 0; k < n; k++) pos[k] = code[pos[k]];
    cdn_big_free(code), cdn_big_free(col);
    PetscCall(PetscFree(ptr));
  }
  PetscCall(wrap_mat(comm, nlocal, N, c, A));
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
  PetscCall(make_mat(comm, rstart, nlocal, N, ptr, col, n, pos, c, A));
  PetscFunctionReturn(0);
}

#define DIGIT_BITS 11

/* Memory a later pass needs, prefetched a cache line per step during passes that work in cache:
   the next bucket's entries, which its first pass otherwise waits for, and this bucket's slots in
   the blocks, which the row pass writes. Measured on the 1M-node random graph at 2 ranks: the
   first pass 0.056 -> 0.023 CPU s, the row pass 0.059 -> 0.045. Up to 4 ranges (the entries from
   a fifth rank on are left to the hardware). */
typedef struct {
  const char *base[4];
  size_t      at[4], len[4];
  int         write[4], n, k;
} ahead_t;

static inline void ahead_add(ahead_t *a, const void *p, size_t bytes, int write)
{
  if (a->n == 4 || !bytes) return;
  a->base[a->n] = p, a->at[a->n] = 0, a->len[a->n] = bytes, a->write[a->n++] = write;
}

static inline void ahead_step(ahead_t *a)
{
  while (a->k < a->n && a->at[a->k] >= a->len[a->k]) a->k++;
  if (a->k == a->n) return;
  if (a->write[a->k]) __builtin_prefetch(a->base[a->k] + a->at[a->k], 1);
  else __builtin_prefetch(a->base[a->k] + a->at[a->k], 0);
  a->at[a->k] += 64;
}

/* Bucket b's entries (from its sources in order, each in its order) sorted by column: by the key's
   lowest ndig * wd bits (the column's, maybe a row's lowest bits too), least significant digit
   first, each a stable counting sort inside the cache-sized bucket, so equal columns stay in the
   entries' order. hist: each digit's counts over the bucket. Returns the array holding the
   result, x or y. The rows come after, in one more such pass (cdn_csr_from_buckets); sorting each
   row on its own, 20 entries a row on average in a random graph, mispredicted a branch per entry. */
static cdn_entry_t *sort_columns(int nsrc, const cdn_entry_t *const *src, const PetscInt *const *off, PetscInt b, int ndig,
                                 int wd, PetscInt *hist, cdn_entry_t *x, cdn_entry_t *y, ahead_t *ahead)
{
  const uint32_t nh = 1u << wd, mask = nh - 1;
  PetscInt       len = 0;

  for (int d = 0; d < ndig; d++)
    for (uint32_t h = 0, sum = 0; h < nh; h++) {
      PetscInt t = hist[d * nh + h];
      hist[d * nh + h] = sum, sum += t;
    }
  for (int s = 0; s < nsrc; s++) /* the first pass reads the sources, the others x and y in turn */
    for (PetscInt e = off[s][b]; e < off[s][b + 1]; e++) {
      x[hist[src[s][e].key & mask]++] = src[s][e], len++;
      if (!(e & 3)) ahead_step(ahead);
    }
  for (int d = 1; d < ndig; d++) {
    PetscInt    *at = hist + d * nh;
    cdn_entry_t *t  = x;
    for (PetscInt e = 0; e < len; e++) {
      y[at[(x[e].key >> (d * wd)) & mask]++] = x[e];
      if (!(e & 3)) ahead_step(ahead);
    }
    x = y, y = t;
  }
  return x;
}

/* Rows [r0, r0 + nr) of one block hold their entries from start on, each row's end in ptr[r + 1]
   with repeated columns side by side: each repeated column's values summed in their order, the
   rows packed from start on and their ends set. Returns the end of the last row. */
static PetscInt merge_repeats(PetscInt *ptr, PetscInt r0, PetscInt nr, PetscInt start, PetscInt *j, PetscScalar *a)
{
  PetscInt q = start;

  for (PetscInt r = r0, t = start, u; r < r0 + nr; r++) {
    for (PetscInt e = ptr[r + 1]; t < e; t = u) {
      PetscScalar sum = a[t]; /* stored as v + 0.0: the sum into a zeroed entry */
      for (u = t + 1; u < e && j[u] == j[t]; u++) sum += a[u];
      j[q] = j[t], a[q++] = sum;
    }
    ptr[r + 1] = q;
  }
  return q;
}

PetscErrorCode cdn_csr_from_buckets(MPI_Comm comm, PetscInt rstart, PetscInt nlocal, PetscInt N, int shift, int nsrc,
                                    const cdn_entry_t *const *src, const PetscInt *const *off, PetscInt ndiag, PetscInt noff,
                                    Mat *A)
{
  const int      cbits = cdn_col_bits(N), ndig = PetscMax(1, (cbits + DIGIT_BITS - 1) / DIGIT_BITS), wd = (cbits + ndig - 1) / ndig;
  const uint32_t nh = 1u << wd, mask = nh - 1, cmask = (uint32_t)(((uint64_t)1 << cbits) - 1);
  PetscInt       nb = CDN_BUCKETS(nlocal, shift), rows = (PetscInt)1 << shift, maxb = 0, d = 0, o = 0, rend = rstart + nlocal;
  PetscInt      *hist, *at, *last, *dj, *oj;
  PetscMPIInt    size;
  PetscScalar   *da, *oa;
  cdn_entry_t   *x, *y;
  csr_t         *c;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_size(comm, &size));
  PetscCheck(size > 1 || noff == 0, PETSC_COMM_SELF, PETSC_ERR_PLIB, "off-diagonal entries on one rank");
  for (PetscInt b = 0; b < nb; b++) {
    PetscInt len = 0;
    for (int s = 0; s < nsrc; s++) len += off[s][b + 1] - off[s][b];
    maxb = PetscMax(maxb, len);
  }
  PetscCall(PetscNew(&c));
  PetscCall(PetscMalloc1(nlocal + 1, &c->di));
  PetscCall(cdn_big_malloc((ndiag + 1) * sizeof(PetscInt), &c->dj));
  PetscCall(cdn_big_malloc((ndiag + 1) * sizeof(PetscScalar), &c->da));
  /* oj/oa also on one rank (one slot there, never written): the row pass picks a block per entry */
  PetscCall(cdn_big_malloc((noff + 1) * sizeof(PetscInt), &c->oj));
  PetscCall(cdn_big_malloc((noff + 1) * sizeof(PetscScalar), &c->oa));
  if (size > 1) {
    PetscCall(PetscMalloc1(nlocal + 1, &c->oi));
    c->oi[0] = 0;
  }
  c->di[0] = 0;
  dj = c->dj, da = c->da, oj = c->oj, oa = c->oa;
  PetscCall(PetscMalloc5((size_t)ndig * nh, &hist, 2 * rows, &at, rows, &last, maxb + 1, &x, maxb + 1, &y));
  for (PetscInt b = 0; b < nb; b++) {
    PetscInt     r0 = b * rows, nr = PetscMin(nlocal - r0, rows), d0 = d, o0 = o, first = nr;
    cdn_entry_t *z;
    /* Counts: each column digit's, and each row's entries in either block (at[2r], at[2r + 1]). */
    PetscCall(PetscArrayzero(hist, (size_t)ndig * nh));
    PetscCall(PetscArrayzero(at, 2 * nr));
    PetscCall(PetscArrayzero(last, nr));
    for (int s = 0; s < nsrc; s++)
      for (PetscInt e = off[s][b]; e < off[s][b + 1]; e++) {
        uint32_t key = src[s][e].key;
        PetscInt j   = (PetscInt)(key & cmask);
        hist[key & mask]++; /* ndig is 1 to 3 (columns below 2^31, digits of up to 11 bits) */
        if (ndig > 1) hist[nh + ((key >> wd) & mask)]++;
        if (ndig > 2) hist[2 * nh + ((key >> (2 * wd)) & mask)]++;
        at[2 * (key >> cbits) + ((j < rstart) | (j >= rend))]++;
      }
    for (PetscInt r = 0; r < nr; r++) { /* counts -> each row's next slot in either block */
      PetscInt nd = at[2 * r], no = at[2 * r + 1];
      at[2 * r] = d, at[2 * r + 1] = o, d += nd, o += no;
      c->di[r0 + r + 1] = d;
      if (c->oi) c->oi[r0 + r + 1] = o;
    }
    ahead_t mine = {.n = 0}, next = {.n = 0};
    ahead_add(&mine, dj + d0, (d - d0) * sizeof(PetscInt), 1), ahead_add(&mine, da + d0, (d - d0) * sizeof(PetscScalar), 1);
    ahead_add(&mine, oj + o0, (o - o0) * sizeof(PetscInt), 1), ahead_add(&mine, oa + o0, (o - o0) * sizeof(PetscScalar), 1);
    z = sort_columns(nsrc, src, off, b, ndig, wd, hist, x, y, &mine);
    for (int s = 0; b + 1 < nb && s < nsrc; s++)
      ahead_add(&next, src[s] + off[s][b + 1], (off[s][b + 2] - off[s][b + 1]) * sizeof(cdn_entry_t), 0);
    /* The row pass, in column order: each entry straight to its row's next slot in its block (the
       block chosen by a conditional move: a branch on it is mispredicted for every other entry of
       a random graph), stored as v + 0.0, which is what summing into a zeroed entry gives (-0
       becomes +0). A column seen twice in a row (last[r] = last column + 1) leaves repeats side by
       side, merged below from the first row that has one. */
    for (PetscInt e = 0, len = d - d0 + o - o0; e < len; e++) {
      uint32_t     key = z[e].key;
      PetscInt     j = (PetscInt)(key & cmask), r = (PetscInt)(key >> cbits), out = (j < rstart) | (j >= rend), p = at[2 * r + out]++;
      PetscInt    *cj = out ? oj : dj;
      PetscScalar *ca = out ? oa : da;
      cj[p] = out ? j : j - rstart, ca[p] = z[e].v + 0.0;
      first = last[r] == j + 1 && r < first ? r : first, last[r] = j + 1;
      if (!(e & 3)) ahead_step(&next);
    }
    if (first < nr) { /* rows before the first with a repeat stay as they are */
      d = merge_repeats(c->di, r0 + first, nr - first, c->di[r0 + first], dj, da);
      if (c->oi) o = merge_repeats(c->oi, r0 + first, nr - first, c->oi[r0 + first], oj, oa);
    }
  }
  PetscCall(PetscFree5(hist, at, last, x, y));
  c->nzd = d, c->nzo = o, c->merged = PETSC_TRUE;
  PetscCall(wrap_mat(comm, nlocal, N, c, A));
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

/* Entry k's value v[k] into its position. Repeated positions are summed in entry order; a single
   one is stored as v + 0.0, which is what summing into a zeroed entry gives (-0 becomes +0), as
   COO assembly does (see the top of this file for three or more). Collective (the assembly). */
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
