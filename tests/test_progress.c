/* Progress over ZeroMQ on loopback, in bounded time: the watcher joins a publisher already
   running, skips malformed messages, reports the run's end, and says when the publisher is gone;
   publishing with nobody listening never blocks. The fake publisher here uses zmq directly: it
   is a test fixture standing in for a run, and it must send what a run never would. */
#include <pthread.h>
#include <unistd.h>
#include <zmq.h>
#include "check.h"
#include "cnndyn/progress.h"
#include "cnndyn/util.h"

typedef struct {
  char   endpoint[128];
  double timeout;
  FILE  *out;
  int    status, finished;
} watcher_t;

static void *watch_thread(void *arg)
{
  watcher_t *w = arg;
  w->status    = cdn_watch(w->endpoint, w->timeout, w->out);
  w->finished  = 1;
  return NULL;
}

static void *publisher(void *ctx, char *endpoint, size_t n)
{
  void *pub  = zmq_socket(ctx, ZMQ_PUB);
  int   zero = 0;
  zmq_setsockopt(pub, ZMQ_LINGER, &zero, sizeof zero);
  zmq_bind(pub, "tcp://127.0.0.1:*");
  zmq_getsockopt(pub, ZMQ_LAST_ENDPOINT, endpoint, &n);
  return pub;
}

static void send_str(void *pub, const char *s) { zmq_send(pub, s, strlen(s), 0); }

static char *slurp(FILE *fp)
{
  static char buf[1 << 16];
  size_t      n;
  rewind(fp);
  n      = fread(buf, 1, sizeof buf - 1, fp);
  buf[n] = '\0';
  return buf;
}

/* A run of 2 models with garbage mixed in; the watcher must reach the end. */
static void test_watch_run(void *ctx)
{
  watcher_t w = {.timeout = 5, .out = tmpfile()};
  pthread_t th;
  void     *pub = publisher(ctx, w.endpoint, sizeof w.endpoint);
  const char *msgs[] = {
    "{\"event\":\"summary\",\"models\":2,\"epochs\":1,\"ranks\":2,\"done\":0,\"diverged\":0,\"running\":0,\"elapsed\":0.5}",
    "{not json",
    "\xff\xfe\x00" "binary", /* split: "\x00b" would be one hex escape */
    "[1,2,3]",
    "{\"event\":\"epoch\"}",
    "{\"event\":\"bogus\",\"model\":1}",
    "{\"event\":\"epoch\",\"model\":0,\"epoch\":1,\"train_loss\":0.5,\"val_loss\":0.6,\"val_acc\":0.7,\"seconds\":1.5,\"rank\":0}",
    "{\"event\":\"model\",\"model\":0,\"status\":\"ok\",\"rank\":0}",
    "{\"event\":\"epoch\",\"model\":1,\"epoch\":1,\"train_loss\":null,\"val_loss\":null,\"val_acc\":null,\"seconds\":null,\"rank\":1}",
    "{\"event\":\"model\",\"model\":1,\"status\":\"diverged\",\"rank\":1}",
    "{\"event\":\"end\",\"models\":2,\"epochs\":1,\"ranks\":2,\"done\":2,\"diverged\":1,\"running\":0,\"elapsed\":2.0}",
  };
  /* the publisher runs before the watcher exists: the watcher joins late */
  send_str(pub, msgs[0]);
  pthread_create(&th, NULL, watch_thread, &w);
  /* PUB drops messages until the subscription arrives: repeat the sequence until the watcher ends */
  for (int round = 0; round < 40 && !w.finished; round++) {
    for (size_t i = 0; i < sizeof msgs / sizeof msgs[0]; i++)
      zmq_send(pub, msgs[i], i == 2 ? 10 : strlen(msgs[i]), 0);
    usleep(100000);
  }
  pthread_join(th, NULL);
  char *out = slurp(w.out);
  CHECK(w.status == 0);
  CHECK_CONTAINS(out, "ignored a malformed message");
  CHECK_CONTAINS(out, "model 0 done (rank 0)");
  CHECK_CONTAINS(out, "model 1 diverged (rank 1)");
  CHECK_CONTAINS(out, "run finished: 2/2 models done, 0 running, 1 diverged");
  fclose(w.out);
  zmq_close(pub);
}

/* A message longer than the watcher's buffer is dropped with a note, never read past: before,
   the buffer was not NUL-terminated and the next event was searched together with the tail of
   the long one ("summary" in it hid the event's line; ASan saw the over-read). */
