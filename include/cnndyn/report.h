#pragma once
/* The run's outputs: CSV files (README.md documents every column) and the summary on stdout. */
#include <stdio.h>
#include "cnndyn/evaluate.h"
#include "cnndyn/jobspec.h"
#include "cnndyn/results.h"

/* Writes models.csv, curves.csv, timing.csv, features.csv, predictions.csv and report.csv into
   outdir. All are written under temporary names first and renamed only when every one is whole. */
PetscErrorCode cdn_report_write(const char *outdir, const cdn_results_t *res, const cdn_evaluation_t *ev);
/* The table of methods, budget and metrics, for people. */
void cdn_report_print_summary(FILE *fp, const cdn_results_t *res, const cdn_evaluation_t *ev);
/* CSV number: 9 significant digits; NaN as an empty field; infinities as inf / -inf. */
void cdn_csv_number(FILE *fp, double v);
