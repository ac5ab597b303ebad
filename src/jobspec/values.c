/* Values of job spec keys. Every number must parse completely (no trailing text), be finite and
   lie in its documented range, because a silently truncated "1e-3x" or "0,1" is a wasted run. */
#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "values.h"

char *cdn_js_trim(char *s)
{
  size_t n;
  while (isspace((unsigned char)*s)) s++;
  n = strlen(s);
  while (n > 0 && isspace((unsigned char)s[n - 1])) s[--n] = '\0';
  return s;
}

void cdn_js_range_text(const cdn_js_range_t *r, char *buf, size_t n)
{
  if (r->integer) snprintf(buf, n, "an integer in [%g, %g]", r->lo, r->hi);
  else if (r->hi == HUGE_VAL) snprintf(buf, n, "a number %s %g", r->lo_open ? ">" : ">=", r->lo);
  else snprintf(buf, n, "a number in %c%g, %g%c", r->lo_open ? '(' : '[', r->lo, r->hi, r->hi_open ? ')' : ']');
}

int cdn_js_in_range(const cdn_js_range_t *r, double x)
{
  if (r->lo_open ? !(x > r->lo) : !(x >= r->lo)) return 0;
  if (r->hi == HUGE_VAL) return 1;
  return r->hi_open ? x < r->hi : x <= r->hi;
}

/* Plain decimal syntax: [+-] digits [. digits] [(e|E) [+-] digits], at least one mantissa digit.
   strtod alone would also take hex floats ("0x1p-4"), "inf", "nan" and leading blanks. */
static int plain_decimal(const char *s)
{
  int digits = 0;
  if (*s == '+' || *s == '-') s++;
  while (isdigit((unsigned char)*s)) s++, digits++;
  if (*s == '.')
    for (s++; isdigit((unsigned char)*s); s++) digits++;
  if (!digits) return 0;
  if (*s == 'e' || *s == 'E') {
    s++;
    if (*s == '+' || *s == '-') s++;
    if (!isdigit((unsigned char)*s)) return 0;
    while (isdigit((unsigned char)*s)) s++;
  }
  return *s == '\0';
}

cdn_number_t cdn_parse_real(const char *s, double *x)
{
  char *end;

  *x = NAN;
  if (!plain_decimal(s)) return CDN_NUMBER_SYNTAX;
  errno = 0;
  *x    = strtod(s, &end);
  if (*end != '\0') return CDN_NUMBER_SYNTAX;
  if (errno == ERANGE && isinf(*x)) return CDN_NUMBER_HUGE;
  /* glibc sets ERANGE for results below DBL_MIN, subnormal or flushed to zero */
  if (errno == ERANGE || (*x != 0 && fabs(*x) < DBL_MIN)) return CDN_NUMBER_TINY;
  return CDN_NUMBER_OK;
}

cdn_number_t cdn_parse_integer(const char *s, long long *x)
{
  char *end;

  *x = 0;
  if (!(isdigit((unsigned char)s[0]) || ((s[0] == '-' || s[0] == '+') && isdigit((unsigned char)s[1]))))
    return CDN_NUMBER_SYNTAX;
  errno = 0;
  *x    = strtoll(s, &end, 10);
  if (*end != '\0') return CDN_NUMBER_SYNTAX;
  return errno == ERANGE ? CDN_NUMBER_HUGE : CDN_NUMBER_OK;
}

const char *cdn_number_problem(cdn_number_t code)
{
  switch (code) {
  case CDN_NUMBER_OK: return "is a number";
  case CDN_NUMBER_SYNTAX: return "is not a plain decimal number";
  case CDN_NUMBER_HUGE: return "is too large (beyond the range of a double or a 64-bit integer)";
  case CDN_NUMBER_TINY: return "is too small: nonzero but below 2.2e-308, the smallest normal double";
  }
  return "is not a number";
}

static int parse_long(const char *s, long *x)
{
  long long v;
  int       ok = cdn_parse_integer(s, &v) == CDN_NUMBER_OK && v >= LONG_MIN && v <= LONG_MAX;
  *x           = (long)v;
  return ok;
}

