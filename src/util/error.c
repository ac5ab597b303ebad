/* Start-up and user-facing errors. A job must end on every rank with one readable line when the
   user's input is wrong, and with a full traceback when cnndyn itself is wrong. */
#include <slepcsys.h>
#include "cnndyn/util.h"
#ifdef __has_feature
#if __has_feature(address_sanitizer)
#define CDN_ASAN 1
#endif
#endif
#ifdef __SANITIZE_ADDRESS__
#define CDN_ASAN 1
#endif
#ifdef CDN_ASAN
#include <sanitizer/lsan_interface.h>
#endif

static char last_message[4096];

PetscBool cdn_error_is_user(PetscErrorCode code)
{
  return (code == CDN_ERR_INPUT || code == CDN_ERR_OPEN || code == CDN_ERR_CORRUPT || code == CDN_ERR_WRITE)
           ? PETSC_TRUE
           : PETSC_FALSE;
}

const char *cdn_error_message(void) { return last_message; }

int cdn_error_exit(const char *who)
{
  fprintf(stderr, "%s: error: %s\n", who, last_message[0] ? last_message : "failed (no message)");
  return 1;
}

/* Records the first message of every error; user errors pass quietly up to the caller, which
   prints the message once; anything else also gets PETSc's traceback. */
static PetscErrorCode handler(MPI_Comm comm, int line, const char *func, const char *file, PetscErrorCode n,
                              PetscErrorType p, const char *mess, void *ctx)
{
  if (p == PETSC_ERROR_INITIAL && mess) snprintf(last_message, sizeof last_message, "%s", mess);
  if (cdn_error_is_user(n)) return n;
  return PetscTraceBackErrorHandler(comm, line, func, file, n, p, mess, ctx);
}

/* Records the message and returns the error without printing: for callers that handle it. */
static PetscErrorCode quiet_handler(MPI_Comm comm, int line, const char *func, const char *file, PetscErrorCode n,
                                    PetscErrorType p, const char *mess, void *ctx)
{
  if (p == PETSC_ERROR_INITIAL && mess) snprintf(last_message, sizeof last_message, "%s", mess);
  return n;
}

PetscErrorCode cdn_error_push_quiet(void) { return PetscPushErrorHandler(quiet_handler, NULL); }
PetscErrorCode cdn_error_pop_quiet(void) { return PetscPopErrorHandler(); }

PetscErrorCode cdn_initialize(int *argc, char ***argv, const char *help)
{
#ifdef CDN_ASAN
  /* what MPI, PETSc and SLEPc allocate while starting is theirs to keep (Open MPI 4.1 loses a few
     strings and bitmaps there): LeakSanitizer ignores it, and checks the rest in cdn_finalize */
  __lsan_disable();
  PetscErrorCode ierr = SlepcInitialize(argc, argv, NULL, help);
  __lsan_enable();
  PetscCall(ierr);
#else
  PetscCall(SlepcInitialize(argc, argv, NULL, help));
#endif
  PetscCall(PetscPushErrorHandler(handler, NULL));
  return 0;
}

PetscErrorCode cdn_finalize(void)
{
  PetscCall(PetscPopErrorHandler());
#ifdef CDN_ASAN
  /* AddressSanitizer builds check for leaks here rather than at exit: Open MPI 4.1 never frees what
     its start-up allocated, which becomes unreachable (a leak report) only inside MPI_Finalize,
     while anything of cnndyn's that leaked is unreachable already. A leak ends the process (and
     the test) with LeakSanitizer's report; the check at exit is then skipped. */
  __lsan_do_leak_check();
#endif
  PetscCall(SlepcFinalize());
  return 0;
}

PetscErrorCode cdn_error_share(MPI_Comm comm, PetscErrorCode local)
{
  PetscMPIInt rank, size, first;
  int         code = (int)local, worst;
  char        msg[sizeof last_message];

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  PetscCallMPI(MPI_Comm_size(comm, &size));
  PetscCallMPI(MPI_Allreduce(&code, &worst, 1, MPI_INT, MPI_MAX, comm));
  if (!worst) PetscFunctionReturn(0);
  {
    PetscMPIInt mine = code ? rank : size;
    PetscCallMPI(MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, comm));
  }
  if (rank == first) snprintf(msg, sizeof msg, "%s", last_message);
  PetscCallMPI(MPI_Bcast(&code, 1, MPI_INT, first, comm));
  PetscCallMPI(MPI_Bcast(msg, (int)sizeof msg, MPI_CHAR, first, comm));
  SETERRQ(PETSC_COMM_SELF, (PetscErrorCode)code, "%s", msg);
}
