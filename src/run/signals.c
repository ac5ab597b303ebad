/* SIGTERM and SIGUSR1 (what Slurm sends before a time limit with --signal, and what it sends on
   preemption) ask the run to stop cleanly: the handler only records the request; training looks
   at it at the end of each epoch, after the checkpoint, so no work of a finished epoch is lost. */
#include <signal.h>
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
