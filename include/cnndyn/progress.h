#pragma once
/* Live progress of a run. Every rank sends small JSON events (an epoch finished, a model finished)
   to the root without ever blocking; a thread on the root forwards them on a ZeroMQ PUB socket,
   publishes a summary every second (so a watcher that joins late knows where the run stands) and,
   unless quiet, draws a progress bar on stderr (a terminal) or prints a plain line now and then (a
   batch log). This module is the only one that calls ZeroMQ.

   Messages (one JSON object each, "event" first):
     {"event":"epoch","model":M,"epoch":E,"train_loss":x,"val_loss":x,"val_acc":x,"seconds":s,"rank":R}
     {"event":"model","model":M,"status":"ok"|"diverged"|"pruned","rank":R}
     {"event":"summary","models":N,"epochs":E,"ranks":P,"done":D,"diverged":V,"pruned":Q,"running":U,"elapsed":s}
     {"event":"end", ...the summary fields...}
   Numbers that are not finite are null. */
#include <petscsys.h>
#include <stdio.h>

typedef struct cdn_progress cdn_progress_t;

/* Collective on comm. endpoint "" publishes nothing (the bar still works). A publisher endpoint
   that cannot be bound (port taken) gives one warning and no publishing: progress never stops a
   run. */
PetscErrorCode cdn_progress_start(MPI_Comm comm, const char *endpoint, int nmodels, int epochs, PetscBool quiet,
                                  cdn_progress_t **p);
/* Any rank; drops the event rather than wait when the queue is full. p may be NULL. */
void cdn_progress_epoch(cdn_progress_t *p, int model, int epoch, double train_loss, double val_loss, double val_acc,
                        double seconds, int rank);
/* status: cdn_status_name's "ok", "diverged" or "pruned" (a pruned model is done: it trains no more) */
void cdn_progress_model(cdn_progress_t *p, int model, const char *status, int rank);
/* Collective: publishes "end" and closes everything. */
PetscErrorCode cdn_progress_stop(cdn_progress_t **p);

/* `cnndyn watch`: subscribes to endpoint and shows a live table (terminal) or plain lines (out is
   not a terminal) until the run ends (returns 0) or nothing arrives for timeout seconds (returns
   1 with "publisher gone"). Malformed messages are counted and skipped. */
int cdn_watch(const char *endpoint, double timeout, FILE *out);
