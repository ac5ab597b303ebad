#pragma once
/* Fuzz targets: one cdn_fuzz_NAME per parser of outside input. Each takes arbitrary bytes, feeds
   them to the parser the way the program would, and returns 0; a finding is a crash (ASan, UBSan,
   or abort() below when a parser fails with an error that is not a user error). The same
   functions run under libFuzzer (entry.c) and under the plain replay driver (replay.c) that
   ctest uses on the committed corpora and regression cases. */
#include <petscsys.h>
#include <stddef.h>
#include <stdint.h>

int cdn_fuzz_jobspec(const uint8_t *data, size_t size);
int cdn_fuzz_idx(const uint8_t *data, size_t size);
int cdn_fuzz_cifar(const uint8_t *data, size_t size);
int cdn_fuzz_snapshot(const uint8_t *data, size_t size);
int cdn_fuzz_npz(const uint8_t *data, size_t size);
int cdn_fuzz_predictor(const uint8_t *data, size_t size);
int cdn_fuzz_results(const uint8_t *data, size_t size);
int cdn_fuzz_watch(const uint8_t *data, size_t size);

/* Once per process: PETSc up, errors recorded but not printed, an empty scratch folder. */
void cdn_fuzz_init(void);

/* A parser's verdict: success or a user error (bad input, named) is fine; anything else (a
   traceback for the user), or a file left open since the input was written, aborts, so the
   fuzzer keeps the input. */
void cdn_fuzz_verdict(PetscErrorCode ierr);

/* The scratch folder, emptied, then data written to it as the file NAME; returns the folder. */
const char *cdn_fuzz_file(const char *name, const uint8_t *data, size_t size);

/* Several files in one input, for readers of a folder: the bytes up to the first line
   "=== NAME" are the file first, each such line starts the file NAME (the '\n' before the
   line belongs to the line). Names with '/' are skipped. Returns the emptied, filled folder. */
const char *cdn_fuzz_files(const char *first, const uint8_t *data, size_t size);
