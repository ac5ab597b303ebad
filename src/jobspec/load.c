/* Loading a job spec on a communicator: only rank 0 touches the file, so a spec on a node-local
   disk or a file being edited cannot give ranks different jobs; every rank then gets the same
   spec, or the same error, and leaves together. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "cnndyn/jobspec.h"
#include "cnndyn/population.h"
#include "cnndyn/util.h"
#include "values.h"

#define SPEC_MAX_BYTES (1 << 20) /* a job spec is a page of text; anything bigger is the wrong file */

static PetscErrorCode read_text(const char *path, char **text)
{
  FILE  *fp = fopen(path, "rb");
  size_t n;
  int    err;

  PetscFunctionBeginUser;
  *text = NULL;
  if (!fp) SETERRQ(PETSC_COMM_SELF, CDN_ERR_OPEN, "%s: cannot read: %s", path, strerror(errno));
  *text = malloc(SPEC_MAX_BYTES + 1);
  if (!*text) {
    fclose(fp);
    SETERRQ(PETSC_COMM_SELF, PETSC_ERR_MEM, "%s: out of memory reading the job spec", path);
  }
  n   = fread(*text, 1, SPEC_MAX_BYTES + 1, fp);
  err = ferror(fp) ? errno : 0; /* e.g. EISDIR for a folder */
  fclose(fp);
  (*text)[n < SPEC_MAX_BYTES ? n : SPEC_MAX_BYTES] = '\0';
  if (err || n > SPEC_MAX_BYTES || memchr(*text, '\0', n)) {
    free(*text);
    *text = NULL;
    if (err) SETERRQ(PETSC_COMM_SELF, CDN_ERR_OPEN, "%s: cannot read: %s", path, strerror(err));
    SETERRQ(PETSC_COMM_SELF, CDN_ERR_INPUT, "%s: not a job spec (binary, or larger than %d bytes)", path, SPEC_MAX_BYTES);
  }
  PetscFunctionReturn(0);
}

static PetscErrorCode load_root(const char *path, cdn_jobspec_t *spec)
{
  char          *text;
  int            nkeys = 0;
  PetscErrorCode ierr;

  PetscFunctionBeginUser;
  PetscCall(read_text(path, &text));
  ierr = cdn_js_parse_counted(path, text, 1, spec, &nkeys);
  free(text);
  PetscCall(ierr);
  /* an empty file is a job that was never written (or a wrong path to a placeholder): training the
     built-in population instead would spend hours on a job nobody asked for */
  PetscCheck(nkeys > 0, PETSC_COMM_SELF, CDN_ERR_INPUT,
             "%s: sets no key (empty, or only comments and section headers): not a job spec", path);
  /* the prediction compares configurations (folds are grouped by configuration): with one, a run
     would train and then report nothing */
  PetscCheck(cdn_population_configs(spec) >= 2, PETSC_COMM_SELF, CDN_ERR_INPUT,
             "%s: the population has one configuration (%d model%s): nothing to compare; give a hyperparameter, "
             "architecture, width or depth two values, or samples with a distribution",
             path, cdn_population_size(spec), cdn_population_size(spec) > 1 ? "s" : "");
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_jobspec_load(MPI_Comm comm, const char *path, cdn_jobspec_t *spec)
{
  PetscMPIInt    rank;
  PetscErrorCode local = 0;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  if (rank == 0) local = load_root(path, spec);
  PetscCall(cdn_error_share(comm, local));
  /* the spec is plain data (no pointers), so bytes are enough */
  PetscCallMPI(MPI_Bcast(spec, (int)sizeof *spec, MPI_BYTE, 0, comm));
  PetscFunctionReturn(0);
}
