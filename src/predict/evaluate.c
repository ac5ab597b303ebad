/* The comparison every report carries: each selected method with each of its learners, at each
   budget, on each subset (subsets.c), repeated over fold shuffles; a transfer split runs once.
   Every (subset, method, learner, budget, repeat) is one task; task t runs on rank t mod size, and
   the results are gathered at the root in task order, so the report is the same for any rank
   count. All methods of one repeat share its folds, because the folds depend only on (job seed,
   repeat) and the subset's groups. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "cnndyn/evaluate.h"
#include "cnndyn/util.h"
#include "predict_impl.h"

#define NMET ((int)(sizeof(cdn_metrics_t) / sizeof(double)))
/* A task's result: the metrics, then per model its prediction, predicted class, true class (the
   cuts of the fold that tested it) and ranking score, then one inner selection score per outer
   fold (nested selection, select.c). */
#define TASK_LEN(ns, folds) (NMET + 4 * (ns) + (folds))

typedef struct {
  int row, repeat, offset, len;
} task_t;

/* The rows of the comparison, in a fixed order; methods without inputs in this population (no
   such statistic computed) are left out. */
static PetscErrorCode plan_rows(const cdn_jobspec_t *spec, const cdn_results_t *res, cdn_evaluation_t *ev)
{
  int cap = 0;

  PetscFunctionBeginUser;
  for (int pass = 0; pass < 2; pass++) {
    ev->nrows = 0;
    for (int s = 0; s < ev->nsubsets; s++) {
      if (!ev->subset[s].run) continue;
      for (int m = 0; m < CDN_METHOD_COUNT; m++) {
        int budgetless = m == CDN_METHOD_HPARAMS || m == CDN_METHOD_MAJORITY;
        if (!(spec->method_mask & (1u << m))) continue;
        for (int k = budgetless ? 0 : 1; k <= (budgetless ? 0 : spec->budget); k++)
          for (int l = 0; l < CDN_LEARNER_COUNT; l++) {
            double *X;
            int     d;
            char    desc[96];
            if (!(cdn_method_learners((cdn_method_t)m) & spec->learner_mask & (1u << l))) continue;
            if (pass == 1) {
              cdn_eval_row_t *r = &ev->row[ev->nrows];
              PetscCall(cdn_method_inputs((cdn_method_t)m, res, k ? k : 1, &X, &d, desc, sizeof desc));
              PetscCall(PetscFree(X));
              if (!d) continue;
              *r = (cdn_eval_row_t){.subset = s, .method = (cdn_method_t)m, .learner = (cdn_learner_t)l, .budget = k,
                                    .repeats = ev->subset[s].test ? 1 : ev->repeats};
              snprintf(r->features, sizeof r->features, "%s", desc);
            }
            ev->nrows++;
          }
      }
    }
    if (pass == 0) {
      cap = ev->nrows;
      PetscCall(PetscCalloc1(cap + 1, &ev->row));
    }
  }
  PetscFunctionReturn(0);
}

