/* `cnndyn graph` and `cnndyn stats`: a snapshot's graph as Matrix Market, its per-node statistics
   as CSV, or, given a finished run's snapshots folder, features.csv recomputed without training
   (in the run's own column layout: its job.ini and src/features/layout.c).
   All reading and writing happens on rank 0; the other ranks wait for its verdict. */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cli.h"
#include "cnndyn/features.h"
#include "cnndyn/graph.h"
#include "cnndyn/jobspec.h"
#include "cnndyn/layout.h"
#include "cnndyn/report.h"
#include "cnndyn/snapshot.h"
#include "cnndyn/stats.h"
#include "cnndyn/util.h"

typedef struct {
  const char *snap, *file;
  int         unrolled, given_stats, given_aggs; /* given: on the command line */
  unsigned    stat_mask, agg_mask;
} gopts_t;

/* *desc and *g allocated here; both NULL after an error. */
static PetscErrorCode load_graph(const char *snap, int unrolled, cdn_model_desc_t **desc, cdn_graph_t **g)
{
  PetscErrorCode ierr;

  PetscFunctionBeginUser;
  *g = NULL;
  PetscCall(cdn_snapshot_read(snap, desc));
  ierr = cdn_graph_create_as(PETSC_COMM_SELF, *desc, unrolled, 2000000000, g);
  if (!ierr) ierr = cdn_graph_set_weights(*g, *desc);
  if (ierr) {
    PetscCall(cdn_graph_destroy(g));
    PetscCall(cdn_snapshot_destroy(desc));
    PetscCall(ierr);
  }
  PetscFunctionReturn(0);
}

static PetscErrorCode graph_export(const gopts_t *o)
{
  cdn_model_desc_t *desc = NULL;
  cdn_graph_t     *g = NULL;

  PetscFunctionBeginUser;
  PetscCall(load_graph(o->snap, o->unrolled, &desc, &g));
  PetscCall(cdn_graph_export_mtx(g, o->file));
  PetscCall(PetscPrintf(PETSC_COMM_SELF, "%s: %d nodes, %d edges\n", o->file, (int)g->nnodes, (int)g->nedges));
  PetscCall(cdn_graph_destroy(&g));
  PetscCall(cdn_snapshot_destroy(&desc));
  PetscFunctionReturn(0);
}

/* One row per node: node id, its layer and channel (unrolled: index inside the layer's maps),
   then each selected node statistic. */
