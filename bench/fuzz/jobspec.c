/* Job spec: the file as `cnndyn run` reads it (cdn_jobspec_load on one rank). */
#include "cnndyn/jobspec.h"
#include "fuzz.h"

int cdn_fuzz_jobspec(const uint8_t *data, size_t size)
{
  static cdn_jobspec_t spec; /* large: not on the stack */
  char                 path[512];

  snprintf(path, sizeof path, "%s/job.ini", cdn_fuzz_file("job.ini", data, size));
  cdn_fuzz_verdict(cdn_jobspec_load(PETSC_COMM_SELF, path, &spec));
  return 0;
}
