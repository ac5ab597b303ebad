/* The inputs of every method, built from the gathered results for one epoch budget k. Graph
   methods read the per-epoch graph feature rows; baselines read the curves, the weights.* columns
   and the hyperparameters that any practitioner has without a graph. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "cnndyn/evaluate.h"
#include "cnndyn/model.h"
#include "cnndyn/features.h"
#include "cnndyn/stats.h"
#include "cnndyn/util.h"

#define L(x) (1u << CDN_LEARNER_##x)
/* graph: reads the graph feature rows; family: what the inputs are made of, declared here (never
   guessed from a name), so a hybrid is never reported as a graph method. */
#define G CDN_FAMILY_GRAPH
#define B CDN_FAMILY_BASELINE
#define H CDN_FAMILY_HYBRID
static const struct {
  const char  *name;
  int          graph;
  cdn_family_t family;
  unsigned     learners;
} methods[CDN_METHOD_COUNT] = {
  [CDN_METHOD_DEGREE]           = {"degree", 1, G, L(LINEAR) | L(SVR) | L(XGB)},
  [CDN_METHOD_DEGREE_DIFF]      = {"degree_diff", 1, G, L(LINEAR) | L(SVR) | L(XGB)},
  [CDN_METHOD_EIGENVECTOR]      = {"eigenvector", 1, G, L(LINEAR) | L(SVR) | L(XGB)},
  [CDN_METHOD_EIGENVECTOR_DIFF] = {"eigenvector_diff", 1, G, L(LINEAR) | L(SVR) | L(XGB)},
  [CDN_METHOD_GRAPH]            = {"graph", 1, G, L(LINEAR) | L(SVR) | L(XGB) | L(SCORE)},
  [CDN_METHOD_GRAPH_DIFF]       = {"graph_diff", 1, G, L(LINEAR) | L(SVR) | L(XGB)},
  [CDN_METHOD_GRAPH_CURVE]      = {"graph_curve", 1, H, L(SVR) | L(XGB)},
  [CDN_METHOD_VAL_ACC]          = {"val_acc", 0, B, L(SCORE)},
  [CDN_METHOD_VAL_LOSS]         = {"val_loss", 0, B, L(SCORE)},
  [CDN_METHOD_TSE]              = {"tse", 0, B, L(SCORE)},
  [CDN_METHOD_WEIGHTS]          = {"weights", 0, B, L(LINEAR) | L(SVR) | L(XGB)},
  [CDN_METHOD_CURVE]            = {"curve", 0, B, L(SVR) | L(XGB)},
  [CDN_METHOD_HPARAMS]          = {"hparams", 0, B, L(LINEAR) | L(SVR) | L(XGB)},
  [CDN_METHOD_MAJORITY]         = {"majority", 0, B, L(MAJORITY)},
  /* graph summaries the paper did not use: with differences, which the reference study found
     useful from k = 3 on, one row each to keep the graph family's candidate count down */
  [CDN_METHOD_SINGULAR_DIFF]    = {"singular_diff", 1, G, L(LINEAR) | L(SVR) | L(XGB)},
  [CDN_METHOD_SPECTRAL_DIFF]    = {"spectral_diff", 1, G, L(LINEAR) | L(SVR) | L(XGB)},
  [CDN_METHOD_ENTROPY_DIFF]     = {"degree_entropy_diff", 1, G, L(LINEAR) | L(SVR) | L(XGB)},
};

#undef G
#undef B
#undef H

const char *cdn_method_name(cdn_method_t m) { return m >= 0 && m < CDN_METHOD_COUNT ? methods[m].name : "?"; }
int         cdn_method_is_graph(cdn_method_t m) { return m >= 0 && m < CDN_METHOD_COUNT && methods[m].graph; }
cdn_family_t cdn_method_family(cdn_method_t m)
{
  return m >= 0 && m < CDN_METHOD_COUNT ? methods[m].family : CDN_FAMILY_BASELINE;
}
const char *cdn_family_name(cdn_family_t f)
{
  static const char *const names[CDN_FAMILY_COUNT] = {"graph", "baseline", "hybrid"};
  return f >= 0 && f < CDN_FAMILY_COUNT ? names[f] : "?";
}
unsigned    cdn_method_learners(cdn_method_t m) { return m >= 0 && m < CDN_METHOD_COUNT ? methods[m].learners : 0; }

