/* A team trains one model together: every member holds the whole network, each minibatch is
   split into contiguous slices, one per member, and the members' gradients are summed with
   MPI_Allreduce before every member takes the same optimiser step. The data order comes from the
   model's training stream, which every member advances identically; dropout masks come from a
   stream per (epoch, member), so they differ from a team of one. With dropout 0 a team computes
   the same steps as one rank up to the order of floating-point sums (see README.md for the
   tolerance); numbers are not bit-identical across team sizes. Parameters stay bit-identical
   between members, but each member updates the BatchNorm running statistics from its own slice;
   the leader's are the model's (evaluation, checkpoints, and the graph, whose team members take
   them from the leader in train.c). */
#include <math.h>
#include "run_internal.h"

enum { STREAM_TEAM_DROPOUT = 1000 };

PetscErrorCode cdn_team_train_epoch(cdn_net_t *net, const cdn_data_t *data, const cdn_images_t *set, cdn_rng_t *rng,
                                    uint64_t seed, int epoch, int batch_size, MPI_Comm team, double *mean_loss)
{
  PetscMPIInt tr, ts;
  int        *order, count, per;
  float      *param, *grad, *mom, *x;
  int        *y;
  double      sum = 0;
  cdn_rng_t   drop;
  const int   item = set->c * set->h * set->w;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_rank(team, &tr));
  PetscCallMPI(MPI_Comm_size(team, &ts));
  cdn_rng_seed(&drop, cdn_hash64(seed, (uint64_t)epoch * 4096 + tr), STREAM_TEAM_DROPOUT);
  cdn_net_params(net, &param, &grad, &mom, &count);
  per = (batch_size + ts - 1) / ts;
  PetscCall(PetscMalloc3(set->n + 1, &order, (size_t)per * item, &x, per, &y));
  for (int i = 0; i < set->n; i++) order[i] = i;
  cdn_rng_shuffle(rng, order, set->n);
  for (int s = 0; s < set->n; s += batch_size) {
    int    nb = set->n - s < batch_size ? set->n - s : batch_size;
    int    lo = (int)((long)nb * tr / ts), hi = (int)((long)nb * (tr + 1) / ts), n = hi - lo;
    double loss = 0, total;
    if (n > 0) {
      cdn_batch_fill(data, set, order + s + lo, n, x, y);
      loss = cdn_net_forward_backward(net, x, y, n, PETSC_TRUE, PETSC_TRUE, &drop, NULL) * n;
    }
    PetscCallMPI(MPI_Allreduce(&loss, &total, 1, MPI_DOUBLE, MPI_SUM, team));
    if (!isfinite(total)) { /* diverged on some member: every member stops here */
      sum = NAN;
      break;
    }
    /* the members' gradients are means over their slices: weight them into the batch mean */
    for (int i = 0; i < count; i++) grad[i] = n > 0 ? grad[i] * ((float)n / nb) : 0.0f;
    PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, grad, count, MPI_FLOAT, MPI_SUM, team));
    cdn_net_sgd_step(net);
    sum += total;
  }
  PetscCall(PetscFree3(order, x, y));
  *mean_loss = set->n ? sum / set->n : 0;
  PetscFunctionReturn(0);
}
