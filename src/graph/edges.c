/* Matrices from plain edge lists: the statistics work on any symmetric graph, not only on the
   rolled graph of a network, and tests need graphs with known answers. */
#include "cnndyn/graph.h"
#include "cnndyn/util.h"
#include "graph_impl.h"

/* The rank owning row r: the last q with range[q] <= r, by a binary search whose steps depend only
   on size and whose halves are chosen by a conditional move (PetscLayoutFindOwner is a call per
   entry; a branch on the half is mispredicted for every other entry of a random graph). */
static inline PetscMPIInt owner_of(const PetscInt *range, PetscMPIInt size, PetscInt r)
{
  const PetscInt *b = range;
  for (PetscMPIInt n = size; n > 1;) {
    PetscMPIInt half = n / 2;
    b = b[half] <= r ? b + half : b;
    n -= half;
  }
  return (PetscMPIInt)(b - range);
}

int cdn_bucket_shift(PetscInt N, PetscInt64 nent)
{
  int shift = CDN_BUCKET_SHIFT_MAX;
  /* Measured on the 1M-node, 10M-edge random graph at 2 ranks (20 entries a row): 2^10 rows a
     bucket (20k entries) sorted in 0.096 CPU s against 0.135 s with 2^12 (80k entries, beyond
     L2), the bucketing pass 0.12 s against 0.11; 2^9 rows sorted no faster and bucketed slower.
     Again with 12-byte entries and prefetching: 2^10 rows sorted in 0.093 s against 0.123 with
     2^11 and 0.092 with 2^9, bucketed in 0.055 s against 0.050 and 0.068. */
  while (shift > 6 && ((PetscInt64)1 << shift) * nent > ((PetscInt64)1 << 15) * N) shift--;
  return PetscMax(0, PetscMin(shift, 32 - cdn_col_bits(N)));
}

int cdn_col_bits(PetscInt N)
{
  int bits = 0;
  while (bits < 63 && ((PetscInt64)1 << bits) < N) bits++;
  return bits;
}

/* The entries (both directions) of this rank's m edges per bucket of their owners' rows, bbase[q]
   being the first bucket of rank q: cnt[b] entries in bucket b, dcnt[q] of rank q's with their
   column in q's range too. Returns the first bad edge (a node out of range, or a self-loop), else
   -1: the check rides on this pass over the edges instead of a pass of its own. */
static PetscInt count_entries(PetscMPIInt size, const PetscInt *range, int shift, PetscInt m, const PetscInt *ei,
                              const PetscInt *ej, const PetscInt *bbase, PetscInt *cnt, PetscInt *dcnt)
{
  const uint64_t n = (uint64_t)range[size];

  for (PetscInt k = 0; k < m; k++) {
    if ((uint64_t)ei[k] >= n || (uint64_t)ej[k] >= n || ei[k] == ej[k]) return k;
    for (int t = 0; t < 2; t++) { /* entry 2k is edge k, 2k + 1 its mirror */
      PetscInt    r = t ? ej[k] : ei[k], c = t ? ei[k] : ej[k];
      PetscMPIInt q = owner_of(range, size, r);
      cnt[bbase[q] + ((r - range[q]) >> shift)]++;
      dcnt[q] += (c >= range[q]) & (c < range[q + 1]);
    }
  }
  return -1;
}

/* The entries into their buckets, each bucket's in edge order: this rank's buckets into own, the
   other ranks' (in rank order) into sent. Each write prefetches its bucket's memory 16 entries on,
   so that the line is there when the bucket reaches it (measured on the 1M-node random graph at 2
   ranks: 0.082 -> 0.056 CPU s). */
static PetscErrorCode to_buckets(PetscMPIInt size, PetscMPIInt rank, const PetscInt *range, int shift, PetscInt m,
                                 const PetscInt *ei, const PetscInt *ej, const PetscReal *w, const PetscInt *bbase,
                                 const PetscInt *cnt, cdn_entry_t *own, cdn_entry_t *sent)
{
  PetscInt      rmask = ((PetscInt)1 << shift) - 1;
  int           cbits = cdn_col_bits(range[size]);
  cdn_entry_t **at;

  PetscFunctionBeginUser;
  PetscCall(PetscMalloc1(bbase[size], &at));
  for (PetscMPIInt q = 0; q < size; q++) /* each bucket's next slot */
    for (PetscInt b = bbase[q]; b < bbase[q + 1]; b++) {
      cdn_entry_t **to = q == rank ? &own : &sent;
      at[b] = *to, *to += cnt[b];
    }
  for (PetscInt k = 0; k < m; k++)
    for (int t = 0; t < 2; t++) {
      PetscInt    r = t ? ej[k] : ei[k], c = t ? ei[k] : ej[k];
      PetscMPIInt q = owner_of(range, size, r);
      cdn_entry_t **to = &at[bbase[q] + ((r - range[q]) >> shift)];
      __builtin_prefetch((const void *)((uintptr_t)*to + 16 * sizeof(cdn_entry_t)), 1);
      *(*to)++ = (cdn_entry_t){(uint32_t)((r - range[q]) & rmask) << cbits | (uint32_t)c, w[k]};
    }
  PetscCall(PetscFree(at));
  PetscFunctionReturn(0);
}