static void test_oversize_message(void *ctx)
{
  watcher_t w = {.timeout = 5, .out = tmpfile()};
  pthread_t th;
  void     *pub = publisher(ctx, w.endpoint, sizeof w.endpoint);
  char      big[5000];
  const char *epoch = "{\"event\":\"epoch\",\"model\":3,\"epoch\":1,\"train_loss\":0.5,\"val_loss\":0.6,\"val_acc\":0.7,\"seconds\":1,\"rank\":0}";
  const char *end = "{\"event\":\"end\",\"models\":4,\"epochs\":1,\"ranks\":1,\"done\":4,\"diverged\":0,\"running\":0,\"elapsed\":1}";

  memset(big, 'x', sizeof big);
  memcpy(big + 1000, "\"summary\"", 9);
  pthread_create(&th, NULL, watch_thread, &w);
  for (int round = 0; round < 40 && !w.finished; round++) {
    zmq_send(pub, big, sizeof big, 0);
    send_str(pub, epoch);
    send_str(pub, end);
    usleep(100000);
  }
  pthread_join(th, NULL);
  char *out = slurp(w.out);
  CHECK(w.status == 0);
  CHECK_CONTAINS(out, "dropped a message of 5000 bytes (more than 4096: not a progress event)");
  CHECK_CONTAINS(out, "model 3 epoch 1: val_acc 0.7000 (rank 0)");
  fclose(w.out);
  zmq_close(pub);
}

/* An endpoint that cannot exist is refused at once, not waited on until "publisher gone". */
static void test_bad_endpoint(void)
{
  const char *bad[] = {"tcp://127.0.0.1:99999", "tcp://127.0.0.1:0", "tcp://127.0.0.1", "udp://x:1", "tcp://:5557"};
  for (int i = 0; i < 5; i++) {
    FILE  *out = tmpfile();
    double t0  = MPI_Wtime();
    CHECK(cdn_watch(bad[i], 5, out) == 1);
    CHECK(MPI_Wtime() - t0 < 1);
    CHECK(!strstr(slurp(out), "publisher gone"));
    fclose(out);
  }
  CHECK(cdn_endpoint_problem("tcp://127.0.0.1:5557") == NULL && cdn_endpoint_problem("ipc:///tmp/x") == NULL);
  CHECK_CONTAINS(cdn_endpoint_problem("tcp://127.0.0.1:99999"), "no valid TCP port");
}

/* A publisher that goes away without "end": the watcher says so after its timeout. */
static void test_publisher_gone(void *ctx)
{
  watcher_t w = {.timeout = 1, .out = tmpfile()};
  pthread_t th;
  void     *pub = publisher(ctx, w.endpoint, sizeof w.endpoint);
  double    t0  = MPI_Wtime();

  pthread_create(&th, NULL, watch_thread, &w);
  for (int i = 0; i < 5; i++) {
    send_str(pub, "{\"event\":\"summary\",\"models\":4,\"epochs\":1,\"ranks\":1,\"done\":1,\"diverged\":0,\"running\":1,\"elapsed\":3}");
    usleep(100000);
  }
  zmq_close(pub);
  pthread_join(th, NULL);
  CHECK(w.status == 1);
  CHECK_CONTAINS(slurp(w.out), "publisher gone");
  CHECK(MPI_Wtime() - t0 < 4);
  fclose(w.out);
}

/* With nobody subscribed and a full queue, events are dropped, never waited for. */
static PetscErrorCode test_never_blocks(void)
{
  cdn_progress_t *p;
  double          t0;

  PetscFunctionBeginUser;
  PetscCall(cdn_progress_start(PETSC_COMM_WORLD, "tcp://127.0.0.1:*", 100000, 1, PETSC_TRUE, &p));
  t0 = MPI_Wtime();
  for (int i = 0; i < 100000; i++) cdn_progress_epoch(p, i, 1, 0.5, 0.5, 0.5, 1.0, 0);
  CHECK(MPI_Wtime() - t0 < 2);
  t0 = MPI_Wtime();
  PetscCall(cdn_progress_stop(&p));
  CHECK(p == NULL);
  CHECK(MPI_Wtime() - t0 < 3);
  PetscFunctionReturn(0);
}

int main(int argc, char **argv)
{
  void *ctx;

  if (cdn_initialize(&argc, &argv, NULL)) return 1;
  ctx = zmq_ctx_new();
  test_watch_run(ctx);
  test_publisher_gone(ctx);
  test_oversize_message(ctx);
  test_bad_endpoint();
  zmq_ctx_term(ctx);
  CHECK(test_never_blocks() == 0);
  if (cdn_finalize()) return 1;
  return CHECK_STATUS();
}
