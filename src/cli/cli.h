#pragma once
#include <petscsys.h>

enum { CDN_CLI_OK = 0, CDN_CLI_INPUT = 1, CDN_CLI_USAGE = 2, CDN_CLI_INTERNAL = 3 };
/* stopped by SIGTERM/SIGUSR1 with everything checkpointed (CDN_EXIT_RESUMABLE in run.h) */
enum { CDN_CLI_RESUMABLE = 75 };

/* Each command gets its own arguments (after the command word). A usage problem is returned as
   CDN_CLI_USAGE; a failure of the work itself as *ierr. */
int cdn_cli_run(int argc, char **argv, PetscErrorCode *ierr);
int cdn_cli_graph(int argc, char **argv, PetscErrorCode *ierr);
int cdn_cli_stats(int argc, char **argv, PetscErrorCode *ierr);
int cdn_cli_watch(int argc, char **argv, PetscErrorCode *ierr);
int cdn_cli_predict(int argc, char **argv, PetscErrorCode *ierr);
int cdn_cli_merge(int argc, char **argv, PetscErrorCode *ierr);
int cdn_cli_usage_error(const char *fmt, const char *arg);
