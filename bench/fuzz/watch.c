/* `cnndyn watch`'s message handling, fed as zmq_recv would feed it: the input is split into
   messages at NUL bytes (a ZeroMQ message is counted, not terminated); the first byte picks the
   terminal (odd) or plain (even) output. watch.c is compiled in here for its file-local take(). */
#include "../../src/progress/watch.c"
#include <stdlib.h>
#include "fuzz.h"

int cdn_fuzz_watch(const uint8_t *data, size_t size)
{
  static FILE *null;
  view_t       v = {0};
  const uint8_t *p, *end = data + size;
  char          *msg = malloc(MSG_MAX + 1); /* as cdn_watch's buffer */

  cdn_fuzz_init();
  if (!null) null = fopen("/dev/null", "w");
  if (!msg || !null) abort();
  for (p = data + (size > 0); p < end;) {
    const uint8_t *z = memchr(p, '\0', (size_t)(end - p));
    size_t         n = (size_t)((z ? z : end) - p);
    /* what a previous, longer message left behind: never NUL, so reading past n shows */
    memset(msg, 'x', MSG_MAX + 1);
    memcpy(msg, p, n < MSG_MAX ? n : MSG_MAX);
    if (take(&v, msg, (int)n, data[0] & 1, null) == 1) break; /* cdn_watch stops at "end" */
    p += n + 1;
  }
  free(msg);
  return 0;
}
