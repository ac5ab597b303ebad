/* Writes the training and test images of JOB.ini exactly as cnndyn loads them (the seeded
   validation carve-out, train_size, test_size) with the normalisation cnndyn applies, so that
   bench/torch/torch_grid.py trains PyTorch on the same items without a second copy of the split.
   Usage: bench_split JOB.ini OUT.bin. OUT.bin (little endian): int32 ntrain, ntest, c, h, w;
   float32 scale, shift (a pixel p becomes p * scale - shift, as cdn_batch_fill computes it);
   uint8 train pixels, train labels, test pixels, test labels. */
#include <stdio.h>
#include "cnndyn/data.h"
#include "cnndyn/jobspec.h"

static int put(FILE *f, const void *p, size_t n) { return fwrite(p, 1, n, f) == n ? 0 : 1; }

int main(int argc, char **argv)
{
  cdn_jobspec_t spec;
  cdn_data_t   *data = NULL;
  FILE         *f;
  int           bad = 0;

  if (cdn_initialize(&argc, &argv, NULL)) return 1;
  if (argc != 3) {
    fprintf(stderr, "usage: bench_split JOB.ini OUT.bin\n");
    return 2;
  }
  if (cdn_jobspec_load(PETSC_COMM_WORLD, argv[1], &spec) || cdn_data_load(PETSC_COMM_WORLD, &spec, &data))
    return cdn_error_exit("bench_split");
  if (!(f = fopen(argv[2], "wb"))) {
    perror(argv[2]);
    return 1;
  }
  {
    const cdn_images_t *tr = &data->train, *te = &data->test;
    int32_t hdr[5] = {tr->n, te->n, tr->c, tr->h, tr->w};
    float   norm[2] = {1.0f / (255.0f * data->std), data->mean / data->std}; /* cdn_batch_fill's two floats */
    size_t  item = (size_t)tr->c * tr->h * tr->w;
    bad |= put(f, hdr, sizeof hdr) | put(f, norm, sizeof norm);
    bad |= put(f, tr->pixels, item * tr->n) | put(f, tr->labels, (size_t)tr->n);
    bad |= put(f, te->pixels, item * te->n) | put(f, te->labels, (size_t)te->n);
  }
  bad |= fclose(f) != 0;
  if (bad) fprintf(stderr, "%s: cannot write\n", argv[2]);
  bad |= cdn_data_destroy(&data) != 0;
  cdn_finalize();
  return bad;
}
