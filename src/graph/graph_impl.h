#pragma once
/* Private to the graph module: the edge walker shared by the rolled and unrolled builders. One
   walk over the edges, in the documented order, serves counting, the pattern, the values and the
   export, so they can never disagree about which COO slot holds which edge. */
#include <stdint.h>
#include "cnndyn/graph.h"

/* COUNT: entries; ROWS: entries per row; PLACE: each entry's column into its row of the CSR
   arrays (rows in walk order, csr.c sorts what needs it); PATTERN: coordinates (the export);
   VALUES: the weights. */
typedef enum { WALK_COUNT, WALK_PATTERN, WALK_VALUES, WALK_ROWS, WALK_PLACE } walk_mode_t;

typedef struct {
  cdn_graph_t *g;
  walk_mode_t  mode;
  PetscInt     n;       /* COO slots filled so far */
  PetscInt    *ci, *cj; /* WALK_PATTERN */
  PetscInt    *rows;    /* WALK_ROWS: entries per row (from rstart); WALK_PLACE: next free slot */
  PetscInt    *col, *pos; /* WALK_PLACE: CSR columns; pos[n] = entry n's slot in col */
  PetscScalar *dst;       /* WALK_VALUES: when set, each value also goes straight into the matrix
                             (dst[coo_pos[n]], see cdn_csr_values_begin) */
} walker_t;

static inline int cdn_owns(const cdn_graph_t *g, PetscInt r) { return r >= g->rstart && r < g->rend; }

static inline void cdn_put1(walker_t *w, PetscInt r, PetscInt c, PetscScalar v)
{
  if (w->mode == WALK_VALUES) {
    w->g->coo_v[w->n] = v;
    if (w->dst) w->dst[w->g->coo_pos[w->n]] = v + 0.0; /* as cdn_csr_set_values stores it */
  } else if (w->mode == WALK_PLACE) {
    PetscInt p = w->rows[r - w->g->rstart]++;
    w->col[p] = c, w->pos[w->n] = p;
  } else if (w->mode == WALK_PATTERN) w->ci[w->n] = r, w->cj[w->n] = c;
  else if (w->mode == WALK_ROWS) w->rows[r - w->g->rstart]++;
  w->n++;
}

/* Edge (r later, c earlier) is two COO entries, row r and row c; a rank keeps the ones it owns. */
static inline void cdn_put(walker_t *w, PetscInt r, PetscInt c, PetscScalar v)
{
  if (cdn_owns(w->g, r)) cdn_put1(w, r, c, v);
  if (cdn_owns(w->g, c)) cdn_put1(w, c, r, v);
}

/* |gamma_o| / sqrt(var_o + eps), BatchNorm's gain on channel o. */
PetscErrorCode cdn_bn_scale(const cdn_layer_desc_t *bn, PetscInt o, double *s);
/* A rank's rows of a square AIJ matrix straight from its entries, and their values (csr.c). */
PetscErrorCode cdn_csr_create(MPI_Comm comm, PetscInt rstart, PetscInt nlocal, PetscInt N, PetscInt n, PetscInt *ptr,
                              PetscInt *col, PetscInt *pos, Mat *A);
/* A rank's rows come in buckets of 2^shift consecutive rows: sorting entries first into buckets,
   then within one, keeps every pass writing either to a few hundred sequential streams or inside a
   cache-sized bucket (one pass straight to a million rows stalls on a miss per entry).
   cdn_bucket_shift picks the rows per bucket for a graph of N nodes and nent entries (both
   directions of every edge, all ranks) so that a bucket holds about 2^15 entries or fewer (its
   sort's arrays stay in a core's L2), with 2^6 to 2^12 rows (more buckets are more streams for
   the bucketing pass to write), and at most 2^(32 - cdn_col_bits(N)) so that an entry's key fits
   in 32 bits (fewer than 2^6 rows only past 2^26 nodes). */
#define CDN_BUCKET_SHIFT_MAX 12
int cdn_bucket_shift(PetscInt N, PetscInt64 nent);
#define CDN_BUCKETS(nlocal, shift) (((nlocal) >> (shift)) + 1)
/* Bits that hold any column of an N-node graph. */
int cdn_col_bits(PetscInt N);
/* An entry of a graph given by edges, on its way to the rank owning its row: key is the row's place
   in its bucket, shifted left by cdn_col_bits(N), plus the global column. 12 bytes, not 16 with the
   row and column apart: every entry is written into its bucket, sent to its owner and sorted, and
   the bytes moved and the pages first touched on the way are most of the build's time. */
typedef struct __attribute__((packed)) {
  uint32_t    key;
  PetscScalar v;
} cdn_entry_t;
/* The matrix from entries already in buckets of 2^shift rows: source s's entries of bucket b are
   src[s][off[s][b] .. off[s][b + 1]), for sources in the entries' global order; a row's repeated
   entries are summed in that order, as COO assembly does. ndiag, noff: how many entries have their
   column in this rank's range, and outside it (repeats included). */
PetscErrorCode cdn_csr_from_buckets(MPI_Comm comm, PetscInt rstart, PetscInt nlocal, PetscInt N, int shift, int nsrc,
                                    const cdn_entry_t *const *src, const PetscInt *const *off, PetscInt ndiag, PetscInt noff,
                                    Mat *A);
/* Large zeroed arrays (calloc, checked); free with cdn_big_free. */
PetscErrorCode cdn_big_calloc(size_t bytes, void *p);
/* Large arrays whose every slot is written before it is read (malloc, checked). */
PetscErrorCode cdn_big_malloc(size_t bytes, void *p);
void           cdn_big_free(void *p);
PetscErrorCode cdn_csr_set_values(Mat A, PetscInt n, const PetscInt *pos, const PetscScalar *v);
/* The matrix's value array when entry k's value can be written straight to (*da)[pos[k]], every
   entry once (one rank, no two entries sharing a position), else *da = NULL and values go through
   cdn_csr_set_values. cdn_csr_values_end returns the array and assembles, as set_values does. */
PetscErrorCode cdn_csr_values_begin(Mat A, PetscScalar **da);
PetscErrorCode cdn_csr_values_end(Mat A, PetscScalar **da);
/* The unrolled graph's plan and walk (unrolled.c). */
PetscErrorCode cdn_unrolled_plan(const cdn_model_desc_t *d, PetscInt64 max_edges, cdn_graph_t *g);
PetscErrorCode cdn_unrolled_walk(walker_t *w, const cdn_model_desc_t *d);
