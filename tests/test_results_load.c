/* A run's CSVs read back (cdn_results_load) from a good run of 2 models x 2 epochs, then from every
   kind of damage the reader checks for, one file at a time: each is refused with its file and
   reason, leaves the results empty, and (scripts/test-sanitize.sh, where leak detection is on)
   leaks neither the open file nor an array read before the problem was found. */
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>
#include "check.h"
#include "cnndyn/results.h"
#include "cnndyn/util.h"

static char dir[256];

/* Open file descriptors of this process: a FILE left open stays reachable from libc's list of
   streams, so leak detection cannot see it; a count that grows can. */
static int open_fds(void)
{
  DIR *d = opendir("/proc/self/fd");
  int  n = 0;

  if (!d) return -1;
  while (readdir(d)) n++;
  closedir(d);
  return n;
}

static const char *models_ok = "model,config,replicate,seed,architecture,status,diverged_epoch,epochs_trained,"
                               "final_val_loss,final_val_accuracy,final_test_accuracy,label\n"
                               "0,0,0,11,lenet5,ok,,2,0.5,0.8,0.79,0.79\n"
                               "1,1,0,12,lenet5,diverged,2,1,,,,0.1\n";
static const char *curves_ok = "model,epoch,train_loss,val_loss,val_accuracy\n"
                               "0,0,,2.3,0.1\n0,1,1.0,0.9,0.6\n0,2,0.6,0.5,0.8\n"
                               "1,0,,2.3,0.1\n1,1,inf,,\n";
static const char *feat_head = "model,epoch,weights.conv1.weight.mean,weights.conv1.weight.std,weights.conv1.weight.p0,weights.conv1.weight.p25,"
                               "weights.conv1.weight.p50,weights.conv1.weight.p75,weights.conv1.weight.p100\n";
static const char *feat_rows = "0,0,0,1,-2,-1,0,1,2\n0,1,0,1,-2,-1,0,1,2\n0,2,0,1,-2,-1,0,1,2\n"
                               "1,0,0,1,-2,-1,0,1,2\n1,1,,,,,,,\n";

static void put(const char *name, const char *text)
{
  char  path[512];
  FILE *fp;

  snprintf(path, sizeof path, "%s/%s", dir, name);
  if (!text) {
    unlink(path);
    return;
  }
  fp = fopen(path, "w");
  CHECK(fp != NULL);
  if (fp) fputs(text, fp), fclose(fp);
}

static void good(void)
{
  char features[1024];

  snprintf(features, sizeof features, "%s%s", feat_head, feat_rows);
  put("models.csv", models_ok), put("curves.csv", curves_ok), put("features.csv", features);
  put("features_columns.csv", NULL); /* a run from before the file: names read on their own */
}

/* file holding text (NULL: no such file) in an otherwise good run is refused with message. */
static void refused(const char *file, const char *text, const char *message)
{
  cdn_results_t *res = NULL;
  PetscErrorCode ierr;

  good();
  put(file, text);
  CHECK(cdn_error_push_quiet() == 0);
  ierr = cdn_results_load(dir, &res);
  CHECK(cdn_error_pop_quiet() == 0);
  CHECK(ierr == CDN_ERR_CORRUPT || ierr == CDN_ERR_OPEN);
  CHECK_CONTAINS(cdn_error_message(), message);
  CHECK(res == NULL); /* nothing held after the error */
  if (!ierr) CHECK(cdn_results_destroy(&res) == 0);
}

/* How a case's text becomes the file: all of it, models.csv's second data row, or the data rows
   under the good header of curves.csv or features.csv. */
typedef enum { WHOLE, MODEL_ROW, ROWS } how_t;

