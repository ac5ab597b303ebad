/* What every fuzz target shares: PETSc started once with quiet errors, and a scratch folder
   (in memory where /dev/shm exists) that inputs are written to for the readers that take paths. */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cnndyn/util.h"
#include "fuzz.h"

static char scratch[256];
static int  free_fd; /* the lowest free descriptor when the input was written */

/* The descriptor the next open() gets: it grows when a reader leaves a file open. */
static int lowest_free_fd(void)
{
  int fd = open("/dev/null", O_RDONLY);
  if (fd >= 0) close(fd);
  return fd;
}

static void empty_scratch(void)
{
  DIR           *d = opendir(scratch);
  struct dirent *e;

  if (!d) return;
  while ((e = readdir(d)))
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) unlinkat(dirfd(d), e->d_name, 0);
  closedir(d);
}

static void remove_scratch(void)
{
  empty_scratch();
  rmdir(scratch);
}

void cdn_fuzz_init(void)
{
  static int  done;
  int         argc   = 1;
  static char name[] = "cnndyn-fuzz", *args[] = {name, NULL};
  char      **argv   = args;
  const char *tmp    = getenv("TMPDIR");

  if (done) return;
  done = 1;
  /* PETSc's own SIGSEGV handler would hide the sanitizer's report */
  if (PetscOptionsSetValue(NULL, "-no_signal_handler", NULL) || cdn_initialize(&argc, &argv, NULL) ||
      cdn_error_push_quiet())
    abort();
  snprintf(scratch, sizeof scratch, "%s/cnndyn-fuzz-XXXXXX",
           access("/dev/shm", W_OK) == 0 ? "/dev/shm" : tmp && tmp[0] ? tmp : "/tmp");
  if (!mkdtemp(scratch)) {
    perror("cnndyn fuzz: scratch folder");
    abort();
  }
  atexit(remove_scratch);
}

void cdn_fuzz_verdict(PetscErrorCode ierr)
{
  static int verbose = -1; /* CDN_FUZZ_VERBOSE set: print every verdict, to check new seeds */

  if (verbose < 0) verbose = getenv("CDN_FUZZ_VERBOSE") != NULL;
  if (verbose) fprintf(stderr, "  -> %s\n", ierr ? cdn_error_message() : "accepted");
  if (lowest_free_fd() != free_fd) {
    fprintf(stderr, "cnndyn fuzz: the reader left a file open (%s)\n", ierr ? cdn_error_message() : "no error");
    abort();
  }
  if (!ierr || cdn_error_is_user(ierr)) return;
  fprintf(stderr, "cnndyn fuzz: error %d is not a user error: %s\n", (int)ierr, cdn_error_message());
  abort();
}

static void put(const char *name, const uint8_t *data, size_t size)
{
  char  path[512];
  FILE *fp;

  if (!name[0] || strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, "..")) return;
  snprintf(path, sizeof path, "%s/%s", scratch, name);
  fp = fopen(path, "wb");
  if (!fp || fwrite(data, 1, size, fp) != size || fclose(fp)) {
    perror(path);
    abort();
  }
}

const char *cdn_fuzz_file(const char *name, const uint8_t *data, size_t size)
{
  cdn_fuzz_init();
  empty_scratch();
  put(name, data, size);
  free_fd = lowest_free_fd();
  return scratch;
}

/* The next "\n=== " at or after p, or end. */
static const uint8_t *next_mark(const uint8_t *p, const uint8_t *end)
{
  for (; end - p >= 5; p++)
    if (!memcmp(p, "\n=== ", 5)) return p;
  return end;
}

const char *cdn_fuzz_files(const char *first, const uint8_t *data, size_t size)
{
  const uint8_t *end = data + size, *p = data + 4, *m;
  char           name[128];

  cdn_fuzz_init();
  empty_scratch();
  if (size < 4 || memcmp(data, "=== ", 4)) { /* unless the input starts with a named file */
    m = next_mark(data, end);
    put(first, data, (size_t)(m - data));
    if (m == end) {
      free_fd = lowest_free_fd();
      return scratch;
    }
    p = m + 5;
  }
  for (;;) { /* p: just after "=== " */
    const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
    size_t         len;
    if (!nl) break;
    len = (size_t)(nl - p) < sizeof name ? (size_t)(nl - p) : sizeof name - 1;
    memcpy(name, p, len);
    name[len] = '\0';
    m         = next_mark(nl + 1, end);
    if (!memchr(name, '\0', len)) put(name, nl + 1, (size_t)(m - nl - 1));
    if (m == end) break;
    p = m + 5;
  }
  free_fd = lowest_free_fd();
  return scratch;
}
