/* A team trains one model together: every member holds the whole network and runs the one epoch
   loop of src/nn/train.c (same data order, augmentation and learning-rate schedule as a rank
   alone) on its contiguous slice of each minibatch; the hook here sums the members' gradients
   and losses with MPI_Allreduce before every member takes the same optimiser step. Dropout masks
   come from a stream per (epoch, member), so they differ from a team of one. With dropout 0 a
   team computes the same steps as one rank up to the order of floating-point sums (docs/cluster.md, Teams, gives
   the tolerance); numbers are not bit-identical across team sizes. Parameters stay
   bit-identical between members, but each member updates the BatchNorm running statistics from
   its own slice; the leader's are the model's (evaluation, checkpoints, and the graph, whose team
   members take them from the leader in train.c). */
#include <math.h>
#include "run_internal.h"

enum { STREAM_TEAM_DROPOUT = 1000 };

/* The members' gradients are means over their slices: weighted into the minibatch's mean. */
static PetscErrorCode team_reduce(void *ctx, float *grad, int count, int n, int nb, double *loss)
{
  MPI_Comm team = *(MPI_Comm *)ctx;
  double   total;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Allreduce(loss, &total, 1, MPI_DOUBLE, MPI_SUM, team));
  *loss = total;
  if (!isfinite(total)) PetscFunctionReturn(0); /* diverged on some member: every member stops here */
  for (int i = 0; i < count; i++) grad[i] = n > 0 ? grad[i] * ((float)n / nb) : 0.0f;
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, grad, count, MPI_FLOAT, MPI_SUM, team));
  PetscFunctionReturn(0);
}

PetscErrorCode cdn_team_train_epoch(cdn_net_t *net, const cdn_data_t *data, const cdn_images_t *set, cdn_rng_t *rng,
                                    uint64_t seed, int epoch, MPI_Comm team, double *mean_loss)
{
  PetscMPIInt       tr, ts;
  cdn_rng_t         drop;
  cdn_train_share_t share = {.dropout = &drop, .reduce = team_reduce, .ctx = &team};
  PetscErrorCode    ierr;
  int               mine, any;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_rank(team, &tr));
  PetscCallMPI(MPI_Comm_size(team, &ts));
  share.member = tr, share.size = ts;
  cdn_rng_seed(&drop, cdn_hash64(seed, (uint64_t)epoch * 4096 + tr), STREAM_TEAM_DROPOUT);
  ierr = cdn_net_train_epoch(net, data, set, rng, &share, mean_loss);
  /* A member whose engine failed stopped the epoch on every member (its loss is NaN) and raised
     the error alone: the team agrees on it here, so that no member waits for it later. */
  mine = ierr != 0;
  PetscCallMPI(MPI_Allreduce(&mine, &any, 1, MPI_INT, MPI_MAX, team));
  PetscCall(ierr);
  PetscCheck(!any, PETSC_COMM_SELF, PETSC_ERR_LIB, "another member of this rank's team failed in training");
  PetscFunctionReturn(0);
}
