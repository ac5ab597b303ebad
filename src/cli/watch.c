/* cnndyn watch ENDPOINT [--timeout SECONDS]: the progress viewer (src/progress/watch.c). */
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "cnndyn/progress.h"
#include "cnndyn/util.h"

int cdn_cli_watch(int argc, char **argv, PetscErrorCode *ierr)
{
  const char *endpoint = NULL;
  double      timeout  = 10;
  PetscMPIInt rank;

  *ierr = 0;
  for (int i = 0; i < argc; i++) {
    if (!strcmp(argv[i], "--timeout")) {
      if (++i == argc) return cdn_cli_usage_error("%s", "--timeout needs a number of seconds");
      if (cdn_parse_real(argv[i], &timeout) != CDN_NUMBER_OK || !(timeout > 0) || timeout > 1e9) return cdn_cli_usage_error("watch: --timeout '%s' is not a positive number", argv[i]);
    } else if (argv[i][0] == '-') return cdn_cli_usage_error("watch: unknown option '%s'", argv[i]);
    else if (endpoint) return cdn_cli_usage_error("watch: unexpected argument '%s' (one endpoint only)", argv[i]);
    else endpoint = argv[i];
  }
  if (!endpoint) return cdn_cli_usage_error("%s", "watch: no endpoint given (e.g. tcp://127.0.0.1:5557)");
  MPI_Comm_rank(PETSC_COMM_WORLD, &rank);
  return rank == 0 ? cdn_watch(endpoint, timeout, stdout) : 0;
}
