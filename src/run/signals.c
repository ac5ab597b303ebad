/* SIGTERM and SIGUSR1 (what Slurm sends before a time limit with --signal, and what it sends on
   preemption) ask the run to stop cleanly: the handler only records the request; training looks
   at it at the end of each epoch, after the checkpoint, so no work of a finished epoch is lost. */
#include <signal.h>
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

/* CNNDYN_TEST_EPOCH_PAUSE=SECONDS makes every epoch end wait that long: the Slurm test uses it so
   that a tiny job is still running when Slurm's time-limit warning arrives (Slurm looks at time
   limits only every 30 s). It changes no result; nothing else should set it. */
void cdn_test_epoch_pause(void)
{
  const char *v = getenv("CNNDYN_TEST_EPOCH_PAUSE");
  double      s = v ? atof(v) : 0;
  if (s > 0 && s < 60) {
    struct timespec ts = {(time_t)s, (long)((s - (time_t)s) * 1e9)};
    while (nanosleep(&ts, &ts) != 0 && !stop_signal) {}
  }
}

/* CNNDYN_TEST_FAIL_RANK=R makes world rank R fail at its first epoch end, after the checkpoint, as
   a full disk would. The cluster test uses it to check that a failure on any rank stops the whole
   job promptly, with the message and a non-zero exit on every rank, and that --resume then
   finishes the run. Nothing else should set it. */
PetscErrorCode cdn_test_fail_point(int rank)
{
  const char *v = getenv("CNNDYN_TEST_FAIL_RANK");

  PetscFunctionBeginUser;
  PetscCheck(!v || atoi(v) != rank, PETSC_COMM_SELF, CDN_ERR_WRITE,
             "rank %d: simulated write failure (test hook CNNDYN_TEST_FAIL_RANK)", rank);
  PetscFunctionReturn(0);
}

/* CNNDYN_TEST_GRAPH_FAULT=R makes the graph statistics on world rank R fail, R:conv fail as a
   solver that did not converge would, after the real statistics ran: tests/teamgraph.sh checks
   that a team member's failure reaches its whole team. R:early fails before the statistics run,
   as a failure inside one of their collective calls would leave the other members waiting there
   (cdn_test_graph_fault_early). Nothing else should set it. */
static long graph_fault_rank(const char **mode)
{
  const char *v = getenv("CNNDYN_TEST_GRAPH_FAULT");
  char       *end;
  long        r = v ? strtol(v, &end, 10) : -1;
  if (!v || end == v) return -1;
  *mode = end;
  return r;
}

PetscErrorCode cdn_test_graph_fault(int rank, PetscErrorCode ierr)
{
  const char *mode = "";

  if (ierr || graph_fault_rank(&mode) != rank || !strcmp(mode, ":early")) return ierr;
  if (!strcmp(mode, ":conv")) SETERRQ(PETSC_COMM_SELF, PETSC_ERR_CONV_FAILED, "test fault: no convergence on rank %d", rank);
  SETERRQ(PETSC_COMM_SELF, PETSC_ERR_LIB, "test fault on rank %d", rank);
}

PetscErrorCode cdn_test_graph_fault_early(int rank)
{
  const char *mode = "";
  if (graph_fault_rank(&mode) != rank || strcmp(mode, ":early")) return 0;
  SETERRQ(PETSC_COMM_SELF, PETSC_ERR_LIB, "test fault on rank %d before the statistics", rank);
}

/* How long a team member whose graph statistics failed waits for the others' verdict (model_graph.c);
   CNNDYN_TEST_TEAM_WAIT=SECONDS shortens it for tests. */
double cdn_team_wait_seconds(void)
{
  const char *v = getenv("CNNDYN_TEST_TEAM_WAIT");
  double      s = v ? atof(v) : 0;
  return s > 0 ? s : 600;
}
