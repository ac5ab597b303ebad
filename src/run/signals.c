/* SIGTERM and SIGUSR1 (what Slurm sends before a time limit with --signal, and what it sends on
   preemption) ask the run to stop cleanly: the handler only records the request; training looks
   at it at the end of each epoch, after the checkpoint, so no work of a finished epoch is lost. */
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <string.h>
#include "run_internal.h"

static volatile sig_atomic_t stop_signal = 0;

static void on_signal(int sig) { stop_signal = sig; }

void cdn_signals_install(void)
{
  struct sigaction sa;

  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART; /* a signal never fails a read or write in progress */
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGUSR1, &sa, NULL);
}

int cdn_signals_caught(void) { return (int)stop_signal; }

/* Test hooks: -cnndyn_test_* options of the PETSc options database (the command line after the
   first single-dash argument, or PETSC_OPTIONS), like -cnndyn_test_dnn_guard. None changes a
   result; nothing but the tests should set them. */

/* -cnndyn_test_epoch_pause SECONDS makes every epoch end wait that long: the Slurm test uses it so
   that a tiny job is still running when Slurm's time-limit warning arrives (Slurm looks at time
   limits only every 30 s). */
PetscErrorCode cdn_test_epoch_pause(void)
{
  double s = 0;

  PetscFunctionBeginUser;
  PetscCall(cdn_option_real(NULL, "-cnndyn_test_epoch_pause", 0, 60, &s));
  if (s > 0) {
    struct timespec ts = {(time_t)s, (long)((s - (time_t)s) * 1e9)};
    while (nanosleep(&ts, &ts) != 0 && !stop_signal) {}
  }
  PetscFunctionReturn(0);
}

/* -cnndyn_test_fail_rank R makes world rank R fail at its first epoch end, after the checkpoint, as
   a full disk would. The cluster test uses it to check that a failure on any rank stops the whole
   job promptly, with the message and a non-zero exit on every rank, and that --resume then
   finishes the run. */
PetscErrorCode cdn_test_fail_point(int rank)
{
  int r = -1;

  PetscFunctionBeginUser;
  PetscCall(cdn_option_int(NULL, "-cnndyn_test_fail_rank", 0, INT_MAX, &r));
  PetscCheck(r != rank, PETSC_COMM_SELF, CDN_ERR_WRITE,
             "rank %d: simulated write failure (test hook -cnndyn_test_fail_rank)", rank);
  PetscFunctionReturn(0);
}

/* -cnndyn_test_graph_fault R makes the graph statistics on world rank R fail, R:conv fail as a
   solver that did not converge would, after the real statistics ran: tests/teamgraph.sh checks
   that a team member's failure reaches its whole team. R:early fails before the statistics run,
   as a failure inside one of their collective calls would leave the other members waiting there
   (cdn_test_graph_fault_early). *r is -1 when the option is not set. */
static PetscErrorCode graph_fault(long *r, char mode[16])
{
  char      v[64] = "", *end;
  PetscBool set   = PETSC_FALSE;

  PetscFunctionBeginUser;
  *r = -1, mode[0] = '\0';
  PetscCall(PetscOptionsGetString(NULL, NULL, "-cnndyn_test_graph_fault", v, sizeof v, &set));
  if (!set) PetscFunctionReturn(0);
  *r = strtol(v, &end, 10);
  PetscCheck(end != v && (!*end || !strcmp(end, ":conv") || !strcmp(end, ":early")), PETSC_COMM_SELF, CDN_ERR_INPUT,
             "-cnndyn_test_graph_fault: '%s' is not RANK, RANK:conv or RANK:early", v);
  snprintf(mode, 16, "%s", end);
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_test_graph_fault(int rank, PetscErrorCode ierr)
{
  char mode[16];
  long r;

  if (ierr) return ierr;
  PetscFunctionBeginUser;
  PetscCall(graph_fault(&r, mode));
  if (r != rank || !strcmp(mode, ":early")) PetscFunctionReturn(0);
  PetscCheck(strcmp(mode, ":conv"), PETSC_COMM_SELF, PETSC_ERR_CONV_FAILED, "test fault: no convergence on rank %d", rank);
  SETERRQ(PETSC_COMM_SELF, PETSC_ERR_LIB, "test fault on rank %d", rank);
}

PetscErrorCode cdn_test_graph_fault_early(int rank)
{
  char mode[16];
  long r;

  PetscFunctionBeginUser;
  PetscCall(graph_fault(&r, mode));
  if (r != rank || strcmp(mode, ":early")) PetscFunctionReturn(0);
  SETERRQ(PETSC_COMM_SELF, PETSC_ERR_LIB, "test fault on rank %d before the statistics", rank);
}

/* How long a team member whose graph statistics failed waits for the others' verdict
   (model_graph.c): 600 s; -cnndyn_test_team_wait SECONDS shortens it for tests. */
PetscErrorCode cdn_team_wait_seconds(double *seconds)
{
  PetscFunctionBeginUser;
  *seconds = 600;
  PetscCall(cdn_option_real(NULL, "-cnndyn_test_team_wait", 0.01, 600, seconds));
  PetscFunctionReturn(0);
}
