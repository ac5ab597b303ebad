#pragma once
/* Private to the graph module: the edge walker shared by the rolled and unrolled builders. One
   walk over the edges, in the documented order, serves counting, the pattern, the values and the
   export, so they can never disagree about which COO slot holds which edge. */
#include "cnndyn/graph.h"

typedef enum { WALK_COUNT, WALK_PATTERN, WALK_VALUES, WALK_ROWS } walk_mode_t;

typedef struct {
  cdn_graph_t *g;
  walk_mode_t  mode;
  PetscInt     n;       /* COO slots filled so far */
  PetscInt    *ci, *cj; /* WALK_PATTERN */
  PetscInt    *rows;    /* WALK_ROWS: entries per row */
} walker_t;

static inline int cdn_owns(const cdn_graph_t *g, PetscInt r) { return r >= g->rstart && r < g->rend; }

/* Edge (r later, c earlier) is two COO entries, row r and row c; a rank keeps the ones it owns. */
static inline void cdn_put(walker_t *w, PetscInt r, PetscInt c, PetscScalar v)
{
  if (cdn_owns(w->g, r)) {
    if (w->mode == WALK_PATTERN) w->ci[w->n] = r, w->cj[w->n] = c;
    else if (w->mode == WALK_VALUES) w->g->coo_v[w->n] = v;
    else if (w->mode == WALK_ROWS) w->rows[r]++;
    w->n++;
  }
  if (cdn_owns(w->g, c)) {
    if (w->mode == WALK_PATTERN) w->ci[w->n] = c, w->cj[w->n] = r;
    else if (w->mode == WALK_VALUES) w->g->coo_v[w->n] = v;
    else if (w->mode == WALK_ROWS) w->rows[c]++;
    w->n++;
  }
}

/* |gamma_o| / sqrt(var_o + eps), BatchNorm's gain on channel o. */
PetscErrorCode cdn_bn_scale(const cdn_layer_desc_t *bn, PetscInt o, double *s);
/* The unrolled graph's plan and walk (unrolled.c). */
PetscErrorCode cdn_unrolled_plan(const cdn_model_desc_t *d, PetscInt64 max_edges, cdn_graph_t *g);
PetscErrorCode cdn_unrolled_walk(walker_t *w, const cdn_model_desc_t *d);
