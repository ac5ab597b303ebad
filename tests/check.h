#pragma once
/* Minimal assertions for ctest programs: every failed check is printed and counted, and the
   program's exit status is the number of failures (0 = pass). */
#include <math.h>
#include <stdio.h>
#include <string.h>

static int check_failures = 0;

#define CHECK(cond)                                                                    \
  do {                                                                                 \
    if (!(cond)) {                                                                     \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);         \
      check_failures++;                                                                \
    }                                                                                  \
  } while (0)

#define CHECK_CLOSE(a, b, tol)                                                                     \
  do {                                                                                             \
    double ca_ = (double)(a), cb_ = (double)(b);                                                   \
    if (!(fabs(ca_ - cb_) <= (tol) * (1.0 + fabs(cb_)))) {                                         \
      fprintf(stderr, "%s:%d: CHECK_CLOSE failed: %s = %.12g, %s = %.12g\n", __FILE__, __LINE__, #a, \
              ca_, #b, cb_);                                                                       \
      check_failures++;                                                                            \
    }                                                                                              \
  } while (0)

#define CHECK_CONTAINS(haystack, needle)                                                                 \
  do {                                                                                                   \
    const char *h_ = (haystack);                                                                         \
    if (!h_ || !strstr(h_, (needle))) {                                                                  \
      fprintf(stderr, "%s:%d: expected \"%s\" in \"%s\"\n", __FILE__, __LINE__, (needle), h_ ? h_ : "(null)"); \
      check_failures++;                                                                                  \
    }                                                                                                    \
  } while (0)

/* Exit status for main(): the failure count (capped, so it never wraps to 0). */
#define CHECK_STATUS() (check_failures > 100 ? 100 : check_failures)