/* The bucketed entries to the ranks owning their rows, then each rank's matrix from what it got,
   sender by sender: with the edges split in order, the entries' global order at any rank count,
   which fixes the order repeated edges are summed in. The edges are checked on the way, on every
   rank before any entry is sent, so a bad edge on one rank stops them all. */
static PetscErrorCode build(MPI_Comm comm, PetscLayout map, PetscInt N, int shift, PetscInt m, const PetscInt *ei, const PetscInt *ej,
                            const PetscReal *w, Mat *A)
{
  PetscMPIInt         size, rank, *scnt, *rcnt, *soff, *roff, *sic, *ric, *sio, *rio;
  PetscInt           *bbase, *cnt, *dcnt, *sinfo, *rinfo, **off, nb, nown = 0, nsent = 0, nr = 0, nrecv = 0, ndiag = 0, rstart, nlocal, bad, anybad;
  const PetscInt     *range;
  cdn_entry_t        *own, *sent, *rbuf = NULL;
  const cdn_entry_t **src;
  MPI_Datatype        et;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_size(comm, &size));
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  PetscCall(PetscLayoutGetRanges(map, &range));
  rstart = range[rank], nlocal = range[rank + 1] - range[rank], nb = CDN_BUCKETS(nlocal, shift);
  PetscCall(PetscMalloc1(size + 1, &bbase));
  bbase[0] = 0;
  for (PetscMPIInt q = 0; q < size; q++) bbase[q + 1] = bbase[q] + CDN_BUCKETS(range[q + 1] - range[q], shift);
  PetscCall(PetscCalloc2(bbase[size] + 1, &cnt, size, &dcnt));
  bad = count_entries(size, range, shift, m, ei, ej, bbase, cnt, dcnt);
  PetscCallMPI(MPI_Allreduce(&bad, &anybad, 1, MPIU_INT, MPI_MAX, comm));
  if (anybad >= 0) {
    PetscCall(PetscFree2(cnt, dcnt));
    PetscCall(PetscFree(bbase));
  }
  PetscCheck(bad < 0, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "edge %d (%d, %d): node out of range or self-loop",
             (int)bad, (int)ei[bad], (int)ej[bad]);
  PetscCheck(anybad < 0, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "another rank's edge list has a node out of range or a self-loop");
  for (PetscInt b = 0; b < bbase[size]; b++) *(b >= bbase[rank] && b < bbase[rank + 1] ? &nown : &nsent) += cnt[b];
  /* Apart, so that the sent ones' memory is free again (for the matrix) once they are sent. */
  PetscCall(cdn_big_malloc((nown + 1) * sizeof(cdn_entry_t), &own));
  PetscCall(cdn_big_malloc((nsent + 1) * sizeof(cdn_entry_t), &sent));
  PetscCall(to_buckets(size, rank, range, shift, m, ei, ej, w, bbase, cnt, own, sent));
  PetscCall(PetscMalloc2(size, &src, size, &off));
  if (size == 1) {
    PetscCall(PetscMalloc1(nb + 1, &off[0]));
    off[0][0] = 0;
    for (PetscInt b = 0; b < nb; b++) off[0][b + 1] = off[0][b] + cnt[b];
    src[0] = own, nr = off[0][nb], ndiag = dcnt[0];
  } else {
    /* Per receiver: its buckets' counts and its diagonal count, then the entries. */
    PetscCall(PetscMalloc5(size, &scnt, size, &rcnt, size, &soff, size, &roff, bbase[size] + size, &sinfo));
    PetscCall(PetscMalloc4(size, &sic, size, &ric, size, &sio, size, &rio));
    PetscCall(PetscMalloc1(size * (nb + 1), &rinfo));
    for (PetscMPIInt q = 0, at = 0, sum = 0; q < size; q++) {
      PetscInt64 n = 0;
      sio[q] = at, sic[q] = (PetscMPIInt)(bbase[q + 1] - bbase[q] + 1), rio[q] = q * (PetscMPIInt)(nb + 1), ric[q] = (PetscMPIInt)(nb + 1);
      for (PetscInt b = bbase[q]; b < bbase[q + 1]; b++) sinfo[at++] = cnt[b], n += cnt[b];
      sinfo[at++] = dcnt[q];
      scnt[q] = q == rank ? 0 : (PetscMPIInt)n, soff[q] = sum, sum += scnt[q]; /* a rank's own entries stay in own */
    }
    PetscCallMPI(MPI_Alltoallv(sinfo, sic, sio, MPIU_INT, rinfo, ric, rio, MPIU_INT, comm));
    for (PetscMPIInt s = 0; s < size; s++) {
      PetscInt64 n = 0;
      for (PetscInt b = 0; b < nb; b++) n += rinfo[s * (nb + 1) + b];
      PetscCheck((PetscInt64)nr + n < PETSC_MPI_INT_MAX, PETSC_COMM_SELF, PETSC_ERR_SUP,
                 "graph too large: more than 2^31 entries for one rank");
      rcnt[s] = s == rank ? 0 : (PetscMPIInt)n, roff[s] = (PetscMPIInt)nrecv, nrecv += rcnt[s];
      nr += n, ndiag += rinfo[s * (nb + 1) + nb];
    }
    PetscCall(cdn_big_malloc((nrecv + 1) * sizeof(cdn_entry_t), &rbuf));
    PetscCallMPI(MPI_Type_contiguous((PetscMPIInt)sizeof(cdn_entry_t), MPI_BYTE, &et));
    PetscCallMPI(MPI_Type_commit(&et));
    PetscCallMPI(MPI_Alltoallv(sent, scnt, soff, et, rbuf, rcnt, roff, et, comm));
    PetscCallMPI(MPI_Type_free(&et));
    for (PetscMPIInt s = 0; s < size; s++) {
      PetscCall(PetscMalloc1(nb + 1, &off[s]));
      src[s] = s == rank ? own : rbuf + roff[s], off[s][0] = 0;
      for (PetscInt b = 0; b < nb; b++) off[s][b + 1] = off[s][b] + rinfo[s * (nb + 1) + b];
    }
    PetscCall(PetscFree5(scnt, rcnt, soff, roff, sinfo));
    PetscCall(PetscFree4(sic, ric, sio, rio));
    PetscCall(PetscFree(rinfo));
  }
  cdn_big_free(sent);
  PetscCall(cdn_csr_from_buckets(comm, rstart, nlocal, N, shift, size, src, (const PetscInt *const *)off, ndiag,
                                 nr - ndiag, A));
  for (PetscMPIInt s = 0; s < size; s++) PetscCall(PetscFree(off[s]));
  PetscCall(PetscFree2(src, off));
  PetscCall(PetscFree2(cnt, dcnt));
  PetscCall(PetscFree(bbase));
  cdn_big_free(own), cdn_big_free(rbuf);
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_graph_mat_from_edges(MPI_Comm comm, PetscInt n, PetscInt m, const PetscInt *ei, const PetscInt *ej,
                                        const PetscReal *w, Mat *A)
{
  PetscInt64     m64 = m, nent;
  PetscLayout    map;
  PetscErrorCode ierr;

  PetscFunctionBeginUser;
  PetscCheck(n >= 0 && m >= 0, comm, PETSC_ERR_ARG_OUTOFRANGE, "graph with %d nodes and %d edges", (int)n, (int)m);
  PetscCheck(m < PETSC_MAX_INT / 2, PETSC_COMM_SELF, PETSC_ERR_SUP, "%d edges: too many for 32-bit indices", (int)m);
  PetscCheck(cdn_col_bits(n) < 32, comm, PETSC_ERR_SUP, "graph with %" PetscInt64_FMT " nodes: edge lists take at most 2^31", (PetscInt64)n);
  /* PETSc's default split of the rows, as MatSetSizes(PETSC_DECIDE) would give. */
  PetscCall(PetscLayoutCreateFromSizes(comm, PETSC_DECIDE, n, 1, &map));
  PetscCallMPI(MPI_Allreduce(&m64, &nent, 1, MPI_INT64_T, MPI_SUM, comm));
  ierr = build(comm, map, n, cdn_bucket_shift(n, 2 * nent), m, ei, ej, w, A); /* a bad edge fails it, on every rank */
  PetscCall(PetscLayoutDestroy(&map));
  PetscCall(ierr);
  PetscFunctionReturn(0);
}
