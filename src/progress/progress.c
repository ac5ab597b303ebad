/* Progress events: PUSH sockets on every rank, a PULL + PUB forwarder thread on the root. The
   thread calls neither MPI nor PETSc, so the ranks keep MPI single-threaded. Every socket has
   ZMQ_LINGER 0 and sends are ZMQ_DONTWAIT with a bounded queue (high-water mark): a slow or
   absent watcher costs dropped messages, never training time, and shutdown never hangs. */
#include <cjson/cJSON.h>
#include <math.h>
#include <pthread.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>
#include "cnndyn/progress.h"
#include "progress_internal.h"

#define HWM 1000 /* queued messages per socket before new ones are dropped */
/* A PUB socket drops what it sends before a subscriber's handshake completes, so the thread holds
   its first events this long after binding: a watcher started before the run (it retries its
   connection every RECONNECT_MS) sees every event. The events wait in the thread's queue, not in
   training. */
#define JOIN_GRACE_US 500000
#define RECONNECT_MS  50

struct cdn_progress {
  void     *ctx, *push;
  int       root, quiet, tty, nmodels, epochs, ranks;
  pthread_t thread;
  int       thread_started;
  void     *pull, *pub, *ctl; /* the root thread's sockets */
  MPI_Comm  comm;
};

double cdn_progress_now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

void cdn_progress_socket_options(void *s)
{
  int zero = 0, hwm = HWM, reconnect = RECONNECT_MS;
  zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof zero);
  zmq_setsockopt(s, ZMQ_RECONNECT_IVL, &reconnect, sizeof reconnect);
  zmq_setsockopt(s, ZMQ_SNDHWM, &hwm, sizeof hwm);
  zmq_setsockopt(s, ZMQ_RCVHWM, &hwm, sizeof hwm);
}

static void num(char *buf, size_t n, double v)
{
  if (isfinite(v)) snprintf(buf, n, "%.6g", v);
  else snprintf(buf, n, "null");
}

static void send_text(void *s, const char *text) { zmq_send(s, text, strlen(text), ZMQ_DONTWAIT); }

/* ---- the root's thread ------------------------------------------------------------------------ */

typedef struct {
  int    done, diverged, pruned, running;
  char  *state; /* per model: 0 not seen, 1 running, 2 finished */
  double t0, last_line, last_summary;
} tally_t;

static void summary_json(const cdn_progress_t *p, const tally_t *t, const char *event, char *buf, size_t n)
{
  snprintf(buf, n,
           "{\"event\":\"%s\",\"models\":%d,\"epochs\":%d,\"ranks\":%d,\"done\":%d,\"diverged\":%d,\"pruned\":%d,\"running\":%d,\"elapsed\":%.1f}",
           event, p->nmodels, p->epochs, p->ranks, t->done, t->diverged, t->pruned, t->running, cdn_progress_now() - t->t0);
}

static void count_event(const cdn_progress_t *p, tally_t *t, const char *msg, size_t n)
{
  cJSON      *j = cJSON_ParseWithLength(msg, n);
  const char *ev;
  double      v;
  int         m;

  if (!j) return;
  ev = cJSON_GetStringValue(cJSON_GetObjectItem(j, "event"));
  v  = cJSON_GetNumberValue(cJSON_GetObjectItem(j, "model")); /* NaN when absent: test before the cast */
  m  = v >= 0 && v < p->nmodels ? (int)v : -1;
  if (ev && m >= 0) {
    if (!strcmp(ev, "epoch") && t->state[m] == 0) t->state[m] = 1, t->running++;
    if (!strcmp(ev, "model") && t->state[m] != 2) {
      if (t->state[m] == 1) t->running--;
      t->state[m] = 2;
      t->done++;
      t->diverged += !strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(j, "status")) ?: "", "diverged");
      t->pruned += !strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(j, "status")) ?: "", "pruned");
    }
  }
  cJSON_Delete(j);
}

static void show(const cdn_progress_t *p, tally_t *t, int final)
{
  double now = cdn_progress_now(), el = now - t->t0;
  double eta = t->done ? el / t->done * (p->nmodels - t->done) : NAN;
  char   line[160];

  if (p->quiet) return;
  snprintf(line, sizeof line, "%d/%d models done, %d running, %d diverged, %d pruned, %.0f s elapsed", t->done,
           p->nmodels, t->running, t->diverged, t->pruned, el);
  if (isfinite(eta) && !final) snprintf(line + strlen(line), sizeof line - strlen(line), ", ETA %.0f s", eta);
  if (p->tty) {
    char bar[31];
    int  k = p->nmodels ? (int)(30.0 * t->done / p->nmodels) : 30;
    for (int i = 0; i < 30; i++) bar[i] = i < k ? '#' : '.';
    bar[30] = '\0';
    fprintf(stderr, "\r[%s] %s\033[K%s", bar, line, final ? "\n" : "");
  } else if (final || now - t->last_line >= 10) {
    fprintf(stderr, "cnndyn: %s\n", line); /* a batch log gets a line at most every 10 s */
    t->last_line = now;
  }
  fflush(stderr);
}