static PetscErrorCode node_stats(const gopts_t *o)
{
  cdn_model_desc_t *desc = NULL;
  cdn_graph_t     *g = NULL;
  PetscReal       *x[CDN_STAT_COUNT] = {NULL}, lambda;
  cdn_afile_t      af = {0};
  FILE            *fp = stdout;

  PetscFunctionBeginUser;
  for (int s = 0; s < CDN_STAT_COUNT; s++) { /* in cdn_stat_kind_t order */
    static const char *const kind[] = {"node", "layer", "whole-graph", "per-scope"};
    PetscCheck(!(o->stat_mask & (1u << s)) || cdn_stat_kind((cdn_stat_t)s) == CDN_STAT_KIND_NODE, PETSC_COMM_SELF,
               CDN_ERR_INPUT, "--statistics: %s is a %s statistic; give stats a run's snapshots folder for feature rows",
               cdn_stat_name((cdn_stat_t)s), kind[cdn_stat_kind((cdn_stat_t)s)]);
  }
  PetscCall(load_graph(o->snap, o->unrolled, &desc, &g));
  for (int s = 0; s < CDN_STAT_COUNT; s++) {
    if (!(o->stat_mask & (1u << s))) continue;
    PetscCall(PetscMalloc1(g->nnodes, &x[s]));
    if (s == CDN_STAT_DEGREE) PetscCall(cdn_stat_degree(g->A, x[s]));
    if (s == CDN_STAT_EIGENVECTOR) PetscCall(cdn_stat_eigenvector(g->A, x[s], &lambda));
    if (s == CDN_STAT_PAGERANK) PetscCall(cdn_stat_pagerank(g->A, x[s]));
    if (s == CDN_STAT_IN_STRENGTH || s == CDN_STAT_OUT_STRENGTH) {
      PetscReal *other;
      PetscCall(PetscMalloc1(g->nnodes, &other));
      PetscCall(s == CDN_STAT_IN_STRENGTH ? cdn_stat_strength(g->A, x[s], other) : cdn_stat_strength(g->A, other, x[s]));
      PetscCall(PetscFree(other));
    }
  }
  if (o->file) {
    PetscCall(cdn_afile_open(&af, o->file));
    fp = af.fp;
  }
  fprintf(fp, "node,layer,channel");
  for (int s = 0; s < CDN_STAT_COUNT; s++)
    if (x[s]) fprintf(fp, ",%s", cdn_stat_name((cdn_stat_t)s));
  fputc('\n', fp);
  for (PetscInt v = 0; v < g->nnodes; v++) {
    int      grp;
    PetscInt local;
    cdn_graph_node_group(g, v, &grp, &local);
    fprintf(fp, "%d,", (int)v);
    cdn_csv_text(fp, g->group_name[grp]); /* a layer name from the snapshot's model.json */
    fprintf(fp, ",%d", (int)local);
    for (int s = 0; s < CDN_STAT_COUNT; s++)
      if (x[s]) fprintf(fp, ",%.9g", (double)x[s][v]);
    fputc('\n', fp);
  }
  if (o->file) PetscCall(cdn_afile_commit(&af));
  for (int s = 0; s < CDN_STAT_COUNT; s++) PetscCall(PetscFree(x[s]));
  PetscCall(cdn_graph_destroy(&g));
  PetscCall(cdn_snapshot_destroy(&desc));
  PetscFunctionReturn(0);
}

