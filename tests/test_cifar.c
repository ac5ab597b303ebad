/* CIFAR-10 binary files written here (5 tiny training files and a test file) load through the job
   spec path with the right pixels, labels, shape and split; corrupt files are refused with their
   names; random crop + flip moves pixels exactly as documented and only draws from its stream. */
#include <stdlib.h>
#include <unistd.h>
#include "check.h"
#include "cnndyn/data.h"

#define REC 3073

static char dir[] = "/tmp/cdn_cifar_XXXXXX";

static void write_file(const char *name, int n, int first, int bad_label, int truncate)
{
  char  path[256];
  FILE *fp;
  snprintf(path, sizeof path, "%s/%s", dir, name);
  fp = fopen(path, "wb");
  for (int i = 0; i < n; i++) {
    unsigned char rec[REC];
    int           id = first + i;
    rec[0]           = (unsigned char)(bad_label && i == n - 1 ? 10 : id % 10);
    for (int k = 1; k < REC; k++) rec[k] = (unsigned char)((id * 7 + k) % 251); /* pixel k-1 of item id */
    fwrite(rec, 1, truncate && i == n - 1 ? REC - 5 : REC, fp);
  }
  fclose(fp);
}

static void write_set(int bad_label, int truncate)
{
  char name[32];
  for (int f = 0; f < 5; f++) {
    snprintf(name, sizeof name, "data_batch_%d.bin", f + 1);
    write_file(name, 8, 8 * f, bad_label && f == 2, truncate && f == 4);
  }
  write_file("test_batch.bin", 6, 100, 0, 0);
}

static void test_load(void)
{
  cdn_jobspec_t spec;
  cdn_data_t   *data = NULL;
  char          text[512];
  int           seen[40] = {0};
  write_set(0, 0);
  snprintf(text, sizeof text, "[data]\ndataset = cifar10\npath = %s\nvalidation_size = 10\n", dir);
  CHECK(cdn_jobspec_parse_string("cifar.ini", text, &spec) == 0);
  CHECK(cdn_data_load(PETSC_COMM_WORLD, &spec, &data) == 0);
  CHECK(data->train.n == 30 && data->val.n == 10 && data->test.n == 6);
  CHECK(data->train.c == 3 && data->train.h == 32 && data->train.w == 32 && data->num_classes == 10);
  /* every training item is one of the 40 written, intact: find its id from pixel 0 */
  for (int s = 0; s < 2; s++) {
    cdn_images_t *set = s ? &data->val : &data->train;
    for (int i = 0; i < set->n; i++) {
      const unsigned char *p = set->pixels + (size_t)i * 3072;
      int                  id = -1;
      for (int cand = 0; cand < 40; cand++)
        if (p[0] == (cand * 7 + 1) % 251 && p[3071] == (cand * 7 + 3072) % 251 && p[1024] == (cand * 7 + 1025) % 251)
          id = cand;
      CHECK(id >= 0 && set->labels[i] == id % 10);
      if (id >= 0) seen[id]++;
    }
  }
  for (int i = 0; i < 40; i++) CHECK(seen[i] == 1); /* the split is a partition */
  CHECK(data->test.labels[3] == 103 % 10 && data->test.pixels[3 * 3072 + 2048] == (103 * 7 + 2049) % 251);
  CHECK(cdn_data_destroy(&data) == 0);

  write_set(1, 0);
  CHECK(cdn_data_load(PETSC_COMM_WORLD, &spec, &data) == CDN_ERR_CORRUPT);
  CHECK_CONTAINS(cdn_error_message(), "data_batch_3.bin: record 7 has label 10");
  write_set(0, 1);
  CHECK(cdn_data_load(PETSC_COMM_WORLD, &spec, &data) == CDN_ERR_CORRUPT);
  CHECK_CONTAINS(cdn_error_message(), "data_batch_5.bin: 24579 bytes is not a whole number of 3073-byte");
  {
    char path[256];
    write_set(0, 0);
    snprintf(path, sizeof path, "%s/test_batch.bin", dir);
    unlink(path);
    CHECK(cdn_data_load(PETSC_COMM_WORLD, &spec, &data) == CDN_ERR_OPEN);
    CHECK_CONTAINS(cdn_error_message(), "test_batch.bin: cannot open");
  }
  CHECK(cdn_jobspec_parse_string("nopath.ini", "[data]\ndataset = cifar10\n", &spec) == CDN_ERR_INPUT);
  CHECK_CONTAINS(cdn_error_message(), "nopath.ini:2: dataset: dataset = cifar10 needs path");
}

static void test_augment(void)
{
  enum { N = 64, C = 3, H = 8, W = 8 };
  static float x[N * C * H * W], orig[N * C * H * W];
  cdn_rng_t    rng, copy;
  int          flips = 0, moved = 0;
  for (int i = 0; i < N * C * H * W; i++) orig[i] = x[i] = (float)i;
  cdn_rng_seed(&rng, 3, 4);
  copy = rng;
  cdn_augment_crop_flip(x, N, C, H, W, 2, -1.0f, &rng);
  /* replay the draws: every output pixel is the source pixel or the fill */
  for (int i = 0; i < N; i++) {
    int dy = (int)cdn_rng_below(&copy, 5) - 2, dx = (int)cdn_rng_below(&copy, 5) - 2, flip = (int)cdn_rng_below(&copy, 2);
    flips += flip, moved += dy || dx;
    for (int c = 0; c < C; c++)
      for (int r = 0; r < H; r++)
        for (int j = 0; j < W; j++) {
          int   sr = r + dy, sc = (flip ? W - 1 - j : j) + dx;
          float want = sr >= 0 && sr < H && sc >= 0 && sc < W ? orig[((i * C + c) * H + sr) * W + sc] : -1.0f;
          if (x[((i * C + c) * H + r) * W + j] != want) {
            check_failures++;
            fprintf(stderr, "augment: item %d c %d (%d,%d): %g, want %g\n", i, c, r, j, x[((i * C + c) * H + r) * W + j], want);
            return;
          }
        }
  }
  CHECK(flips > 10 && flips < 54 && moved > 40);
  CHECK(cdn_rng_u64(&rng) == cdn_rng_u64(&copy)); /* exactly three draws per image */
}

int main(int argc, char **argv)
{
  char cmd[300];
  if (cdn_initialize(&argc, &argv, NULL)) return 1;
  if (!mkdtemp(dir)) return 1;
  test_load();
  test_augment();
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  if (system(cmd)) fprintf(stderr, "could not remove %s\n", dir);
  cdn_finalize();
  return CHECK_STATUS();
}
