/* `cnndyn watch`: a subscriber that can join at any time. It keeps the latest row of every model
   it has heard of and the run's latest summary, and redraws a table (terminal) or prints plain
   lines (anything else). A message that is not the JSON it expects is counted and skipped. */
#include <cjson/cJSON.h>
#include <math.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>
#include "cnndyn/progress.h"
#include "cnndyn/util.h"
#include "progress_internal.h"

#define SHOWN 12 /* rows of the live table */
/* Our events are a few hundred bytes. A longer message is not ours: it is dropped unread, and
   ZeroMQ itself drops a connection that sends more than MSG_LIMIT, so a hostile or confused
   publisher cannot make the watcher hold more than that. */
#define MSG_MAX   4096
#define MSG_LIMIT (1 << 20)

typedef struct {
  int    model, epoch, rank, finished;
  char   status[12]; /* when finished: ok, diverged, pruned */
  double train_loss, val_loss, val_acc, seconds;
} row_t;

typedef struct {
  row_t  rows[SHOWN]; /* most recently heard of first */
  int    nrows;
  int    models, epochs, ranks, done, diverged, pruned, running, have_summary, malformed;
  double elapsed;
} view_t;

static double field(const cJSON *j, const char *k)
{
  const cJSON *v = cJSON_GetObjectItem(j, k);
  return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

/* A count, id or epoch: 0 .. 1e9, else -1 (casting NaN or 1e300 to int is undefined). */
static int ifield(const cJSON *j, const char *k)
{
  double v = field(j, k);
  return v >= 0 && v <= 1e9 ? (int)v : -1;
}

static row_t *row_for(view_t *v, int model)
{
  int i;
  for (i = 0; i < v->nrows && v->rows[i].model != model; i++) {}
  if (i == v->nrows) {
    if (v->nrows < SHOWN) v->nrows++;
    i = v->nrows - 1;
    v->rows[i] = (row_t){.model = model, .epoch = -1, .train_loss = NAN, .val_loss = NAN, .val_acc = NAN, .seconds = NAN};
  }
  row_t r = v->rows[i];
  memmove(v->rows + 1, v->rows, i * sizeof r);
  v->rows[0] = r;
  return &v->rows[0];
}

/* Returns 1 for "end", 0 otherwise; -1 for a malformed message. */
static int apply(view_t *v, const char *msg, int n)
{
  cJSON      *j = cJSON_ParseWithLength(msg, n);
  const char *ev;
  int         rc = 0;

  if (!j || !cJSON_IsObject(j) || !(ev = cJSON_GetStringValue(cJSON_GetObjectItem(j, "event")))) {
    cJSON_Delete(j);
    return -1;
  }
  if (!strcmp(ev, "summary") || !strcmp(ev, "end")) {
    int m = ifield(j, "models");
    if (m < 0) rc = -1;
    else {
      v->models = m, v->epochs = ifield(j, "epochs"), v->ranks = ifield(j, "ranks");
      v->done = ifield(j, "done"), v->diverged = ifield(j, "diverged");
      v->pruned = cJSON_GetObjectItem(j, "pruned") ? ifield(j, "pruned") : 0; /* absent before [pruning] */
      v->running = ifield(j, "running"), v->elapsed = field(j, "elapsed"), v->have_summary = 1;
      rc = !strcmp(ev, "end");
    }
  } else if (!strcmp(ev, "epoch") || !strcmp(ev, "model")) {
    int m = ifield(j, "model");
    if (m < 0) rc = -1;
    else {
      row_t *r = row_for(v, m);
      r->rank  = ifield(j, "rank");
      if (!strcmp(ev, "epoch")) {
        r->epoch = ifield(j, "epoch"), r->train_loss = field(j, "train_loss"), r->val_loss = field(j, "val_loss");
        r->val_acc = field(j, "val_acc"), r->seconds = field(j, "seconds");
      } else {
        r->finished = 1;
        const char *st = cJSON_GetStringValue(cJSON_GetObjectItem(j, "status")) ?: "";
        snprintf(r->status, sizeof r->status, "%s", !strcmp(st, "diverged") || !strcmp(st, "pruned") ? st : "done");
      }
    }
  } else rc = -1;
  cJSON_Delete(j);
  return rc;
}

static void summary_line(const view_t *v, char *buf, size_t n)
{
  double eta = v->done ? v->elapsed / v->done * (v->models - v->done) : NAN;
  if (!v->have_summary) {
    snprintf(buf, n, "waiting for the run's first summary");
    return;
  }
  snprintf(buf, n, "%d/%d models done, %d running, %d diverged, %d pruned; %d ranks; %.0f s elapsed", v->done,
           v->models, v->running, v->diverged, v->pruned, v->ranks, v->elapsed);
  if (isfinite(eta) && v->done < v->models) snprintf(buf + strlen(buf), n - strlen(buf), ", ETA %.0f s", eta);
}

static void draw(FILE *out, const view_t *v)
{
  char      line[256], bar[41];
  long long k = v->models > 0 ? 40LL * v->done / v->models : 0; /* no int overflow at 1e9 done */

  for (int i = 0; i < 40; i++) bar[i] = i < k ? '#' : '.';
  bar[40] = '\0';
  summary_line(v, line, sizeof line);
  fprintf(out, "\033[H\033[J[%s] %s\n\n%8s %6s %5s %10s %10s %8s %8s  %s\n", bar, line, "model", "epoch", "rank",
          "train_loss", "val_loss", "val_acc", "seconds", "status");
  for (int i = 0; i < v->nrows; i++) {
    const row_t *r = &v->rows[i];
    fprintf(out, "%8d %6d %5d %10.4f %10.4f %8.4f %8.2f  %s\n", r->model, r->epoch, r->rank, r->train_loss, r->val_loss,
            r->val_acc, r->seconds, r->finished ? r->status : "running");
  }
  if (v->malformed) fprintf(out, "\n%d malformed message%s ignored\n", v->malformed, v->malformed > 1 ? "s" : "");
  fflush(out);
}

/* One message as zmq_recv left it in msg[MSG_MAX + 1]: n is the message's whole length, which
   may exceed MSG_MAX (the rest was dropped). Updates the view and prints; returns apply's code.
   A function of its own so bench/fuzz feeds it the same way. */
static int take(view_t *v, char *msg, int n, int tty, FILE *out)
{
  int rc;

  if (n > MSG_MAX) { /* n is the message's size even when zmq_recv cut it */
    v->malformed++;
    fprintf(out, "dropped a message of %d bytes (more than %d: not a progress event)\n", n, MSG_MAX);
    return -1;
  }
  msg[n] = '\0'; /* zmq does not terminate it; strstr below reads up to a NUL */
  rc     = apply(v, msg, n);
  if (rc < 0) {
    v->malformed++;
    if (!tty) fprintf(out, "ignored a malformed message (%d so far)\n", v->malformed);
  } else if (tty) draw(out, v);
  else if (rc == 0 && v->nrows && !strstr(msg, "\"summary\"")) {
    const row_t *r = &v->rows[0];
    if (r->finished) fprintf(out, "model %d %s (rank %d)\n", r->model, r->status, r->rank);
    else fprintf(out, "model %d epoch %d: val_acc %.4f (rank %d)\n", r->model, r->epoch, r->val_acc, r->rank);
  }
  return rc;
}

int cdn_watch(const char *endpoint, double timeout, FILE *out)
{
  void  *ctx = zmq_ctx_new(), *sub;
  int    tty = isatty(fileno(out)), rto = 250, status = 1;
  double last = cdn_progress_now();
  view_t v    = {0};
  char   msg[MSG_MAX + 1], line[256];
  int64_t limit = MSG_LIMIT;
  const char *why = cdn_endpoint_problem(endpoint);

  if (why || strstr(endpoint, ":*")) {
    fprintf(stderr, "cnndyn: error: watch %s: %s\n", endpoint, why ? why : "needs the run's port, not *");
    zmq_ctx_term(ctx);
    return 1;
  }
  sub = zmq_socket(ctx, ZMQ_SUB);
  cdn_progress_socket_options(sub);
  zmq_setsockopt(sub, ZMQ_MAXMSGSIZE, &limit, sizeof limit);
  zmq_setsockopt(sub, ZMQ_RCVTIMEO, &rto, sizeof rto);
  zmq_setsockopt(sub, ZMQ_SUBSCRIBE, "", 0);
  if (zmq_connect(sub, endpoint) != 0) {
    fprintf(stderr, "cnndyn: error: watch %s: %s\n", endpoint, zmq_strerror(zmq_errno()));
    zmq_close(sub), zmq_ctx_term(ctx);
    return 1;
  }
  if (!tty) fprintf(out, "watching %s\n", endpoint), fflush(out);
  for (;;) {
    int n = zmq_recv(sub, msg, MSG_MAX, 0), rc; /* n is the message's size, even when cut */
    if (n < 0) {
      if (cdn_progress_now() - last > timeout) {
        fprintf(out, "publisher gone: no message from %s for %.0f s\n", endpoint, timeout);
        break;
      }
      continue;
    }
    last = cdn_progress_now();
    rc = take(&v, msg, n, tty, out);
    if (rc == 1) {
      summary_line(&v, line, sizeof line);
      fprintf(out, "run finished: %s\n", line);
      status = 0;
      break;
    }
    fflush(out);
  }
  fflush(out);
  zmq_close(sub);
  zmq_ctx_term(ctx);
  return status;
}