static void *forward(void *arg)
{
  cdn_progress_t *p = arg;
  tally_t         t = {0};
  char            msg[4096], sum[512];

  t.state = calloc(p->nmodels > 0 ? p->nmodels : 1, 1);
  t.t0 = t.last_summary = cdn_progress_now();
  t.last_line           = t.t0;
  if (p->pub) usleep(JOIN_GRACE_US);
  for (;;) {
    zmq_pollitem_t items[2] = {{p->pull, 0, ZMQ_POLLIN, 0}, {p->ctl, 0, ZMQ_POLLIN, 0}};
    int            rc       = zmq_poll(items, 2, 500);
    if (rc < 0 && zmq_errno() != EINTR) break;
    if (items[0].revents & ZMQ_POLLIN) {
      int n = zmq_recv(p->pull, msg, sizeof msg, ZMQ_DONTWAIT);
      if (n > 0 && n <= (int)sizeof msg) {
        if (p->pub) zmq_send(p->pub, msg, n, ZMQ_DONTWAIT);
        if (t.state) count_event(p, &t, msg, n);
        show(p, &t, 0);
      }
    }
    if (items[1].revents & ZMQ_POLLIN) break; /* stop: everything sent before it has arrived */
    if (cdn_progress_now() - t.last_summary >= 1) {
      summary_json(p, &t, "summary", sum, sizeof sum);
      if (p->pub) send_text(p->pub, sum);
      t.last_summary = cdn_progress_now();
      show(p, &t, 0);
    }
  }
  /* drain what is still queued, then say goodbye */
  for (int n; (n = zmq_recv(p->pull, msg, sizeof msg, ZMQ_DONTWAIT)) > 0;) {
    if (p->pub) zmq_send(p->pub, msg, n <= (int)sizeof msg ? n : (int)sizeof msg, ZMQ_DONTWAIT);
    if (t.state && n <= (int)sizeof msg) count_event(p, &t, msg, n);
  }
  summary_json(p, &t, "end", sum, sizeof sum);
  if (p->pub) send_text(p->pub, sum);
  show(p, &t, 1);
  free(t.state);
  return NULL;
}

/* ---- every rank ------------------------------------------------------------------------------- */