/* One task: the learner's cross-validation on the subset (or its one split) into out (TASK_LEN). */
static PetscErrorCode run_task(const cdn_jobspec_t *spec, const cdn_results_t *res, const cdn_evaluation_t *ev,
                               const cdn_eval_row_t *row, int repeat, double *out)
{
  const cdn_subset_t   *sub = &ev->subset[row->subset];
  int                   ns = sub->n, d, *grp, *cls, *pc, *fc;
  double               *X, *Xs, *y, *pred, *rs;
  char                  desc[96];
  cdn_metrics_t         m;
  cdn_predict_problem_t pb;

  PetscFunctionBeginUser;
  PetscCall(cdn_method_inputs(row->method, res, row->budget ? row->budget : 1, &X, &d, desc, sizeof desc));
  PetscCall(PetscMalloc6((size_t)ns * d, &Xs, ns, &y, ns, &pred, ns, &grp, ns, &cls, ns, &pc));
  PetscCall(PetscMalloc2(ns, &fc, ns, &rs));
  for (int i = 0; i < ns; i++) {
    int mdl = sub->model[i];
    PetscCall(PetscArraycpy(Xs + (size_t)i * d, X + (size_t)mdl * d, d));
    y[i]   = ev->label[mdl];
    grp[i] = res->config[mdl].config_id;
    cls[i] = 0;
    for (int t = 0; t < ev->nclasses - 1; t++) cls[i] += y[i] > sub->thresholds[t];
  }
  pb = (cdn_predict_problem_t){.n = ns, .y = y, .group = grp, .folds = spec->folds,
                               .seed = cdn_repeat_seed(spec->seed, repeat),
                               .ridge_lambda = spec->ridge_lambda, .logistic_c = spec->logistic_c,
                               .nclasses = ev->nclasses, .cls = cls, .thresholds = sub->thresholds,
                               .inner_folds = spec->inner_folds,
                               .train_cuts = spec->class_task != CDN_CLASSES_THRESHOLDS, .fold_class = fc,
                               .rank_score = rs, .select = out + NMET + 4 * ns};
  for (int g = 0; g < spec->folds; g++) out[NMET + 4 * ns + g] = NAN;
  if (sub->test) PetscCall(cdn_predict_split(&pb, row->learner, d, Xs, sub->test, pred, pc, &m));
  else PetscCall(cdn_predict_cv(&pb, row->learner, d, Xs, pred, pc, &m));
  memcpy(out, &m, sizeof m);
  for (int i = 0; i < ns; i++)
    out[NMET + i] = pred[i], out[NMET + ns + i] = pc[i], out[NMET + 2 * ns + i] = fc[i], out[NMET + 3 * ns + i] = rs[i];
  PetscCall(PetscFree6(Xs, y, pred, grp, cls, pc));
  PetscCall(PetscFree2(fc, rs));
  PetscCall(PetscFree(X));
  PetscFunctionReturn(0);
}

static PetscErrorCode run_mine(const cdn_jobspec_t *spec, const cdn_results_t *res, const cdn_evaluation_t *ev,
                               const task_t *task, int rank, int size, double *mine, int *nmine)
{
  PetscFunctionBeginUser;
  *nmine = 0;
  for (int t = rank; t < ev->ntasks; t += size) {
    PetscCall(run_task(spec, res, ev, &ev->row[task[t].row], task[t].repeat, mine + *nmine));
    *nmine += task[t].len;
  }
  PetscFunctionReturn(0);
}

/* Root: every task's results into the rows; mean and population std of each metric over the
   repeats whose value is defined (a transfer split runs once: its std is NaN, not a spread). */
static PetscErrorCode collect(cdn_evaluation_t *ev, const task_t *task, const double *all)
{
  PetscFunctionBeginUser;
  for (int r = 0, t0 = 0; r < ev->nrows; t0 += ev->row[r].repeats, r++) {
    cdn_eval_row_t *row = &ev->row[r];
    int             ns  = ev->subset[row->subset].n, nq = row->repeats, F = ev->folds;
    double         *mean = (double *)&row->mean, *std = (double *)&row->std;
    PetscCall(PetscMalloc4((size_t)nq * ns, &row->pred, (size_t)nq * ns, &row->pred_class, (size_t)nq * ns,
                           &row->true_class, (size_t)nq * ns, &row->rank));
    PetscCall(PetscMalloc1((size_t)nq * F, &row->select));
    for (int j = 0; j < NMET; j++) {
      double sum = 0, ss = 0;
      int    c   = 0;
      for (int q = 0; q < row->repeats; q++) {
        double v = all[task[t0 + q].offset + j];
        if (isfinite(v)) sum += v, c++;
      }
      mean[j] = c ? sum / c : NAN;
      for (int q = 0; q < row->repeats; q++) {
        double v = all[task[t0 + q].offset + j];
        if (isfinite(v)) ss += (v - mean[j]) * (v - mean[j]);
      }
      std[j] = c && !ev->subset[row->subset].test ? sqrt(ss / c) : NAN;
    }
    for (int q = 0; q < nq; q++) {
      const double *o = all + task[t0 + q].offset + NMET;
      for (int i = 0; i < ns; i++) {
        size_t at = (size_t)q * ns + i;
        row->pred[at] = o[i], row->pred_class[at] = (int)o[ns + i];
        row->true_class[at] = (int)o[2 * ns + i], row->rank[at] = o[3 * ns + i];
      }
      for (int g = 0; g < F; g++) row->select[(size_t)q * F + g] = o[4 * ns + g];
    }
  }
  PetscFunctionReturn(0);
}

