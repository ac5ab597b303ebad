/* cnndyn against PyTorch: for one small network per family, the fixtures in tests/torch_ref/
   (written by tests/torch_ref/gen.py from torch.nn modules in float64) give the initial
   parameters, a batch, the logits, loss and gradients at those parameters, and the parameters and
   BatchNorm running statistics after two optimizer steps (SGD with momentum, Nesterov, Adam).
   Every number must match to 1e-4 relative; an entry near zero is measured against the size of
   its array (its root mean square), where float32 round-off lives. */
#include <stdint.h>
#include <stdlib.h>
#include "check.h"
#include "cnndyn/nn.h"

typedef struct {
  char    arch[17];
  int32_t in_c, h, w, depth, opt, batch, classes, nparam, nstats, steps;
  double  width, lr, mom, wd;
} head_t;

static int rd(FILE *fp, void *p, size_t n) { return fread(p, 1, n, fp) == n; }

/* The largest error in units of 1e-4 relative: <= 1 passes. */
static double compare(const char *what, const char *arch, const float *a, const float *b, int n)
{
  double rms = 0, worst = 0;
  int    at  = 0;
  for (int i = 0; i < n; i++) rms += (double)b[i] * b[i];
  rms = sqrt(rms / (n ? n : 1));
  for (int i = 0; i < n; i++) {
    double e = fabs((double)a[i] - b[i]) / (1e-4 * fmax(fabs(b[i]), rms) + 1e-30);
    if (!(e <= worst)) worst = e, at = i;
  }
  printf("%-8s %-13s n %6d  worst error %.3f x 1e-4 relative (entry %d: %.8g vs torch %.8g)\n", arch, what, n, worst,
         at, n ? a[at] : 0, n ? b[at] : 0);
  if (!(worst <= 1)) check_failures++;
  return worst;
}

static void run(const char *path)
{
  FILE              *fp = fopen(path, "rb");
  char               magic[8];
  head_t             h;
  float             *p0, *x, *logits, *grad, *p2, *s2;
  int32_t           *y;
  double             loss_ref, loss;
  cdn_net_t         *net = NULL;
  cdn_train_config_t cfg = {0};
  float             *w, *g, *st;
  int                n, ns, ok;
  size_t             nx;

  CHECK(fp != NULL);
  if (!fp) return;
  ok = rd(fp, magic, 8) && !memcmp(magic, "CDNREF1", 8) && rd(fp, h.arch, 16) && rd(fp, &h.in_c, 40) && rd(fp, &h.width, 32);
  h.arch[16] = 0;
  CHECK(ok);
  if (!ok) return;
  nx = (size_t)h.batch * h.in_c * h.h * h.w;
  p0 = malloc(4 * h.nparam), grad = malloc(4 * h.nparam), p2 = malloc(4 * h.nparam), s2 = malloc(4 * (h.nstats + 1));
  x = malloc(4 * nx), y = malloc(4 * h.batch), logits = malloc(4 * h.batch * h.classes);
  ok = rd(fp, p0, 4 * h.nparam) && rd(fp, x, 4 * nx) && rd(fp, y, 4 * h.batch) && rd(fp, logits, 4 * h.batch * h.classes) &&
       rd(fp, &loss_ref, 8) && rd(fp, grad, 4 * h.nparam) && rd(fp, p2, 4 * h.nparam) && rd(fp, s2, 4 * h.nstats);
  fclose(fp);
  CHECK(ok);
  cfg.lr = h.lr, cfg.momentum = h.mom, cfg.weight_decay = h.wd, cfg.init_scale = 1, cfg.batch_size = h.batch;
  cfg.width = h.width, cfg.depth = h.depth, cfg.optimizer = (cdn_optimizer_t)h.opt;
  CHECK(cdn_net_create(h.arch, h.in_c, h.h, h.w, h.classes, &cfg, &net) == 0);
  if (ok && net) {
    cdn_net_params(net, &w, &g, NULL, &n);
    cdn_net_stats(net, &st, &ns);
    CHECK(n == h.nparam && ns == h.nstats);
    if (n == h.nparam && ns == h.nstats) {
      memcpy(w, p0, 4 * n);
      loss = cdn_net_forward_backward(net, x, y, h.batch, PETSC_TRUE, PETSC_TRUE, NULL, NULL);
      printf("%-8s loss %.8f vs torch %.8f\n", h.arch, loss, loss_ref);
      CHECK(fabs(loss - loss_ref) <= 1e-4 * fabs(loss_ref));
      compare("logits", h.arch, cdn_net_logits(net), logits, h.batch * h.classes);
      compare("gradients", h.arch, g, grad, n);
      for (int s = 0; s < h.steps; s++) {
        if (s) cdn_net_forward_backward(net, x, y, h.batch, PETSC_TRUE, PETSC_TRUE, NULL, NULL);
        cdn_net_step(net, h.lr);
      }
      compare("params after", h.arch, w, p2, n);
      if (ns) compare("bn statistics", h.arch, st, s2, ns);
    }
  }
  cdn_net_destroy(&net);
  free(p0), free(grad), free(p2), free(s2), free(x), free(y), free(logits);
}

int main(int argc, char **argv)
{
  /* resnet16c: width 1, kept in nChw16c on AVX-512 (gen.py) */
  const char *nets[] = {"lenet5", "alexnet", "vgg", "resnet", "resnet16c"};
  if (cdn_initialize(&argc, &argv, NULL)) return 1;
  for (int i = 0; i < 5; i++) {
    char path[64];
    snprintf(path, sizeof path, "torch_ref/%s.bin", nets[i]);
    run(path);
  }
  cdn_finalize();
  return CHECK_STATUS();
}