PetscErrorCode cdn_js_int(const cdn_js_where_t *w, const char *s, int lo, int hi, int *out)
{
  long long x;

  PetscFunctionBeginUser;
  switch (cdn_parse_integer(s, &x)) {
  case CDN_NUMBER_OK: break;
  case CDN_NUMBER_HUGE: CDN_JS_FAIL(w, "%s is out of range: must be an integer in [%d, %d]", s, lo, hi);
  default: CDN_JS_FAIL(w, "'%s' is not an integer", s);
  }
  if (x < lo || x > hi) CDN_JS_FAIL(w, "%lld is out of range: must be an integer in [%d, %d]", x, lo, hi);
  *out = (int)x;
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_js_u64(const cdn_js_where_t *w, const char *s, uint64_t *out)
{
  char              *end;
  unsigned long long x;

  PetscFunctionBeginUser;
  errno = 0;
  x     = strtoull(s, &end, 10);
  /* strtoull quietly wraps "-1" to 2^64-1: refuse signs outright */
  if (!isdigit((unsigned char)s[0]) || end == s || *end != '\0' || errno != 0)
    CDN_JS_FAIL(w, "'%s' is not an unsigned 64-bit integer", s);
  *out = (uint64_t)x;
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_js_real(const cdn_js_where_t *w, const char *s, const cdn_js_range_t *r, double *out)
{
  double x;
  char   range[96];

  PetscFunctionBeginUser;
  cdn_js_range_text(r, range, sizeof range);
  if (r->integer) {
    long v;
    if (!parse_long(s, &v)) CDN_JS_FAIL(w, "'%s' is not an integer", s);
    x = (double)v;
  } else {
    cdn_number_t got = cdn_parse_real(s, &x);
    /* a subnormal would be taken, but it is never what a job means, and 0 would be out of range */
    if (got != CDN_NUMBER_OK) CDN_JS_FAIL(w, "'%s' %s", s, cdn_number_problem(got));
  }
  if (!cdn_js_in_range(r, x)) CDN_JS_FAIL(w, "%s is out of range: must be %s", s, range);
  *out = x;
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_js_bool(const cdn_js_where_t *w, const char *s, int *out)
{
  static const char *const yes[] = {"true", "yes", "1"}, *const no[] = {"false", "no", "0"};

  PetscFunctionBeginUser;
  for (int i = 0; i < 3; i++) {
    if (!strcasecmp(s, yes[i])) { *out = 1; PetscFunctionReturn(0); }
    if (!strcasecmp(s, no[i])) { *out = 0; PetscFunctionReturn(0); }
  }
  CDN_JS_FAIL(w, "'%s' is not a boolean (true/false, yes/no, 1/0)", s);
}

/* Splits s at commas in place; every item trimmed and non-empty. */
static PetscErrorCode split_list(const cdn_js_where_t *w, char *s, char **items, int max, int *n)
{
  PetscFunctionBeginUser;
  *n = 0;
  for (char *p = s;;) {
    char *comma = strchr(p, ',');
    if (comma) *comma = '\0';
    if (*n == max) CDN_JS_FAIL(w, "too many values (at most %d)", max);
    items[*n] = cdn_js_trim(p);
    if (!items[*n][0]) CDN_JS_FAIL(w, "empty item in the list (item %d)", *n + 1);
    (*n)++;
    if (!comma) break;
    p = comma + 1;
  }
  PetscFunctionReturn(0);
}

static PetscErrorCode parse_distribution(const cdn_js_where_t *w, char *s, const cdn_js_range_t *r, cdn_axis_t *axis)
{
  char  *open = strchr(s, '('), *close = strrchr(s, ')'), *items[8], *name;
  int    n;
  size_t len = strlen(s);

  PetscFunctionBeginUser;
  *open = '\0';
  name  = cdn_js_trim(s);
  if (!strcmp(name, "uniform")) axis->kind = CDN_AXIS_UNIFORM;
  else if (!strcmp(name, "loguniform")) axis->kind = CDN_AXIS_LOGUNIFORM;
  else CDN_JS_FAIL(w, "unknown distribution '%s' (expected uniform(LOW, HIGH) or loguniform(LOW, HIGH))", name);
  if (!close || close != s + len - 1 || close < open) CDN_JS_FAIL(w, "%s(...) must end with ')' and nothing after it", name);
  if (r->integer) CDN_JS_FAIL(w, "%s", "takes a list of integers, not a distribution");
  *close = '\0';
  PetscCall(split_list(w, open + 1, items, 8, &n));
  if (n != 2) CDN_JS_FAIL(w, "%s needs two arguments, LOW and HIGH", name);
  axis->n = 2;
  for (int i = 0; i < 2; i++) PetscCall(cdn_js_real(w, items[i], r, &axis->v[i]));
  if (!(axis->v[0] < axis->v[1])) CDN_JS_FAIL(w, "%s(%s, %s): LOW must be less than HIGH", name, items[0], items[1]);
  if (axis->kind == CDN_AXIS_LOGUNIFORM && !(axis->v[0] > 0))
    CDN_JS_FAIL(w, "loguniform(%s, %s): LOW must be > 0", items[0], items[1]);
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_js_axis(const cdn_js_where_t *w, char *s, const cdn_js_range_t *r, cdn_axis_t *axis)
{
  char *items[CDN_MAX_AXIS_VALUES];
  int   n;

  PetscFunctionBeginUser;
  memset(axis, 0, sizeof *axis);
  /* a parenthesis would also be a syntax error in a number list, so it marks a distribution */
  if (strchr(s, '(') || strchr(s, ')')) {
    if (!strchr(s, '(')) CDN_JS_FAIL(w, "'%s' has ')' without '('", s);
    PetscCall(parse_distribution(w, s, r, axis));
    PetscFunctionReturn(0);
  }
  axis->kind = CDN_AXIS_LIST;
  PetscCall(split_list(w, s, items, CDN_MAX_AXIS_VALUES, &n));
  for (int i = 0; i < n; i++) {
    PetscCall(cdn_js_real(w, items[i], r, &axis->v[i]));
    /* a repeated grid value trains the same configuration twice: use replicates for that */
    for (int j = 0; j < i; j++)
      if (axis->v[j] == axis->v[i]) CDN_JS_FAIL(w, "value %s appears twice (use replicates for repeats)", items[i]);
  }
  axis->n = n;
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_js_choice(const cdn_js_where_t *w, const char *s, const char *const *names, int count, int *out)
{
  char expected[256] = "";

  PetscFunctionBeginUser;
  for (int i = 0; i < count; i++) {
    if (!strcmp(s, names[i])) { *out = i; PetscFunctionReturn(0); }
    strncat(expected, i ? ", " : "", sizeof expected - strlen(expected) - 1);
    strncat(expected, names[i], sizeof expected - strlen(expected) - 1);
  }
  CDN_JS_FAIL(w, "unknown value '%s' (expected one of: %s)", s, expected);
}

PetscErrorCode cdn_js_names(const cdn_js_where_t *w, char *s, const char *const *names, int count, unsigned *mask)
{
  char *items[32];
  int   n, k;

  PetscFunctionBeginUser;
  PetscCall(split_list(w, s, items, 32, &n));
  *mask = 0;
  for (int i = 0; i < n; i++) {
    PetscCall(cdn_js_choice(w, items[i], names, count, &k));
    if (*mask & (1u << k)) CDN_JS_FAIL(w, "'%s' appears twice", items[i]);
    *mask |= 1u << k;
  }
  PetscFunctionReturn(0);
}

const char *cdn_endpoint_problem(const char *s)
{
  const char *colon;
  long long   port;

  if (!strncmp(s, "ipc://", 6)) return s[6] ? NULL : "has no path after ipc://";
  if (strncmp(s, "tcp://", 6)) return "is not a ZeroMQ endpoint (expected tcp://HOST:PORT or ipc://PATH)";
  colon = strrchr(s + 6, ':');
  if (!colon || colon == s + 6) return "is not tcp://HOST:PORT (no host or no port)";
  if (!strcmp(colon + 1, "*")) return NULL; /* a port the system picks: for binding, as the tests do */
  /* ZeroMQ takes a port beyond 65535 and then waits forever for a peer that cannot exist */
  if (cdn_parse_integer(colon + 1, &port) != CDN_NUMBER_OK || colon[1] == '+' || colon[1] == '-' || port < 1 ||
      port > 65535)
    return "has no valid TCP port (1 to 65535)";
  return NULL;
}

PetscErrorCode cdn_js_endpoint(const cdn_js_where_t *w, const char *s, char *out, size_t n)
{
  const char *why;

  PetscFunctionBeginUser;
  if (!strcmp(s, "off")) {
    out[0] = '\0';
    PetscFunctionReturn(0);
  }
  if ((why = cdn_endpoint_problem(s))) CDN_JS_FAIL(w, "'%s' %s, or off", s, why);
  if (strlen(s) >= n) CDN_JS_FAIL(w, "longer than %d characters", (int)n - 1);
  snprintf(out, n, "%s", s);
  PetscFunctionReturn(0);
}