static PetscErrorCode evaluate(MPI_Comm comm, const cdn_jobspec_t *spec, const cdn_results_t *res, cdn_evaluation_t *ev)
{
  PetscMPIInt    rank, size;
  int            total = 0, nmine = 0, *counts = NULL, *displs = NULL, *sendlen;
  task_t        *task;
  double        *mine, *all = NULL, t0 = MPI_Wtime();
  PetscErrorCode ierr;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  PetscCallMPI(MPI_Comm_size(comm, &size));
  ev->max_budget = spec->budget;
  ev->repeats    = spec->repeats;
  ev->folds      = spec->folds;
  PetscCall(plan_rows(spec, res, ev));

  for (int r = 0; r < ev->nrows; r++) ev->ntasks += ev->row[r].repeats;
  PetscCall(PetscMalloc1(ev->ntasks + 1, &task));
  for (int r = 0, t = 0; r < ev->nrows; r++)
    for (int q = 0; q < ev->row[r].repeats; q++, t++) {
      task[t] = (task_t){r, q, total, TASK_LEN(ev->subset[ev->row[r].subset].n, ev->folds)};
      total += task[t].len;
    }
  PetscCall(PetscMalloc1(total + 1, &mine));
  ierr = run_mine(spec, res, ev, task, rank, size, mine, &nmine);
  ierr = cdn_error_share(comm, ierr);
  if (ierr) { /* a learner refused its input on some rank: nothing of this call is kept */
    PetscCall(PetscFree(mine));
    PetscCall(PetscFree(task));
    PetscCall(ierr);
  }

  /* rank r's tasks are r, r + size, ...: the root re-interleaves them */
  PetscCall(PetscCalloc1(size, &sendlen));
  if (rank == 0) {
    PetscCall(PetscMalloc2(size, &counts, size, &displs));
    PetscCall(PetscMalloc1(total + 1, &all));
    for (int t = 0; t < ev->ntasks; t++) sendlen[t % size] += task[t].len;
    for (int r = 0, off = 0; r < size; r++) counts[r] = sendlen[r], displs[r] = off, off += sendlen[r];
  }
  {
    double *packed = NULL;
    if (rank == 0) PetscCall(PetscMalloc1(total + 1, &packed));
    PetscCallMPI(MPI_Gatherv(mine, nmine, MPI_DOUBLE, packed, counts, displs, MPI_DOUBLE, 0, comm));
    if (rank == 0) {
      int *pos;
      PetscCall(PetscCalloc1(size, &pos));
      for (int t = 0; t < ev->ntasks; t++) {
        int r = t % size;
        PetscCall(PetscArraycpy(all + task[t].offset, packed + displs[r] + pos[r], task[t].len));
        pos[r] += task[t].len;
      }
      PetscCall(PetscFree(pos));
      PetscCall(collect(ev, task, all));
      PetscCall(cdn_evaluation_headlines(spec, res, ev));
    }
    PetscCall(PetscFree(packed));
  }
  ev->seconds = MPI_Wtime() - t0;
  PetscCall(PetscFree(sendlen));
  PetscCall(PetscFree(mine));
  PetscCall(PetscFree(all));
  PetscCall(PetscFree(task));
  if (rank == 0) PetscCall(PetscFree2(counts, displs));
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_evaluate(MPI_Comm comm, const cdn_jobspec_t *spec, const cdn_results_t *res, cdn_evaluation_t **out)
{
  cdn_evaluation_t *ev;
  PetscErrorCode    ierr;

  PetscFunctionBeginUser;
  *out = NULL;
  PetscCall(cdn_evaluation_subsets(spec, res, &ev));
  ierr = evaluate(comm, spec, res, ev);
  if (ierr) {
    PetscCall(cdn_evaluation_destroy(&ev));
    PetscCall(ierr);
  }
  *out = ev;
  PetscFunctionReturn(0);
}
