#pragma once
/* Shared plumbing: start-up, user-facing errors, random numbers, atomic files. */
#include <petscsys.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* ---- start-up ------------------------------------------------------------------------------ */

/* PetscInitialize + SlepcInitialize, and installs cnndyn's error handler: errors caused by the user
   (codes below) are recorded and returned quietly so the caller prints one clear line; every other
   error gets PETSc's traceback. */
PetscErrorCode cdn_initialize(int *argc, char ***argv, const char *help);
PetscErrorCode cdn_finalize(void);

/* ---- user-facing errors -------------------------------------------------------------------- */

/* Bad job spec, bad option, missing or corrupt input: raise with one of these codes and a message
   that names the file, line or field. */
#define CDN_ERR_INPUT   PETSC_ERR_USER_INPUT       /* "file:line: key: reason" */
#define CDN_ERR_OPEN    PETSC_ERR_FILE_OPEN        /* "path: reason" */
#define CDN_ERR_CORRUPT PETSC_ERR_FILE_UNEXPECTED  /* "path: what is wrong" */
#define CDN_ERR_WRITE   PETSC_ERR_FILE_WRITE       /* "path: reason" */

PetscBool   cdn_error_is_user(PetscErrorCode code);
/* The message of the most recent error raised on this rank ("" if none). */
const char *cdn_error_message(void);
/* For small tools (the benches): prints "who: error: message" to stderr and returns 1, an exit
   status. A user error passes up unprinted (the CLI prints it once); without this a tool that
   only returned would end silently. */
int         cdn_error_exit(const char *who);

/* Between these two calls errors are recorded (cdn_error_message) but not printed, for a caller
   that handles them itself. */
PetscErrorCode cdn_error_push_quiet(void);
PetscErrorCode cdn_error_pop_quiet(void);

/* Call on every rank of comm after work that may have failed on some ranks only (for example a
   file read on rank 0). If any rank failed, every rank returns the error of the lowest failing
   rank, with its message, so that no rank waits for a peer that has left. */
PetscErrorCode cdn_error_share(MPI_Comm comm, PetscErrorCode local);

/* ---- cnndyn's options in the PETSc options database (src/util/options.c) --------------------- */

/* -PREFIXNAME (name with its dash, prefix without, NULL for none) as a decimal integer or plain
   decimal number in [lo, hi]; *v is left as it is (the default) when the option is not given. Any
   other value is CDN_ERR_INPUT: "-OPTION: 'VALUE' is not an integer in [LO, HI]". */
PetscErrorCode cdn_option_int(const char *prefix, const char *name, int lo, int hi, int *v);
PetscErrorCode cdn_option_real(const char *prefix, const char *name, double lo, double hi, double *v);

/* ---- random numbers (xoshiro256**, seeded through splitmix64) -------------------------------- */

typedef struct {
  uint64_t s[4];
} cdn_rng_t;

/* Independent streams: the state depends only on (seed, stream), never on rank or time. */
void     cdn_rng_seed(cdn_rng_t *rng, uint64_t seed, uint64_t stream);
uint64_t cdn_rng_u64(cdn_rng_t *rng);
double   cdn_rng_uniform(cdn_rng_t *rng);              /* [0, 1) with 53 random bits */
double   cdn_rng_normal(cdn_rng_t *rng);               /* standard normal, Box-Muller */
uint64_t cdn_rng_below(cdn_rng_t *rng, uint64_t n);    /* uniform in [0, n), unbiased */
void     cdn_rng_shuffle(cdn_rng_t *rng, int *a, int n); /* Fisher-Yates */
uint64_t cdn_hash64(uint64_t a, uint64_t b);           /* mixes two words into a seed */

/* ---- numbers in text (src/jobspec/values.c) -------------------------------------------------- */

/* Every reader of numbers (job specs, run CSVs, saved predictors) takes plain decimal text only:
   [+-]digits[.digits][e[+-]digits], the whole string, never hex floats, inf, nan or blanks. */
