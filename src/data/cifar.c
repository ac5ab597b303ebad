/* CIFAR-10 binary files (cs.toronto.edu/~kriz/cifar.html, "binary version"): each record is one
   label byte and 3072 pixel bytes, the red, green and blue 32 x 32 planes in turn, which is NCHW
   already. The user supplies the files; a wrong size or a label above 9 is named with its file. */
#include <stdio.h>
#include <string.h>
#include "cnndyn/data.h"

#define REC    (1 + 3 * 32 * 32)
#define PER    10000 /* records in every file of the official set; smaller files are accepted */

static PetscErrorCode file_records(const char *path, long *n)
{
  FILE *fp = fopen(path, "rb");
  long  sz;

  PetscFunctionBeginUser;
  PetscCheck(fp, PETSC_COMM_SELF, CDN_ERR_OPEN, "%s: cannot open (CIFAR-10 binary file expected)", path);
  fseek(fp, 0, SEEK_END);
  sz = ftell(fp);
  fclose(fp);
  PetscCheck(sz > 0 && sz % REC == 0, PETSC_COMM_SELF, CDN_ERR_CORRUPT,
             "%s: %ld bytes is not a whole number of %d-byte CIFAR-10 records", path, sz, REC);
  *n = sz / REC;
  PetscFunctionReturn(0);
}

static PetscErrorCode read_records(const char *path, long n, uint8_t *pix, uint8_t *lab)
{
  FILE   *fp = fopen(path, "rb");
  uint8_t rec[REC];

  PetscFunctionBeginUser;
  PetscCheck(fp, PETSC_COMM_SELF, CDN_ERR_OPEN, "%s: cannot open", path);
  for (long i = 0; i < n; i++) {
    if (fread(rec, 1, REC, fp) != REC) {
      fclose(fp);
      SETERRQ(PETSC_COMM_SELF, CDN_ERR_CORRUPT, "%s: truncated at record %ld", path, i);
    }
    if (rec[0] > 9) {
      fclose(fp);
      SETERRQ(PETSC_COMM_SELF, CDN_ERR_CORRUPT, "%s: record %ld has label %d (CIFAR-10 labels are 0..9)", path, i,
              rec[0]);
    }
    lab[i] = rec[0];
    memcpy(pix + i * (REC - 1), rec + 1, REC - 1);
  }
  fclose(fp);
  PetscFunctionReturn(0);
}

void cdn_cifar_path(char *path, const char *dir, PetscBool train, int f)
{
  if (train) snprintf(path, CDN_DATA_PATH_LEN, "%s/data_batch_%d.bin", dir, f + 1);
  else snprintf(path, CDN_DATA_PATH_LEN, "%s/test_batch.bin", dir);
}

static PetscErrorCode cifar_fill(const char *dir, PetscBool train, cdn_idx_t *images, cdn_idx_t *labels)
{
  char path[5][CDN_DATA_PATH_LEN];
  long count[5], total = 0, off = 0;
  int  nf = train ? 5 : 1;

  PetscFunctionBeginUser;
  for (int f = 0; f < nf; f++) {
    cdn_cifar_path(path[f], dir, train, f);
    PetscCall(file_records(path[f], &count[f]));
    total += count[f];
  }
  PetscCheck(total <= 5 * PER, PETSC_COMM_SELF, CDN_ERR_CORRUPT, "%s: %ld records, more than CIFAR-10 has", dir, total);
  images->ndims = 4, images->dims[0] = (int)total, images->dims[1] = 3, images->dims[2] = images->dims[3] = 32;
  labels->ndims = 1, labels->dims[0] = (int)total;
  PetscCall(PetscMalloc1((size_t)total * (REC - 1), &images->data));
  PetscCall(PetscMalloc1(total, &labels->data));
  for (int f = 0; f < nf; f++) {
    PetscCall(read_records(path[f], count[f], images->data + off * (REC - 1), labels->data + off));
    off += count[f];
  }
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_cifar_read(const char *dir, PetscBool train, cdn_idx_t **images, cdn_idx_t **labels)
{
  cdn_idx_t     *im = NULL, *lb = NULL;
  PetscErrorCode ierr;

  PetscFunctionBeginUser;
  *images = *labels = NULL;
  ierr = PetscNew(&im);
  if (!ierr) ierr = PetscNew(&lb);
  if (!ierr) ierr = cifar_fill(dir, train, im, lb);
  if (ierr) {
    PetscCall(cdn_idx_destroy(&im));
    PetscCall(cdn_idx_destroy(&lb));
    PetscCall(ierr);
  }
  *images = im, *labels = lb;
  PetscFunctionReturn(0);
}
