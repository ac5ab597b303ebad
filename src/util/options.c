/* cnndyn's own settings in the PETSc options database (the command line after the first
   single-dash argument, or PETSC_OPTIONS): read as text and parsed by the readers every other
   number goes through, so that a bad value stops the job with one line naming the option, as a bad
   job spec key does, instead of PETSc's traceback. */
#include <stdio.h>
#include "cnndyn/util.h"

static PetscErrorCode option(const char *prefix, const char *name, PetscBool integer, double lo, double hi, double *v)
{
  char         s[64] = "";
  PetscBool    set   = PETSC_FALSE;
  long long    i     = 0;
  double       x     = 0;
  cdn_number_t got;

  PetscFunctionBeginUser;
  PetscCall(PetscOptionsGetString(NULL, prefix, name, s, sizeof s, &set));
  if (!set) PetscFunctionReturn(0);
  if (integer) got = cdn_parse_integer(s, &i), x = (double)i;
  else got = cdn_parse_real(s, &x);
  if (got != CDN_NUMBER_OK || !(x >= lo && x <= hi)) {
    char range[64]; /* C's %g: PETSc's would print 1 as "1." */
    snprintf(range, sizeof range, "[%g, %g]", lo, hi);
    SETERRQ(PETSC_COMM_SELF, CDN_ERR_INPUT, "-%s%s: '%s' is not %s in %s", prefix ? prefix : "", name + 1, s,
            integer ? "an integer" : "a number", range);
  }
  *v = x;
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_option_int(const char *prefix, const char *name, int lo, int hi, int *v)
{
  double x = *v;

  PetscFunctionBeginUser;
  PetscCall(option(prefix, name, PETSC_TRUE, lo, hi, &x));
  *v = (int)x;
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_option_real(const char *prefix, const char *name, double lo, double hi, double *v)
{
  PetscFunctionBeginUser;
  PetscCall(option(prefix, name, PETSC_FALSE, lo, hi, v));
  PetscFunctionReturn(0);
}
