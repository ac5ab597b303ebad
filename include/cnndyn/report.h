#pragma once
/* The run's outputs: CSV files and report.md (docs/formats.md documents every column) and the summary on
   stdout. */
#include <stdio.h>
#include "cnndyn/evaluate.h"
#include "cnndyn/jobspec.h"
#include "cnndyn/results.h"

/* Writes predictions.csv, report.csv, report.md, early_stop.csv and (unless prediction_only, as for
   `cnndyn predict`) models.csv, curves.csv, timing.csv and features.csv into outdir. All are
   written under temporary names first and renamed only when every one is whole. Root only. */
PetscErrorCode cdn_report_write(const char *outdir, const cdn_jobspec_t *spec, const cdn_results_t *res,
                                const cdn_evaluation_t *ev, PetscBool prediction_only);
/* Every file cdn_report_write writes for a run (the first four also for `cnndyn predict`): a run
   is complete when all are there. */
#define CDN_REPORT_NFILES 8
extern const char *const cdn_report_files[CDN_REPORT_NFILES];
/* models.csv, curves.csv, timing.csv and features.csv alone (a part run: `run --part`), whole or not at all. */
PetscErrorCode cdn_report_write_rows(const char *outdir, const cdn_results_t *res);
/* Per subset and budget, the nested best of each family with intervals, the difference graph-only
   minus baseline and the pre-registered row, for people. */
void cdn_report_print_summary(FILE *fp, const cdn_jobspec_t *spec, const cdn_results_t *res, const cdn_evaluation_t *ev);
/* The same without the wall time (report.md stays identical for any rank count). */
void cdn_report_print_best(FILE *fp, const cdn_jobspec_t *spec, const cdn_results_t *res, const cdn_evaluation_t *ev);
/* report.md: the population described, then one table per metric (rows method/learner, columns budgets). */
void cdn_report_markdown(FILE *fp, const cdn_jobspec_t *spec, const cdn_results_t *res, const cdn_evaluation_t *ev);
/* CSV number: 9 significant digits; NaN as an empty field; infinities as inf / -inf. */
void cdn_csv_number(FILE *fp, double v);
/* CSV text field (RFC 4180): as it is, or in double quotes with quotes doubled when it holds a
   comma, a quote or a line break. Every field that can hold names from input goes through it. */
void cdn_csv_text(FILE *fp, const char *s);

/* The metrics as reported, in report.csv order. */
typedef struct {
  const char *name;
  int         classification; /* 1: of the class task; 0: of the regression/ranking */
  int         higher_better;
} cdn_report_metric_t;
#define CDN_REPORT_NMETRICS 11
extern const cdn_report_metric_t cdn_report_metrics[CDN_REPORT_NMETRICS];
double cdn_report_metric(const cdn_metrics_t *m, int j);
/* Indices into cdn_report_metrics of the primary ranking metric and of class accuracy. */
enum { CDN_REPORT_TAU_FOLD = 1, CDN_REPORT_ACCURACY = 7 };
/* A headline's method name in report.csv and early_stop.csv: best_graph, best_baseline,
   best_hybrid, graph_minus_baseline, preregistered. */
const char *cdn_report_headline_name(int kind);
/* A headline's features text: how it was chosen (no commas, so the CSV field stays simple). */
void        cdn_report_headline_text(const cdn_evaluation_t *ev, const cdn_headline_t *h, char *buf, size_t len);
