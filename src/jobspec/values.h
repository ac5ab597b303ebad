#pragma once
/* Value parsers shared by the job spec files (internal to src/jobspec). Each checks the whole value
   and raises CDN_ERR_INPUT as "FILE:LINE: KEY: reason" naming where it came from. */
#include "cnndyn/util.h"
#include "cnndyn/jobspec.h"

typedef struct {
  const char *file;
  int         line;
  const char *key;
} cdn_js_where_t;

/* An interval with open or closed ends; hi = HUGE_VAL means "no upper bound". */
typedef struct {
  double lo, hi;
  int    lo_open, hi_open;
  int    integer; /* whole numbers only (parsed with strtol) */
} cdn_js_range_t;

#define CDN_JS_FAIL(w, fmt, ...) \
  SETERRQ(PETSC_COMM_SELF, CDN_ERR_INPUT, "%s:%d: %s: " fmt, (w)->file, (w)->line, (w)->key, __VA_ARGS__)

char          *cdn_js_trim(char *s);
void           cdn_js_range_text(const cdn_js_range_t *r, char *buf, size_t n);
int            cdn_js_in_range(const cdn_js_range_t *r, double x); /* the ends only: not whether x is whole */
PetscErrorCode cdn_js_int(const cdn_js_where_t *w, const char *s, int lo, int hi, int *out);
PetscErrorCode cdn_js_u64(const cdn_js_where_t *w, const char *s, uint64_t *out);
PetscErrorCode cdn_js_real(const cdn_js_where_t *w, const char *s, const cdn_js_range_t *r, double *out);
PetscErrorCode cdn_js_bool(const cdn_js_where_t *w, const char *s, int *out);
/* "v1, v2, ..." (a grid axis) or "uniform(LOW, HIGH)" / "loguniform(LOW, HIGH)". */
PetscErrorCode cdn_js_axis(const cdn_js_where_t *w, char *s, const cdn_js_range_t *r, cdn_axis_t *axis);
/* A comma list of names from names[0..count); sets bit i for names[i]. */
PetscErrorCode cdn_js_names(const cdn_js_where_t *w, char *s, const char *const *names, int count, unsigned *mask);
/* One of names[0..count) exactly; *out is its index. */
PetscErrorCode cdn_js_choice(const cdn_js_where_t *w, const char *s, const char *const *names, int count, int *out);
/* "off" (out = "") or a ZeroMQ endpoint tcp://HOST:PORT or ipc://PATH shorter than n. */
PetscErrorCode cdn_js_endpoint(const cdn_js_where_t *w, const char *s, char *out, size_t n);
/* cdn_jobspec_parse_string that also counts the keys set (0: the text holds no setting at all);
   whole_job adds the checks that only a complete job file can pass (a method for the learners). */
PetscErrorCode cdn_js_parse_counted(const char *name, const char *text, int whole_job, cdn_jobspec_t *spec, int *nkeys);