/* Columns of the per-epoch feature rows a graph method reads: those of one statistic, or with
   statistic NULL every graph column (weight statistics are the baseline's, never a graph method's). */
static int select_columns(const cdn_results_t *res, const char *statistic, int *col)
{
  int n = 0;
  for (int f = 0; f < res->nfeat; f++) {
    const cdn_column_t *c = &res->columns[f];
    if (!cdn_column_is_weight(c) && (!statistic || !strcmp(c->statistic, statistic))) col[n++] = f;
  }
  return n;
}

/* The families of a population that mixes them, in name order (so a column means the same family
   whatever order the job listed them in); none for a single family, whose indicator would be
   constant. */
typedef struct {
  int         n;
  const char *name[CDN_ARCH_COUNT];
} families_t;

/* The families of a set of architectures (a mask of cdn_arch_names) in name order. */
static families_t families_in(unsigned mask)
{
  families_t f = {0};
  for (int i = 0; i < CDN_ARCH_COUNT; i++)
    if (mask >> cdn_arch_in_name_order(i) & 1u) f.name[f.n++] = cdn_arch_names[cdn_arch_in_name_order(i)];
  if (f.n < 2) f.n = 0;
  return f;
}

static families_t families_of(const cdn_results_t *res) { return families_in(cdn_results_arch_mask(res)); }

static int uses_hparams(cdn_method_t m)
{
  return m == CDN_METHOD_HPARAMS || m == CDN_METHOD_CURVE || m == CDN_METHOD_GRAPH_CURVE;
}

int cdn_method_has_families(cdn_method_t m) { return uses_hparams(m); }

int cdn_method_pairs(unsigned method_mask, unsigned learner_mask)
{
  int n = 0;
  for (int m = 0; m < CDN_METHOD_COUNT; m++)
    if (method_mask & (1u << m))
      for (int l = 0; l < CDN_LEARNER_COUNT; l++) n += (cdn_method_learners((cdn_method_t)m) & learner_mask & (1u << l)) != 0;
  return n;
}

void cdn_method_families(cdn_method_t m, const cdn_results_t *res, char *buf, size_t len)
{
  unsigned mask = uses_hparams(m) ? cdn_results_arch_mask(res) : 0;
  if (families_in(mask).n) cdn_arch_list_write(mask, buf, len);
  else snprintf(buf, len, "-");
}

static int hparam_width(const families_t *fam) { return CDN_HP_COUNT + fam->n; }

/* Hyperparameters as features: log10 of the learning rate (the grid is log-spaced), the others raw,
   then a 0/1 indicator per family when the population mixes families (the family is known before
   training, like any hyperparameter). Constant ones are dropped by the learners' preparation
   (trees ignore them). */
static void hparam_features(const cdn_results_t *res, const families_t *fam, int m, double *out)
{
  for (int h = 0; h < CDN_HP_COUNT; h++) {
    double v = res->config[m].hp[h];
    out[h]   = h == CDN_HP_LEARNING_RATE ? log10(v) : v;
  }
  for (int k = 0; k < fam->n; k++) out[CDN_HP_COUNT + k] = !strcmp(res->config[m].arch, fam->name[k]);
}

static int curve_width(const families_t *fam, int k) { return k + (k - 1) + hparam_width(fam); }
static void curve_features(const cdn_results_t *res, const families_t *fam, int m, int k, double *out)
{
  int w = 0;
  for (int e = 1; e <= k; e++) out[w++] = cdn_results_curve(res, m, e)[CDN_CURVE_VAL_ACC];
  for (int e = 2; e <= k; e++)
    out[w++] = cdn_results_curve(res, m, e)[CDN_CURVE_VAL_ACC] - cdn_results_curve(res, m, e - 1)[CDN_CURVE_VAL_ACC];
  hparam_features(res, fam, m, out + w);
}