PetscErrorCode cdn_progress_start(MPI_Comm comm, const char *endpoint, int nmodels, int epochs, PetscBool quiet,
                                  cdn_progress_t **pp)
{
  cdn_progress_t *p;
  PetscMPIInt     rank, size, local_size;
  MPI_Comm        node;
  char            addr[256] = "", host[200] = "127.0.0.1";
  int             one_node;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  PetscCallMPI(MPI_Comm_size(comm, &size));
  PetscCallMPI(MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node));
  PetscCallMPI(MPI_Comm_size(node, &local_size));
  PetscCallMPI(MPI_Comm_free(&node));
  one_node = local_size == size;
  PetscCall(PetscCalloc1(1, &p));
  p->comm = comm;
  p->root = rank == 0, p->quiet = quiet, p->nmodels = nmodels, p->epochs = epochs, p->ranks = size;
  p->ctx = zmq_ctx_new();
  PetscCheck(p->ctx, PETSC_COMM_SELF, PETSC_ERR_LIB, "zmq_ctx_new: %s", zmq_strerror(zmq_errno()));
  if (p->root) {
    size_t len = sizeof addr;
    p->tty     = isatty(2);
    p->pull    = zmq_socket(p->ctx, ZMQ_PULL);
    p->ctl     = zmq_socket(p->ctx, ZMQ_PAIR);
    cdn_progress_socket_options(p->pull);
    cdn_progress_socket_options(p->ctl);
    /* ranks on other nodes reach the root by its host name; on one node loopback is enough */
    PetscCheck(zmq_bind(p->pull, one_node ? "tcp://127.0.0.1:*" : "tcp://*:*") == 0, PETSC_COMM_SELF, PETSC_ERR_LIB,
               "progress: cannot bind the internal socket: %s", zmq_strerror(zmq_errno()));
    zmq_getsockopt(p->pull, ZMQ_LAST_ENDPOINT, addr, &len);
    if (!one_node) gethostname(host, sizeof host);
    PetscCheck(zmq_bind(p->ctl, "inproc://cdn-progress-stop") == 0, PETSC_COMM_SELF, PETSC_ERR_LIB,
               "progress: %s", zmq_strerror(zmq_errno()));
    if (endpoint && endpoint[0]) {
      p->pub = zmq_socket(p->ctx, ZMQ_PUB);
      cdn_progress_socket_options(p->pub);
      if (zmq_bind(p->pub, endpoint) != 0) {
        fprintf(stderr, "cnndyn: warning: progress not published: cannot bind %s: %s\n", endpoint,
                zmq_strerror(zmq_errno()));
        zmq_close(p->pub);
        p->pub = NULL;
      }
    }
  }
  PetscCallMPI(MPI_Bcast(addr, sizeof addr, MPI_CHAR, 0, comm));
  PetscCallMPI(MPI_Bcast(host, sizeof host, MPI_CHAR, 0, comm));
  {
    const char *port = strrchr(addr, ':');
    char        conn[512];
    snprintf(conn, sizeof conn, "tcp://%s%s", host, port ? port : ":0");
    p->push = zmq_socket(p->ctx, ZMQ_PUSH);
    cdn_progress_socket_options(p->push);
    PetscCheck(p->push && zmq_connect(p->push, conn) == 0, PETSC_COMM_SELF, PETSC_ERR_LIB, "progress: cannot connect to %s: %s",
               conn, zmq_strerror(zmq_errno()));
  }
  if (p->root) {
    PetscCheck(pthread_create(&p->thread, NULL, forward, p) == 0, PETSC_COMM_SELF, PETSC_ERR_SYS,
               "progress: cannot start the thread");
    p->thread_started = 1;
  }
  *pp = p;
  PetscFunctionReturn(0);
}

void cdn_progress_epoch(cdn_progress_t *p, int model, int epoch, double train_loss, double val_loss, double val_acc,
                        double seconds, int rank)
{
  char msg[512], a[32], b[32], c[32], d[32];

  if (!p) return;
  num(a, sizeof a, train_loss), num(b, sizeof b, val_loss), num(c, sizeof c, val_acc), num(d, sizeof d, seconds);
  snprintf(msg, sizeof msg,
           "{\"event\":\"epoch\",\"model\":%d,\"epoch\":%d,\"train_loss\":%s,\"val_loss\":%s,\"val_acc\":%s,\"seconds\":%s,\"rank\":%d}",
           model, epoch, a, b, c, d, rank);
  send_text(p->push, msg);
}

void cdn_progress_model(cdn_progress_t *p, int model, const char *status, int rank)
{
  char msg[256];

  if (!p) return;
  snprintf(msg, sizeof msg, "{\"event\":\"model\",\"model\":%d,\"status\":\"%s\",\"rank\":%d}", model,
           status, rank);
  send_text(p->push, msg);
}

PetscErrorCode cdn_progress_stop(cdn_progress_t **pp)
{
  cdn_progress_t *p = *pp;

  PetscFunctionBeginUser;
  if (!p) PetscFunctionReturn(0);
  /* A rank's last events must not be dropped at close: with a linger, zmq_ctx_term below keeps
     delivering what is still queued, for at most 2 s (if the root cannot be reached). The root's
     thread takes what has arrived by the time it hears "stop", after the barrier and a pause. */
  {
    int linger = 2000;
    zmq_setsockopt(p->push, ZMQ_LINGER, &linger, sizeof linger);
  }
  zmq_close(p->push);
  PetscCallMPI(MPI_Barrier(p->comm));
  if (p->thread_started) {
    void *s = zmq_socket(p->ctx, ZMQ_PAIR);
    cdn_progress_socket_options(s);
    usleep(100000); /* lets pushes in flight on the loopback reach the thread */
    zmq_connect(s, "inproc://cdn-progress-stop");
    zmq_send(s, "stop", 4, 0);
    pthread_join(p->thread, NULL);
    zmq_close(s);
    /* give a subscriber the chance to receive "end" before the socket goes */
    if (p->pub) usleep(200000);
  }
  if (p->pull) zmq_close(p->pull);
  if (p->pub) zmq_close(p->pub);
  if (p->ctl) zmq_close(p->ctl);
  zmq_ctx_term(p->ctx);
  PetscCall(PetscFree(p));
  *pp = NULL;
  PetscFunctionReturn(0);
}
