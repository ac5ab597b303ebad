/* A model's graph during training: where it lives (the leader alone, or the team as a parallel
   matrix), the team's shared view of the network, and the per-epoch statistics with one verdict
   for every rank that holds the graph. */
#include <math.h>
#include <unistd.h>
#include "cnndyn/features.h"
#include "cnndyn/graph.h"
#include "cnndyn/nn.h"
#include "run_internal.h"


/* Pattern once per model; on a team every member plans the same graph and so reaches the same
   decision, and a failure on any member (memory for the pattern, say) or of the leader building
   its own graph stops all of them. */
static PetscErrorCode setup(const cdn_jobspec_t *spec, cdn_net_t *net, int model, const cdn_train_ctl_t *ctl,
                            PetscBool leader, FILE *log, cdn_model_graph_t *mg)
{
  const cdn_model_desc_t *desc = cdn_net_desc(net);
  MPI_Comm                comm = PETSC_COMM_SELF;
  PetscErrorCode          ierr = 0;

  PetscFunctionBeginUser;
  if (ctl && ctl->team_size > 1 && spec->distribute_edges > 0) {
    cdn_graph_t plan;
    PetscCall(cdn_graph_plan_as(desc, spec->unrolled, spec->max_edges, &plan));
    comm = cdn_graph_comm_for(ctl->team, plan.nedges, spec->distribute_edges);
  }
  if (comm != PETSC_COMM_SELF) {
    mg->team  = comm;
    mg->bytes = cdn_net_state_bytes(net);
    ierr      = PetscMalloc1(mg->bytes, &mg->state);
  }
  if (!ierr && (leader || mg->team != MPI_COMM_NULL))
    ierr = cdn_graph_create_as(comm, desc, spec->unrolled, spec->max_edges, &mg->g);
  if (ctl && ctl->team_size > 1) PetscCall(cdn_error_share(ctl->team, ierr));
  PetscCall(ierr);
  if (mg->team != MPI_COMM_NULL && log)
    fprintf(log, "model %d: graph of %lld edges on a team of %d ranks; this rank owns rows %lld..%lld of %lld\n", model,
            (long long)mg->g->nedges, ctl->team_size, (long long)mg->g->rstart, (long long)mg->g->rend - 1,
            (long long)mg->g->nnodes),
      fflush(log);
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_model_graph_create(const cdn_jobspec_t *spec, cdn_net_t *net, int model, const cdn_train_ctl_t *ctl,
                                      PetscBool leader, FILE *log, cdn_model_graph_t **out)
{
  cdn_model_graph_t *mg;
  PetscErrorCode     ierr;

  PetscFunctionBeginUser;
  *out = NULL;
  PetscCall(PetscNew(&mg));
  mg->team = MPI_COMM_NULL;
  ierr     = setup(spec, net, model, ctl, leader, log, mg);
  if (ierr) {
    PetscCall(cdn_model_graph_destroy(&mg));
    PetscCall(ierr);
  }
  *out = mg;
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_model_graph_destroy(cdn_model_graph_t **mg)
{
  PetscFunctionBeginUser;
  if (!mg || !*mg) PetscFunctionReturn(0);
  PetscCall(cdn_graph_destroy(&(*mg)->g));
  PetscCall(PetscFree((*mg)->state));
  PetscCall(PetscFree(*mg));
  PetscFunctionReturn(0);
}

/* Team members take the leader's network state before they read their rows of the graph. Their
   parameters match the leader's (every member takes the same step from the same summed gradient),
   but their BatchNorm running statistics come from their own slices of each batch (team.c), and
   those scale edges. The state travels in pieces that an int count can address. */
static PetscErrorCode share_state(cdn_net_t *net, cdn_model_graph_t *mg, PetscBool leader)
{
  const size_t piece = (size_t)1 << 30;

  PetscFunctionBeginUser;
  if (leader) cdn_net_state_save(net, mg->state);
  for (size_t off = 0; off < mg->bytes; off += piece) {
    size_t n = mg->bytes - off < piece ? mg->bytes - off : piece;
    PetscCallMPI(MPI_Bcast(mg->state + off, (int)n, MPI_BYTE, 0, mg->team));
  }
  if (!leader) PetscCall(cdn_net_state_load(net, mg->state, mg->bytes));
  PetscFunctionReturn(0);
}

/* The team's verdict, the worst of the members' (0 fine, 1 no convergence, 2 failed), on every
   member. A member whose statistics failed may have left the others inside one of the solvers'
   collective calls (an allocation that failed on it alone, say), where they would wait for it
   until the job's time limit: it waits for the verdict at most cdn_team_wait_seconds, then stops
   the whole job with its message (exit 3; checkpoints up to the last epoch end are kept, so
   --resume continues). A member that failed is going to stop the run anyway; this only bounds how
   long that takes. */
static PetscErrorCode team_verdict(MPI_Comm team, int rank, int mine, const char *why, int *worst)
{
  MPI_Request req;
  int         done = 0;
  double      t0 = MPI_Wtime(), wait;

  PetscFunctionBeginUser;
  PetscCall(cdn_team_wait_seconds(&wait));
  PetscCallMPI(MPI_Iallreduce(&mine, worst, 1, MPI_INT, MPI_MAX, team, &req));
  if (!mine) PetscCallMPI(MPI_Wait(&req, MPI_STATUS_IGNORE));
  while (mine && !done) {
    PetscCallMPI(MPI_Test(&req, &done, MPI_STATUS_IGNORE));
    if (done) break;
    if (MPI_Wtime() - t0 > wait) {
      fprintf(stderr,
              "cnndyn: error: rank %d: graph statistics failed: %s; the other members of its team did not answer "
              "in %.0f s (they are likely waiting inside a collective call of the statistics): stopping the job; "
              "--resume continues from the last epoch end\n",
              rank, why, wait);
      fflush(stderr);
      MPI_Abort(MPI_COMM_WORLD, 3);
    }
    usleep(10000);
  }
  PetscFunctionReturn(0);
}

/* A solver that does not converge on one model's graph (an eigenproblem with a cluster of top
   eigenvalues, say) costs that model this epoch's graph features, which stay empty, not the whole
   population run. Any other error still stops the run. On a team's graph the members agree on the
   verdict (empty only when no member failed otherwise), so that all leave the statistics alike. */
static PetscErrorCode graph_features(const cdn_jobspec_t *spec, cdn_model_graph_t *mg, int rank, int model, int e,
                                     FILE *log, double *row)
{
  PetscErrorCode     ierr;
  const char        *why;
  const cdn_layout_t lay = cdn_layout_of(spec);

  PetscFunctionBeginUser;
  PetscCall(cdn_error_push_quiet());
  ierr = cdn_test_graph_fault_early(rank);
  if (!ierr) ierr = cdn_test_graph_fault(rank, cdn_layout_graph_row(&lay, mg->g, row));
  why = cdn_error_message();
  if (mg->team != MPI_COMM_NULL) {
    int mine = !ierr ? 0 : ierr == PETSC_ERR_CONV_FAILED ? 1 : 2, worst = 2;
    if (team_verdict(mg->team, rank, mine, why, &worst)) ierr = PETSC_ERR_MPI;
    else if (worst == 2) ierr = cdn_error_share(mg->team, mine == 2 ? ierr : 0), why = cdn_error_message();
    else if (worst == 1 && !ierr) ierr = PETSC_ERR_CONV_FAILED, why = "a solver did not converge on another team member";
  }
  PetscCall(cdn_error_pop_quiet());
  if (ierr == PETSC_ERR_CONV_FAILED) {
    for (int k = 0; k < cdn_layout_graph_count(&lay, mg->g); k++) row[k] = NAN;
    if (log) fprintf(log, "model %d epoch %d: graph features left empty: %s\n", model, e, why);
    PetscFunctionReturn(0);
  }
  PetscCheck(!ierr, PETSC_COMM_SELF, ierr, "model %d epoch %d: graph statistics failed: %s", model, e, why);
  PetscFunctionReturn(0);
}

/* This epoch's graph and its features, on every rank that holds the graph. A team graph's outcome
   is the same on every member: the state broadcast and the statistics are collective, and their
   verdict is agreed. */
PetscErrorCode cdn_model_graph_epoch(const cdn_jobspec_t *spec, cdn_net_t *net, cdn_model_graph_t *mg, PetscBool leader,
                                     int rank, int model, int e, FILE *log, double *row)
{
  PetscFunctionBeginUser;
  if (mg->team != MPI_COMM_NULL) PetscCall(share_state(net, mg, leader));
  PetscCall(cdn_graph_set_weights(mg->g, cdn_net_desc(net)));
  PetscCall(graph_features(spec, mg, rank, model, e, leader ? log : NULL, row));
  PetscFunctionReturn(0);
}