static PetscErrorCode inputs(cdn_method_t meth, const cdn_results_t *res, int k, families_t fam, double **Xout,
                             int *dout, char *desc, size_t desc_len)
{
  int     n = res->nmodels, d = 0, nsel = 0, diff = 0, curve = 0, *col;
  double *X = NULL, *rows = NULL;

  PetscFunctionBeginUser;
  PetscCall(PetscMalloc1(res->nfeat + 1, &col));
  switch (meth) {
  case CDN_METHOD_DEGREE:
  case CDN_METHOD_EIGENVECTOR: nsel = select_columns(res, cdn_stat_name((cdn_stat_t)cdn_method_statistic(meth)), col); break;
  case CDN_METHOD_DEGREE_DIFF:
  case CDN_METHOD_EIGENVECTOR_DIFF:
  case CDN_METHOD_SINGULAR_DIFF:
  case CDN_METHOD_SPECTRAL_DIFF:
  case CDN_METHOD_ENTROPY_DIFF:
    diff = 1, nsel = select_columns(res, cdn_stat_name((cdn_stat_t)cdn_method_statistic(meth)), col);
    break;
  case CDN_METHOD_GRAPH_CURVE: curve = 1; /* fall through */
  case CDN_METHOD_GRAPH_DIFF: diff = 1; /* fall through */
  case CDN_METHOD_GRAPH: nsel = select_columns(res, NULL, col); break;
  default: break;
  }
  if (cdn_method_is_graph(meth)) {
    int w = nsel ? cdn_summary_width(nsel, k, diff) : 0;
    d     = w ? w + (curve ? curve_width(&fam, k) : 0) : 0;
    snprintf(desc, desc_len, "%d graph features at epochs 0..%d%s%s", nsel, k, diff ? " + differences" : "",
             curve ? " + learning curve" : "");
    if (d) {
      PetscCall(PetscMalloc1((size_t)n * d, &X));
      PetscCall(PetscMalloc1((size_t)(k + 1) * nsel, &rows));
      for (int m = 0; m < n; m++) {
        for (int e = 0; e <= k; e++)
          for (int j = 0; j < nsel; j++) rows[e * nsel + j] = cdn_results_features(res, m, e)[col[j]];
        cdn_summary_build(rows, nsel, k, diff, X + (size_t)m * d);
        if (curve) curve_features(res, &fam, m, k, X + (size_t)m * d + w);
      }
      PetscCall(PetscFree(rows));
    }
  } else if (meth == CDN_METHOD_WEIGHTS) {
    for (int f = 0; f < res->nfeat; f++)
      if (cdn_column_is_weight(&res->columns[f])) col[d++] = f;
    snprintf(desc, desc_len, "%d weight statistics at epoch %d", d, k);
    if (d) {
      PetscCall(PetscMalloc1((size_t)n * d, &X));
      for (int m = 0; m < n; m++)
        for (int j = 0; j < d; j++) X[(size_t)m * d + j] = cdn_results_features(res, m, k)[col[j]];
    }
  } else if (meth == CDN_METHOD_CURVE) {
    d = curve_width(&fam, k);
    snprintf(desc, desc_len, "validation accuracy at epochs 1..%d + differences + hyperparameters%s", k,
             fam.n ? " + family" : "");
    PetscCall(PetscMalloc1((size_t)n * d, &X));
    for (int m = 0; m < n; m++) curve_features(res, &fam, m, k, X + (size_t)m * d);
  } else if (meth == CDN_METHOD_HPARAMS || meth == CDN_METHOD_MAJORITY) {
    d = hparam_width(&fam);
    if (meth == CDN_METHOD_MAJORITY) snprintf(desc, desc_len, "none: training-fold mean and majority class");
    else snprintf(desc, desc_len, "hyperparameters (log10 learning rate)%s", fam.n ? " + family" : "");
    PetscCall(PetscMalloc1((size_t)n * d, &X));
    for (int m = 0; m < n; m++) hparam_features(res, &fam, m, X + (size_t)m * d);
  } else { /* one raw score, oriented so that larger predicts better */
    d = 1;
    PetscCall(PetscMalloc1(n, &X));
    for (int m = 0; m < n; m++) {
      double v = 0;
      if (meth == CDN_METHOD_VAL_ACC) v = cdn_results_curve(res, m, k)[CDN_CURVE_VAL_ACC];
      else if (meth == CDN_METHOD_VAL_LOSS) v = -cdn_results_curve(res, m, k)[CDN_CURVE_VAL_LOSS];
      else
        for (int e = 1; e <= k; e++) v -= cdn_results_curve(res, m, e)[CDN_CURVE_TRAIN_LOSS];
      X[m] = v;
    }
    snprintf(desc, desc_len, meth == CDN_METHOD_VAL_ACC    ? "validation accuracy at epoch %d"
                             : meth == CDN_METHOD_VAL_LOSS ? "minus validation loss at epoch %d"
                                                           : "minus the sum of training losses over epochs 1..%d",
             k);
  }
  PetscCall(PetscFree(col));
  *Xout = X;
  *dout = d;
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_method_inputs(cdn_method_t meth, const cdn_results_t *res, int k, double **X, int *d, char *desc,
                                 size_t desc_len)
{
  PetscFunctionBeginUser;
  PetscCall(inputs(meth, res, k, families_of(res), X, d, desc, desc_len));
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_method_inputs_as(cdn_method_t meth, const cdn_results_t *res, int k, const char *families, double **X,
                                    int *d, char *desc, size_t desc_len)
{
  int        mask = uses_hparams(meth) && strcmp(families, "-") ? cdn_arch_list_read(families) : 0;
  families_t fam;

  PetscFunctionBeginUser;
  PetscCheck(mask >= 0, PETSC_COMM_SELF, CDN_ERR_INPUT, "families '%s': not a list of known families in name order",
             families);
  fam = families_in((unsigned)mask);
  for (int m = 0; fam.n && m < res->nmodels; m++) {
    int known = 0;
    for (int j = 0; j < fam.n; j++) known |= !strcmp(res->config[m].arch, fam.name[j]);
    PetscCheck(known, PETSC_COMM_SELF, CDN_ERR_INPUT, "model %d is a %s; the %s inputs know only the families %s", m,
               res->config[m].arch, cdn_method_name(meth), families);
  }
  PetscCall(inputs(meth, res, k, fam, X, d, desc, desc_len));
  PetscFunctionReturn(0);
}

int cdn_method_statistic(cdn_method_t m)
{
  switch (m) {
  case CDN_METHOD_DEGREE:
  case CDN_METHOD_DEGREE_DIFF: return CDN_STAT_DEGREE;
  case CDN_METHOD_EIGENVECTOR:
  case CDN_METHOD_EIGENVECTOR_DIFF: return CDN_STAT_EIGENVECTOR;
  case CDN_METHOD_SINGULAR_DIFF: return CDN_STAT_SINGULAR;
  case CDN_METHOD_SPECTRAL_DIFF: return CDN_STAT_SPECTRAL;
  case CDN_METHOD_ENTROPY_DIFF: return CDN_STAT_DEGREE_ENTROPY;
  default: return -1;
  }
}

int cdn_method_has_inputs(cdn_method_t m, const cdn_results_t *res)
{
  int st = cdn_method_statistic(m);

  if (st < 0) return 1;
  for (int f = 0; f < res->nfeat; f++)
    if (!strcmp(res->columns[f].statistic, cdn_stat_name((cdn_stat_t)st))) return 1;
  return 0;
}