static const struct {
  const char *file;
  how_t       how;
  const char *text, *message;
} cases[] = {
  /* models.csv: the file, its header, then each check of a row */
  {"models.csv", WHOLE, NULL, "models.csv: cannot open"},
  {"models.csv", WHOLE, "", "models.csv: empty (no header)"},
  {"models.csv", WHOLE, "model,config,colour\n", "models.csv:1: unknown column 'colour'"},
  {"models.csv", WHOLE, "model,config,model\n", "models.csv:1: column model appears twice"},
  {"models.csv", WHOLE, "config,model,status,epochs_trained,final_test_accuracy\n", "header must start with model"},
  {"models.csv", WHOLE, "model,config,status,epochs_trained,final_test_accuracy\n", "models.csv: no models (header only)"},
  {"models.csv", MODEL_ROW, "1,1,0,12,lenet5,ok,,1", "models.csv:3: 8 fields, the header has 12"},
  {"models.csv", MODEL_ROW, "2,1,0,12,lenet5,ok,,1,,,0.5,0.5", "models.csv:3: column model: 2 where 1 was expected"},
  {"models.csv", MODEL_ROW, "1,1,0,-12,lenet5,ok,,1,,,0.5,0.5", "column seed: '-12' is not an unsigned 64-bit integer"},
  {"models.csv", MODEL_ROW, "1,1,0,12,,ok,,1,,,0.5,0.5", "column architecture: empty"},
  /* hyperparameters out of the job spec's ranges loaded and changed the hparams inputs (outside review) */
  {"models.csv", WHOLE, "model,config,replicate,seed,architecture,learning_rate,status,diverged_epoch,epochs_trained,"
                        "final_val_loss,final_val_accuracy,final_test_accuracy,label\n0,0,0,11,lenet5,0,ok,,2,0.5,0.8,0.79,0.79\n",
   "models.csv:2: column learning_rate: 0 is not a number in (0, 10] (the job spec's range)"},
  {"models.csv", WHOLE, "model,config,replicate,seed,architecture,batch_size,status,diverged_epoch,epochs_trained,"
                        "final_val_loss,final_val_accuracy,final_test_accuracy,label\n0,0,0,11,lenet5,32.5,ok,,2,0.5,0.8,0.79,0.79\n",
   "models.csv:2: column batch_size: 32.5 is not an integer in [1, 4096]"},
  /* any text once loaded, and report.csv printed it raw as a subset name (outside review) */
  {"models.csv", MODEL_ROW, "1,1,0,12,\"x\"\"y,z\",ok,,1,,,0.5,0.5", "column architecture: 'x\"y,z' is not lenet5, alexnet, vgg or resnet"},
  {"models.csv", MODEL_ROW, "1,0,1,12,alexnet,diverged,2,1,,,,0.1",
   "models.csv:3: model 1 is in configuration 0, but its architecture or hyperparameters are not those of model 0"},
  {"models.csv", WHOLE, "model,config,replicate,seed,architecture,learning_rate,status,diverged_epoch,epochs_trained,"
   "final_val_loss,final_val_accuracy,final_test_accuracy,label\n0,0,0,11,lenet5,0.1,ok,,2,0.5,0.8,0.79,0.79\n"
   "1,0,1,12,lenet5,0.2,diverged,2,1,,,,0.1\n", "models.csv:3: model 1 is in configuration 0, but"},
  {"models.csv", MODEL_ROW, "1,1,0,12,lenet5,fine,,1,,,0.5,0.5", "column status: 'fine' is not ok, diverged or pruned"},
  {"models.csv", MODEL_ROW, "1,1,0,12,lenet5,diverged,3,1,,,,0.1", "diverged_epoch: 3 is outside [2, 2]"},
  {"models.csv", MODEL_ROW, "1,1,0,12,lenet5,diverged,1,1,,,,0.1", "diverged_epoch: 1 is outside [2, 2]"},
  {"models.csv", MODEL_ROW, "1,1,0,12,lenet5,ok,2,1,,,0.5,0.5", "column diverged_epoch: '2' for a model whose status is ok"},
  {"models.csv", MODEL_ROW, "1,1,0,12,lenet5,diverged,2,1,,,,0.679", "column label: 0.679 is not chance (1/classes) for a diverged model"},
  {"models.csv", MODEL_ROW, "1,1,0,12,lenet5,diverged,2,1,,,,1", "column label: 1 is not chance (1/classes) for a diverged model"},
  {"models.csv", MODEL_ROW, "1,1,0,12,lenet5,ok,,1001,,,0.5,0.5", "column epochs_trained: 1001 is outside [0, 1000]"},
  /* cross-file and cross-column facts (outside review: each loaded) */
  {"models.csv", MODEL_ROW, "1,1,0,12,lenet5,ok,,2,0.5,0.8,0.79,0.9", "models.csv:3: column label: '0.9' is not the model's final_test_accuracy '0.79'"},
  {"models.csv", MODEL_ROW, "1,1,0,12,lenet5,ok,,2,0.5,0.8,0.79,", "models.csv:3: column label: '' is not the model's final_test_accuracy '0.79'"},
  {"models.csv", MODEL_ROW, "1,1,0,12,lenet5,ok,,1,,,0x1p-1,0.5", "column final_test_accuracy: '0x1p-1'"},
  {"models.csv", MODEL_ROW, "1,1,0,12,lenet5,ok,,1,,,1.5,0.5", "column final_test_accuracy: 1.5 is outside [0"},
  {"models.csv", MODEL_ROW, "1,1,0,12,\"lenet5,ok,,1,,,0.5,0.5", "models.csv:3: field 5: quote not closed"},
  {"models.csv", MODEL_ROW, "1,1,0,12,\"lenet5\"x,ok,,1,,,0.5,0.5", "models.csv:3: field 5: text after the closing quote"},
  /* curves.csv: header, keys, values, completeness */
  {"curves.csv", WHOLE, NULL, "curves.csv: cannot open"},
  {"curves.csv", WHOLE, "model,epoch,train_loss,val_loss\n", "curves.csv:1: 4 columns, expected"},
  {"curves.csv", WHOLE, "model,epoch,train_loss,val_loss,val_acc\n", "curves.csv:1: column 5 is 'val_acc'"},
  {"curves.csv", ROWS, "0,0,,2.3,0.1\n2,0,,2.3,0.1\n", "curves.csv:3: model 2, but models.csv has only 2 models"},
  {"curves.csv", ROWS, "1,2,,2.3,0.1\n", "curves.csv:2: model 1 epoch 2, but models.csv says it trained 1 epochs"},
  {"curves.csv", ROWS, "0,0,,2.3,0.1\n0,1,1.0,0.9,0.6\n0,1,1.0,0.9,0.6\n", "curves.csv:4: second row for model 0 epoch 1"},
  {"curves.csv", ROWS, "0,0,,2.3,0.1\n", "curves.csv: no row for model 0 epoch 1"},
  {"curves.csv", ROWS, "0,0,,2.3,0.1\n0,1,1.0,0.9,0.6\n0,2,0.6,0.5,0.7\n1,0,,2.3,0.1\n1,1,inf,,\n",
   "models.csv:2: column final_val_accuracy: '0.8' is not curves.csv's value at epoch 2"},
  {"curves.csv", ROWS, "0,0,1.5,2.3,0.1\n", "curves.csv:2: column train_loss: '1.5' at epoch 0 (the initial weights have no training loss)"},
  {"curves.csv", ROWS, "0,0,,2.3,1.1\n", "curves.csv:2: column val_accuracy: 1.1 is outside [0"},
  {"curves.csv", ROWS, "0,x,,2.3,0.1\n", "curves.csv:2: column epoch: 'x' is not an integer"},
  /* features.csv: names, then rows as curves.csv's */
  {"features.csv", WHOLE, NULL, "features.csv: cannot open"},
  {"features.csv", WHOLE, "model,epoch\n", "features.csv:1: header must be model,epoch, then at least one feature"},
  {"features.csv", WHOLE, "model,epoch,colour\n", "features.csv:1: column 3: 'colour' is not a feature cnndyn writes"},
  {"features.csv", WHOLE, "model,epoch,weights.conv1.mean\n", "column 3: 'weights.conv1.mean' is not a feature cnndyn writes"},
  {"features.csv", WHOLE, "model,epoch,singular.conv1.mean\n", "column 3: 'singular.conv1.mean' is not a feature cnndyn writes"},
  /* features_columns.csv, when there, is the list features.csv's header must read as */
  {"features_columns.csv", WHOLE, "column,statistic,scope,layer,aggregator\nweights.conv1.weight.std,weight,tensor,conv1,std\n",
   "features_columns.csv:2: column 'weights.conv1.weight.std', but features.csv's column 3 is weights.conv1.weight.mean"},
  {"features_columns.csv", WHOLE, "column,statistic,scope,layer,aggregator\n", "features_columns.csv: 0 columns, but features.csv has 7"},
  {"features_columns.csv", WHOLE, "column,statistic\n", "features_columns.csv:1: header must be column,statistic,scope,layer,aggregator"},
  {"features.csv", WHOLE, "model,epoch,weights.conv1.degree.mean\n", "column 3: 'weights.conv1.degree.mean' is not a feature cnndyn writes"},
  {"features.csv", WHOLE, "model,epoch,weights.conv1.weight.mean,weights.conv1.weight.std\n", "features.csv:1: columns missing"},
  {"features.csv", ROWS, "0,0,0,1,-2,-1,0,1,nan\n", "features.csv:2: column weights.conv1.weight.p100: 'nan'"},
  {"features.csv", ROWS, "0,0,0,1,-2,-1,0,1,2\n", "features.csv: no row for model 0 epoch 1"},
};

