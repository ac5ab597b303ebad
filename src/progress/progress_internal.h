#pragma once
/* Shared between the publisher and the watcher. */
double cdn_progress_now(void);               /* monotonic seconds */
void   cdn_progress_socket_options(void *s); /* ZMQ_LINGER 0 and the high-water marks */
