/* The subsets a comparison runs on, with their labels' class task: all and trainable (cross-
   validated), then the transfer splits (a held-out family per family, narrow to wide). */
#include <math.h>
#include <string.h>
#include "cnndyn/evaluate.h"
#include "predict_impl.h"

/* Adds a subset of the models with member[m]; test[m] marks a transfer split's test side (NULL:
   cross-validated). Its class task comes from its labels, a split's from its training side only. */
static PetscErrorCode add_subset(const cdn_jobspec_t *spec, cdn_evaluation_t *ev, const char *name,
                                 cdn_subset_kind_t kind, const int *member, const int *test)
{
  cdn_subset_t *s = &ev->subset[ev->nsubsets++];
  double       *y;
  int           ny = 0, nc;

  PetscFunctionBeginUser;
  snprintf(s->name, sizeof s->name, "%s", name);
  s->kind = kind;
  PetscCall(PetscMalloc1(ev->n + 1, &s->model));
  if (test) PetscCall(PetscMalloc1(ev->n + 1, &s->test));
  PetscCall(PetscMalloc1(ev->n + 1, &y));
  for (int m = 0; m < ev->n; m++) {
    if (!member[m]) continue;
    if (test) s->test[s->n] = test[m], s->ntest += test[m] != 0;
    s->model[s->n++] = m;
    if (!test || !test[m]) y[ny++] = ev->label[m];
  }
  PetscCall(cdn_class_cuts(spec, y, ny, &nc, s->thresholds));
  PetscCall(PetscFree(y));
  s->run = (spec->subset_mask >> kind) & 1u && s->n >= 2;
  PetscFunctionReturn(0);
}

static PetscErrorCode fill_subsets(const cdn_jobspec_t *spec, const cdn_results_t *res, cdn_evaluation_t *ev)
{
  int    n = res->nmodels, *member, *test, nfam = 0, fam[CDN_MAX_ARCHS], nwidths = 0;
  double widest = -HUGE_VAL;

  PetscFunctionBeginUser;
  ev->n = n;
  PetscCall(PetscMalloc2(n + 1, &ev->label, n + 1, &ev->label_class));
  PetscCall(PetscMalloc2(n + 1, &member, n + 1, &test));
  for (int m = 0; m < n; m++) ev->label[m] = cdn_results_label(res, m);
  PetscCall(cdn_class_cuts(spec, ev->label, n, &ev->nclasses, ev->thresholds));
  for (int m = 0; m < n; m++) {
    ev->label_class[m] = 0;
    for (int t = 0; t < ev->nclasses - 1; t++) ev->label_class[m] += ev->label[m] > ev->thresholds[t];
  }

  for (int m = 0; m < n; m++) member[m] = 1;
  PetscCall(add_subset(spec, ev, "all", CDN_SUBSET_KIND_ALL, member, NULL));
  for (int m = 0; m < n; m++) member[m] = res->status[m] == CDN_STATUS_OK && ev->label[m] > spec->trainable_above;
  PetscCall(add_subset(spec, ev, "trainable", CDN_SUBSET_KIND_TRAINABLE, member, NULL));

  /* families in order of first appearance (the job spec's order) */
  for (int m = 0; m < n; m++) {
    int f = 0;
    while (f < nfam && strcmp(res->config[fam[f]].arch, res->config[m].arch)) f++;
    if (f == nfam && nfam < CDN_MAX_ARCHS) fam[nfam++] = m;
  }
  for (int f = 0; f < nfam && nfam >= 2 && (spec->subset_mask >> CDN_SUBSET_KIND_HELDOUT & 1u); f++) {
    char name[32];
    for (int m = 0; m < n; m++) member[m] = 1, test[m] = !strcmp(res->config[m].arch, res->config[fam[f]].arch);
    snprintf(name, sizeof name, "heldout_%s", res->config[fam[f]].arch);
    PetscCall(add_subset(spec, ev, name, CDN_SUBSET_KIND_HELDOUT, member, test));
  }

  /* distinct widths: any model narrower than the widest counts a second one */
  for (int m = 0; m < n; m++) widest = fmax(widest, res->config[m].hp[CDN_HP_WIDTH]);
  for (int m = 0; m < n && isfinite(widest); m++) {
    double w = res->config[m].hp[CDN_HP_WIDTH];
    if (!isfinite(w)) { nwidths = 0; break; } /* a model without a width: no split */
    if (w < widest) nwidths = 2;
    else if (!nwidths) nwidths = 1;
  }
  if (nwidths >= 2 && (spec->subset_mask >> CDN_SUBSET_KIND_WIDE & 1u)) {
    for (int m = 0; m < n; m++) member[m] = 1, test[m] = res->config[m].hp[CDN_HP_WIDTH] == widest;
    PetscCall(add_subset(spec, ev, "wide", CDN_SUBSET_KIND_WIDE, member, test));
  }
  PetscCall(PetscFree2(member, test));
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_evaluation_subsets(const cdn_jobspec_t *spec, const cdn_results_t *res, cdn_evaluation_t **out)
{
  cdn_evaluation_t *ev;
  PetscErrorCode    ierr;

  PetscFunctionBeginUser;
  *out = NULL;
  PetscCall(PetscNew(&ev));
  ierr = fill_subsets(spec, res, ev);
  if (ierr) {
    PetscCall(cdn_evaluation_destroy(&ev));
    PetscCall(ierr);
  }
  *out = ev;
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_evaluation_destroy(cdn_evaluation_t **evp)
{
  cdn_evaluation_t *ev = evp ? *evp : NULL;

  PetscFunctionBeginUser;
  if (!ev) PetscFunctionReturn(0);
  for (int i = 0; i < ev->nrows; i++) {
    PetscCall(PetscFree4(ev->row[i].pred, ev->row[i].pred_class, ev->row[i].true_class, ev->row[i].rank));
    PetscCall(PetscFree(ev->row[i].select));
  }
  PetscCall(PetscFree(ev->row));
  for (int i = 0; i < ev->nheadlines; i++) {
    PetscCall(PetscFree(ev->headline[i].pred));
    PetscCall(PetscFree(ev->headline[i].choice));
  }
  PetscCall(PetscFree(ev->headline));
  PetscCall(PetscFree(ev->early));
  PetscCall(PetscFree2(ev->label, ev->label_class));
  for (int s = 0; s < ev->nsubsets; s++) {
    PetscCall(PetscFree(ev->subset[s].model));
    PetscCall(PetscFree(ev->subset[s].test));
    PetscCall(PetscFree(ev->subset[s].fold));
  }
  PetscCall(PetscFree(*evp));
  PetscFunctionReturn(0);
}