typedef enum { CDN_NUMBER_OK, CDN_NUMBER_SYNTAX, CDN_NUMBER_HUGE, CDN_NUMBER_TINY } cdn_number_t;
/* *x is the value (also for TINY, where it is subnormal or 0: the caller decides). */
cdn_number_t cdn_parse_real(const char *s, double *x);
/* A decimal integer that fits in 64 bits. */
cdn_number_t cdn_parse_integer(const char *s, long long *x);
/* text past a UTF-8 byte order mark, if it starts with one (editors on Windows write it; it is not
   part of a file's first line): every reader of text files skips it this way. */
static inline const char *cdn_skip_bom(const char *text) { return strncmp(text, "\xEF\xBB\xBF", 3) ? text : text + 3; }
/* "is not a plain decimal number", ...: follows the text in a message. */
const char  *cdn_number_problem(cdn_number_t code);
/* NULL for a ZeroMQ endpoint cnndyn can use (tcp://HOST:PORT with PORT 1-65535 or *, ipc://PATH),
   else why not ("has no valid TCP port (1 to 65535)"), to follow the endpoint in a message. */
const char  *cdn_endpoint_problem(const char *s);

/* ---- sorted values ------------------------------------------------------------------------- */

void   cdn_sort_doubles(double *v, int n); /* ascending; NaN must be filtered out first */
/* A value and the integer it belongs to (an index, a class), sorted by value, then by the integer:
   the one order for ranks, thresholds and ties. */
typedef struct {
  double v;
  int    i;
} cdn_pair_t;
int cdn_pair_cmp(const void *p, const void *q); /* for qsort over cdn_pair_t; NaN must be filtered out first */
/* numpy's default ("linear") quantile: position q*(n-1) of the sorted values, interpolated; NaN
   for n < 1. */
double cdn_quantile_sorted(const double *sorted, int n, double q);
/* Order statistics of v[0..n) without sorting it (expected O(n), a sort's n log n): kout[j] gets
   the value of rank k[j] in v sorted ascending (cdn_sort_doubles), qout[j] exactly
   cdn_quantile_sorted of the sorted values at q[j]. v is reordered; NaN must be filtered out
   first; n < 1 gives NaN everywhere. */
void   cdn_select(double *v, int n, const int *k, int nk, double *kout, const double *q, int nq, double *qout);

/* ---- atomic output files ------------------------------------------------------------------- */

/* Write to "PATH.tmp.PID", then fsync and rename onto PATH in cdn_afile_commit. A file that was
   not committed is removed by cdn_afile_abort, so no half-written output is ever left behind.
   unsynced (set before the commit): no fsync, only the rename. For files whose reader checks a
   checksum and can make a lost or torn one again (checkpoints, src/run/checkpoint.c): after a
   crash of the machine, not of the process, the last of them may be missing or torn. */
typedef struct {
  FILE     *fp;
  char      path[PETSC_MAX_PATH_LEN];
  char      tmp[PETSC_MAX_PATH_LEN + 32];
  PetscBool unsynced;
} cdn_afile_t;

PetscErrorCode cdn_afile_open(cdn_afile_t *af, const char *path);
PetscErrorCode cdn_afile_commit(cdn_afile_t *af);
void           cdn_afile_abort(cdn_afile_t *af);

/* A name that is one file inside its folder: not empty, no '/', not "." or "..". Every path built
   from a name read from input (a snapshot's layer names) is checked with it. */
int cdn_file_name_ok(const char *name);

/* Creates a directory and its parents (mkdir -p); fine if it exists. */
PetscErrorCode cdn_mkdir_p(const char *path);
/* Everything written to the file system holding path, onto disk with one syncfs for many files
   committed unsynced. begin opens a descriptor on path before those files are written, because
   syncfs reports a failed write-back only to descriptors opened before it happened (another
   process's syncfs may have been told first); end syncs, closes *fd and sets it to -1 (-1: nothing
   to do). */
PetscErrorCode cdn_sync_fs_begin(const char *path, int *fd);
PetscErrorCode cdn_sync_fs_end(int *fd, const char *path);

/* ---- checksums ------------------------------------------------------------------------------ */

/* CRC-32 of a whole file's bytes (zlib's crc32, the one of gzip, PNG and Python's zlib.crc32) and
   its size: what checkpoints, snapshots and the data set record to tell a damaged or changed file. */
PetscErrorCode cdn_file_crc32(const char *path, uint32_t *crc, uint64_t *size);