static void run_case(int i)
{
  char text[2048];

  if (cases[i].how == MODEL_ROW) /* the header and the first row, then this one */
    snprintf(text, sizeof text, "%.*s%s\n", (int)(strstr(models_ok, "1,1,0,12") - models_ok), models_ok, cases[i].text);
  else if (cases[i].how == ROWS)
    snprintf(text, sizeof text, "%s%s", !strcmp(cases[i].file, "curves.csv") ? "model,epoch,train_loss,val_loss,val_accuracy\n" : feat_head,
             cases[i].text);
  refused(cases[i].file, cases[i].how == WHOLE ? cases[i].text : text, cases[i].message);
}

int main(int argc, char **argv)
{
  cdn_results_t *res = NULL;
  int           fds;

  PetscCall(cdn_initialize(&argc, &argv, NULL));
  fds = open_fds();
  snprintf(dir, sizeof dir, "/tmp/cdn_test_results_load_%ld", (long)getpid());
  CHECK(mkdir(dir, 0700) == 0);

  good();
  PetscCall(cdn_results_load(dir, &res));
  CHECK(res->nmodels == 2 && res->epochs == 2 && res->nfeat == 7 && res->num_classes == 10);
  CHECK(res->status[1] == CDN_STATUS_DIVERGED && res->epochs_done[1] == 1 && res->diverged_epoch[1] == 2);
  CHECK_CLOSE(res->test_acc[0], 0.79, 1e-15);
  CHECK_CLOSE(cdn_results_curve(res, 0, 2)[CDN_CURVE_VAL_ACC], 0.8, 1e-15);
  CHECK_CLOSE(cdn_results_features(res, 0, 1)[3], -1, 0);
  CHECK(isnan(cdn_results_features(res, 1, 2)[0])); /* past the diverged model's last epoch */
  PetscCall(cdn_results_destroy(&res));
  /* with its features_columns.csv, as a run writes it */
  put("features_columns.csv", "column,statistic,scope,layer,aggregator\n"
                              "weights.conv1.weight.mean,weight,tensor,conv1,mean\nweights.conv1.weight.std,weight,tensor,conv1,std\n"
                              "weights.conv1.weight.p0,weight,tensor,conv1,p0\nweights.conv1.weight.p25,weight,tensor,conv1,p25\n"
                              "weights.conv1.weight.p50,weight,tensor,conv1,p50\nweights.conv1.weight.p75,weight,tensor,conv1,p75\n"
                              "weights.conv1.weight.p100,weight,tensor,conv1,p100\n");
  PetscCall(cdn_results_load(dir, &res));
  CHECK(res->nfeat == 7 && !strcmp(res->columns[6].aggregator, "p100") && !strcmp(res->columns[0].scope, "tensor"));
  PetscCall(cdn_results_destroy(&res));

  /* a byte order mark (a spreadsheet's save) before a header is not part of its first name */
  {
    char bom[1024];
    snprintf(bom, sizeof bom, "\xEF\xBB\xBF%s", models_ok), put("models.csv", bom);
    snprintf(bom, sizeof bom, "\xEF\xBB\xBF%s%s", feat_head, feat_rows), put("features.csv", bom);
    CHECK(cdn_results_load(dir, &res) == 0);
    CHECK(res && res->nmodels == 2 && res->nfeat == 7);
    PetscCall(cdn_results_destroy(&res));
  }
  /* ... nor of the line's length: a header of 65,534 characters (the longest line read) with one is
     read whole, and refused for its over-long name, not for its length */
  {
    size_t len = 65534;
    char  *head = malloc(len + 6);
    memcpy(head, "\xEF\xBB\xBFmodel,epoch,", 15);
    memset(head + 15, 'x', len - 12), memcpy(head + 3 + len, "\n", 2);
    refused("features.csv", head, "features.csv:1: column 3: name too long");
    refused("features.csv", head + 3, "features.csv:1: column 3: name too long");
    head[3 + len] = 'x', head[4 + len] = '\n', head[5 + len] = 0; /* one character more */
    refused("features.csv", head + 3, "features.csv:1: longer than 65534 characters");
    free(head);
  }
  for (int i = 0; i < (int)(sizeof cases / sizeof cases[0]); i++) run_case(i);
  CHECK(fds > 0 && open_fds() == fds); /* every refused file was closed */
  put("models.csv", NULL), put("curves.csv", NULL), put("features.csv", NULL), put("features_columns.csv", NULL);
  CHECK(rmdir(dir) == 0);
  PetscCall(cdn_finalize());
  return CHECK_STATUS();
}
