/* Replays saved inputs through a fuzz target without libFuzzer, in any build: ctest runs it on
   every committed seed and regression case. Usage: fuzz_replay TARGET FILE_OR_FOLDER... */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "fuzz.h"

static const struct {
  const char *name;
  int (*run)(const uint8_t *, size_t);
} targets[] = {
  {"jobspec", cdn_fuzz_jobspec},     {"idx", cdn_fuzz_idx},         {"cifar", cdn_fuzz_cifar},
  {"snapshot", cdn_fuzz_snapshot},   {"npz", cdn_fuzz_npz},         {"predictor", cdn_fuzz_predictor},
  {"results", cdn_fuzz_results},     {"watch", cdn_fuzz_watch},
};

static int replay_file(int (*run)(const uint8_t *, size_t), const char *path)
{
  FILE    *fp = fopen(path, "rb");
  uint8_t *buf;
  long     n;

  if (!fp || fseek(fp, 0, SEEK_END) || (n = ftell(fp)) < 0 || fseek(fp, 0, SEEK_SET)) {
    fprintf(stderr, "fuzz_replay: %s: cannot read\n", path);
    return 1;
  }
  buf = malloc((size_t)n + 1);
  if (!buf || fread(buf, 1, (size_t)n, fp) != (size_t)n) {
    fprintf(stderr, "fuzz_replay: %s: cannot read\n", path);
    return 1;
  }
  fclose(fp);
  run(buf, (size_t)n); /* a finding aborts here: the caller printed the file's name first */
  free(buf);
  return 0;
}

static int cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* A folder's files in name order, so a failure is reproducible by name. */
static int replay(int (*run)(const uint8_t *, size_t), const char *path, int *count)
{
  struct stat    st;
  DIR           *d;
  struct dirent *e;
  char         **names = NULL, full[4096];
  int            n = 0, bad = 0;

  if (stat(path, &st) || !S_ISDIR(st.st_mode)) {
    fprintf(stderr, "fuzz_replay: %s\n", path);
    ++*count;
    return replay_file(run, path);
  }
  if (!(d = opendir(path))) return 1;
  while ((e = readdir(d)))
    if (e->d_name[0] != '.') {
      names        = realloc(names, (n + 1) * sizeof *names);
      names[n++]   = strdup(e->d_name);
    }
  closedir(d);
  qsort(names, n, sizeof *names, cmp);
  for (int i = 0; i < n; i++) {
    snprintf(full, sizeof full, "%s/%s", path, names[i]);
    bad |= replay(run, full, count);
    free(names[i]);
  }
  free(names);
  return bad;
}

int main(int argc, char **argv)
{
  int bad = 0, count = 0;

  for (size_t t = 0; argc > 1 && t < sizeof targets / sizeof *targets; t++)
    if (!strcmp(argv[1], targets[t].name)) {
      cdn_fuzz_init();
      for (int i = 2; i < argc; i++) bad |= replay(targets[t].run, argv[i], &count);
      printf("fuzz_replay %s: %d inputs replayed%s\n", argv[1], count, bad ? ", some unreadable" : "");
      return bad || !count;
    }
  fprintf(stderr, "usage: fuzz_replay TARGET FILE_OR_FOLDER... (targets:");
  for (size_t t = 0; t < sizeof targets / sizeof targets[0]; t++) fprintf(stderr, " %s", targets[t].name);
  fprintf(stderr, ")\n");
  return 2;
}
