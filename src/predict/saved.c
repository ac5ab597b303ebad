/* Saved predictors: boosted trees fitted on every model of a finished run for one method and
   budget, written to a file, and used to score the models of another run. The file is a short
   text header (format, method, budget, input width) followed by XGBoost's own JSON model, so
   xgboost's Python package can read the model part too. */
#include <math.h>
#include <string.h>
#include <xgboost/c_api.h>
#include "cnndyn/evaluate.h"
#include "cnndyn/util.h"
#include "predict_impl.h"

#define MAGIC "cnndyn-predictor 1"

PetscErrorCode cdn_predictor_save(const char *path, cdn_method_t method, int k, const cdn_results_t *res)
{
  double       *X;
  float        *Xf, *y;
  int           d, n = res->nmodels;
  char          desc[96];
  void         *b;
  bst_ulong     len;
  const char   *buf;
  cdn_afile_t   af = {0};

  PetscFunctionBeginUser;
  PetscCall(cdn_method_inputs(method, res, k, &X, &d, desc, sizeof desc));
  PetscCheck(d > 0, PETSC_COMM_SELF, CDN_ERR_INPUT, "--save: method %s has no inputs in this run", cdn_method_name(method));
  PetscCall(PetscMalloc2((size_t)n * d, &Xf, n, &y));
  cdn_xgb_to_float(X, n, d, Xf);
  for (int m = 0; m < n; m++) y[m] = (float)cdn_results_label(res, m);
  PetscCall(cdn_xgb_fit(Xf, y, n, d, &b));
  PetscCheck(XGBoosterSaveModelToBuffer(b, "{\"format\": \"json\"}", &len, &buf) == 0, PETSC_COMM_SELF, PETSC_ERR_LIB,
             "xgboost: %s", XGBGetLastError());
  PetscCall(cdn_afile_open(&af, path));
  fprintf(af.fp, "%s\nmethod %s\nbudget %d\nwidth %d\nlearner xgboost\nbytes %llu\n", MAGIC, cdn_method_name(method), k, d,
          (unsigned long long)len);
  fwrite(buf, 1, len, af.fp);
  if (ferror(af.fp)) {
    cdn_afile_abort(&af);
    SETERRQ(PETSC_COMM_SELF, CDN_ERR_WRITE, "%s: write failed", path);
  }
  PetscCall(cdn_afile_commit(&af));
  XGBoosterFree(b);
  PetscCall(PetscFree2(Xf, y));
  PetscCall(PetscFree(X));
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_predictor_score(const char *path, const cdn_results_t *res, double *pred, char *method_out,
                                   size_t method_len, int *k_out)
{
  FILE              *fp = fopen(path, "rb");
  char               magic[64] = "", mname[64] = "", lname[64] = "", *buf, desc[96];
  int                k = 0, width = 0, d, meth = -1, n = res->nmodels;
  unsigned long long bytes = 0;
  BoosterHandle      b;
  double            *X;
  float             *Xf;

  PetscFunctionBeginUser;
  PetscCheck(fp, PETSC_COMM_SELF, CDN_ERR_OPEN, "%s: cannot open", path);
  if (!fgets(magic, sizeof magic, fp) || strncmp(magic, MAGIC, strlen(MAGIC)) ||
      fscanf(fp, "method %63s\nbudget %d\nwidth %d\nlearner %63s\nbytes %llu", mname, &k, &width, lname, &bytes) != 5 ||
      fgetc(fp) != '\n') {
    fclose(fp);
    SETERRQ(PETSC_COMM_SELF, CDN_ERR_CORRUPT, "%s: not a cnndyn predictor (header)", path);
  }
  for (int m = 0; m < CDN_METHOD_COUNT; m++)
    if (!strcmp(mname, cdn_method_name((cdn_method_t)m))) meth = m;
  if (meth < 0 || strcmp(lname, "xgboost") || k < 1 || k > res->epochs || bytes == 0 || bytes > (1ull << 31)) {
    fclose(fp);
    SETERRQ(PETSC_COMM_SELF, CDN_ERR_CORRUPT, "%s: method %s, learner %s, budget %d: not usable on a run of %d epochs",
            path, mname, lname, k, res->epochs);
  }
  PetscCall(PetscMalloc1(bytes, &buf));
  if (fread(buf, 1, bytes, fp) != bytes) {
    fclose(fp);
    PetscCall(PetscFree(buf));
    SETERRQ(PETSC_COMM_SELF, CDN_ERR_CORRUPT, "%s: model truncated", path);
  }
  fclose(fp);
  PetscCall(cdn_method_inputs((cdn_method_t)meth, res, k, &X, &d, desc, sizeof desc));
  PetscCheck(d == width, PETSC_COMM_SELF, CDN_ERR_INPUT,
             "%s: fitted on %d input columns, this run's %s inputs have %d (different statistics or aggregators?)",
             path, width, mname, d);
  PetscCheck(XGBoosterCreate(NULL, 0, &b) == 0 && XGBoosterLoadModelFromBuffer(b, buf, bytes) == 0, PETSC_COMM_SELF,
             CDN_ERR_CORRUPT, "%s: xgboost cannot read the model: %s", path, XGBGetLastError());
  PetscCall(PetscMalloc1((size_t)n * d, &Xf));
  cdn_xgb_to_float(X, n, d, Xf);
  PetscCall(cdn_xgb_predict(b, Xf, n, d, pred));
  XGBoosterFree(b);
  snprintf(method_out, method_len, "%s", mname);
  *k_out = k;
  PetscCall(PetscFree(Xf));
  PetscCall(PetscFree(X));
  PetscCall(PetscFree(buf));
  PetscFunctionReturn(0);
}