static int is_dir(const char *p)
{
  struct stat st;
  return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* model-NNNNNN (a folder of epochs) or model-NNNNNN.npz ([output] snapshot_format = npz) */
static int pick_model(const struct dirent *e)
{
  const char *dot = strchr(e->d_name, '.');
  return !strncmp(e->d_name, "model-", 6) && (!dot || !strcmp(dot, ".npz"));
}

/* One snapshot's feature row, as the run writes it: the columns of the run's layout (src/features/layout.c,
   the same code the run calls). The header comes from the first snapshot; every later one must
   have the same columns. */
static PetscErrorCode feature_row(const char *dir, const cdn_layout_t *lay, int unrolled, int have_job, FILE *fp,
                                  int model, int epoch, int *nfeat, cdn_column_t **first)
{
  cdn_model_desc_t *desc = NULL;
  cdn_graph_t     *g = NULL;
  cdn_column_t    *cols;
  PetscReal       *row;
  int              n, same;

  PetscFunctionBeginUser;
  PetscCall(load_graph(dir, unrolled, &desc, &g));
  PetscCall(cdn_layout_columns(lay, g, desc, &n, &cols));
  if (!*first) {
    fprintf(fp, "model,epoch");
    for (int k = 0; k < n; k++) fputc(',', fp), cdn_csv_text(fp, cols[k].name);
    fputc('\n', fp);
    *first = cols, *nfeat = n, cols = NULL;
  }
  same = n == *nfeat;
  for (int k = 0; k < n && same; k++) same = !strcmp((*first)[k].name, cols ? cols[k].name : (*first)[k].name);
  PetscCall(PetscFree(cols));
  PetscCheck(same, PETSC_COMM_SELF, CDN_ERR_INPUT, "%s: other feature columns than the first snapshot (%d features, not %d)%s",
             dir, n, *nfeat, have_job ? "" : "; without the run's job.ini beside snapshots/ a population that mixes layer layouts cannot be read");
  PetscCall(PetscMalloc1(n, &row));
  PetscCall(cdn_layout_graph_row(lay, g, row));
  PetscCall(cdn_layout_weight_row(lay, desc, row + cdn_layout_graph_count(lay, g)));
  fprintf(fp, "%d,%d", model, epoch);
  for (int k = 0; k < n; k++) fputc(',', fp), cdn_csv_number(fp, (double)row[k]);
  fputc('\n', fp);
  PetscCall(PetscFree(row));
  PetscCall(cdn_graph_destroy(&g));
  PetscCall(cdn_snapshot_destroy(&desc));
  PetscFunctionReturn(0);
}

/* The layout the run used: its job spec (the run folder's job.ini, beside snapshots/), or the
   defaults without one; options given on the command line override it. */
static PetscErrorCode run_layout(const char *root, const char *dir, const gopts_t *o, cdn_layout_t *lay, int *unrolled,
                                 int *have_job)
{
  cdn_jobspec_t spec;
  char          job[PETSC_MAX_PATH_LEN + 16];

  PetscFunctionBeginUser;
  if (strcmp(dir, root)) snprintf(job, sizeof job, "%s/job.ini", root);
  else snprintf(job, sizeof job, "%s/../job.ini", root);
  *have_job = access(job, R_OK) == 0;
  if (*have_job) PetscCall(cdn_jobspec_load(PETSC_COMM_SELF, job, &spec));
  else cdn_jobspec_defaults(&spec);
  *lay      = cdn_layout_of(&spec);
  *unrolled = o->unrolled || spec.unrolled;
  if (o->given_stats) lay->stat_mask = o->stat_mask;
  if (o->given_aggs) lay->agg_mask = o->agg_mask;
  PetscFunctionReturn(0);
}

/* A run's snapshots folder (or the run folder holding it): model-MMMMMM/epoch-EEE in order. */
static PetscErrorCode run_features(const char *root, const gopts_t *o)
{
  char            dir[PETSC_MAX_PATH_LEN], snap[PETSC_MAX_PATH_LEN + 600]; /* + two entry names */
  struct dirent **models = NULL;
  int             nm, ne, nfeat = -1, unrolled = 0, have_job = 0;
  cdn_layout_t    lay;
  cdn_column_t   *first = NULL;
  cdn_afile_t     af = {0};
  FILE           *fp = stdout;
  PetscErrorCode  ierr = 0;

  PetscFunctionBeginUser;
  snprintf(dir, sizeof dir, "%s/snapshots", root);
  if (!is_dir(dir)) snprintf(dir, sizeof dir, "%s", root);
  nm = scandir(dir, &models, pick_model, alphasort);
  PetscCheck(nm > 0, PETSC_COMM_SELF, CDN_ERR_OPEN, "%s: no model.json and no model-NNNNNN snapshot folders", root);
  ierr = run_layout(root, dir, o, &lay, &unrolled, &have_job);
  if (o->file && !ierr) ierr = cdn_afile_open(&af, o->file), fp = af.fp;
  for (int m = 0; m < nm && !ierr; m++) {
    int *epochs = NULL;
    snprintf(snap, sizeof snap, "%s/%s", dir, models[m]->d_name);
    ierr = cdn_snapshot_epochs(snap, &epochs, &ne);
    for (int e = 0; e < ne && !ierr; e++) {
      snprintf(snap, sizeof snap, "%s/%s/epoch-%03d", dir, models[m]->d_name, epochs[e]);
      /* a run snapshots every epoch from 0 (a diverged model stops early): a gap is damage, and a
         features.csv quietly short of its rows would pass for a whole one */
      if (epochs[e] != e)
        ierr = PetscError(PETSC_COMM_SELF, __LINE__, PETSC_FUNCTION_NAME, __FILE__, CDN_ERR_INPUT, PETSC_ERROR_INITIAL,
                          "%s/%s: epoch-%03d is missing (snapshots run from epoch 0 without gaps)", dir,
                          models[m]->d_name, e);
      if (!ierr) ierr = feature_row(snap, &lay, unrolled, have_job, fp, atoi(models[m]->d_name + 6), epochs[e], &nfeat, &first);
    }
    free(epochs);
  }
  for (int m = 0; m < nm; m++) free(models[m]);
  free(models);
  PetscCall(PetscFree(first));
  if (o->file && ierr) cdn_afile_abort(&af);
  PetscCall(ierr);
  if (o->file) PetscCall(cdn_afile_commit(&af));
  PetscFunctionReturn(0);
}

/* --statistics and --aggregators read as the job spec reads [graph] statistics and [features]
   aggregators (one list parser): the same names, errors and refusals of empty or repeated items. */
static PetscErrorCode parse_list(const char *option, const char *section, const char *key, const char *list,
                                 unsigned *mask)
{
  char          text[1024];
  cdn_jobspec_t spec;

  PetscFunctionBeginUser;
  PetscCheck(strlen(list) < 900, PETSC_COMM_SELF, CDN_ERR_INPUT, "%s: the list is too long", option);
  snprintf(text, sizeof text, "[%s]\n%s = %s\n", section, key, list);
  PetscCall(cdn_jobspec_parse_string(option, text, &spec));
  *mask = !strcmp(key, "statistics") ? spec.stat_mask : spec.agg_mask;
  PetscFunctionReturn(0);
}

static int graph_command(int argc, char **argv, PetscErrorCode *ierr, int is_graph)
{
  gopts_t     o = {.stat_mask = 1u << CDN_STAT_DEGREE | 1u << CDN_STAT_EIGENVECTOR,
                   .agg_mask  = 1u << CDN_AGG_MEAN | 1u << CDN_AGG_STD | 1u << CDN_AGG_MIN | 1u << CDN_AGG_MAX |
                               1u << CDN_AGG_MEDIAN};
  const char *flag = is_graph ? "--export" : "--out";
  char        json[PETSC_MAX_PATH_LEN];
  PetscMPIInt rank;

  *ierr = 0;
  for (int i = 0; i < argc; i++) {
    if (!strcmp(argv[i], flag) || (!is_graph && (!strcmp(argv[i], "--statistics") || !strcmp(argv[i], "--aggregators")))) {
      if (i + 1 == argc) return cdn_cli_usage_error("%s needs a value", argv[i]);
      if (!strcmp(argv[i], flag)) o.file = argv[++i];
      else if (!strcmp(argv[i], "--statistics")) {
        o.given_stats = 1;
        if ((*ierr = parse_list("--statistics", "graph", "statistics", argv[++i], &o.stat_mask))) return 0;
      } else {
        o.given_aggs = 1;
        if ((*ierr = parse_list("--aggregators", "features", "aggregators", argv[++i], &o.agg_mask))) return 0;
      }
    } else if (!strcmp(argv[i], "--unrolled")) o.unrolled = 1;
    else if (argv[i][0] == '-') return cdn_cli_usage_error("unknown option '%s'", argv[i]);
    else if (o.snap) return cdn_cli_usage_error("unexpected argument '%s' (one snapshot only)", argv[i]);
    else o.snap = argv[i];
  }
  if (!o.snap) return cdn_cli_usage_error("%s: no snapshot folder given", is_graph ? "graph" : "stats");
  if (is_graph && !o.file) return cdn_cli_usage_error("%s", "graph: --export FILE.mtx is required");
  MPI_Comm_rank(PETSC_COMM_WORLD, &rank);
  if (rank == 0) {
    struct stat sb;
    snprintf(json, sizeof json, "%s/model.json", o.snap);
    if (is_graph) *ierr = graph_export(&o);
    else if (stat(json, &sb) == 0 || !is_dir(o.snap)) *ierr = node_stats(&o);
    else *ierr = run_features(o.snap, &o);
  }
  *ierr = cdn_error_share(PETSC_COMM_WORLD, *ierr);
  return 0;
}

int cdn_cli_graph(int argc, char **argv, PetscErrorCode *ierr) { return graph_command(argc, argv, ierr, 1); }
int cdn_cli_stats(int argc, char **argv, PetscErrorCode *ierr) { return graph_command(argc, argv, ierr, 0); }
