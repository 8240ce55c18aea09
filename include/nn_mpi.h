/* SPDX-License-Identifier: MIT */
/*
 * nn_mpi.h - libnn_mpi, data-parallel training of libnn models on MPI.
 *
 * This header is the whole public API of libnn_mpi (-lnn_mpi, pkg-config
 * nn-mpi, CMake nn::nn_mpi) and its manual. It is a separate, optional
 * library built on libnn's public API alone (nn.h, "Data parallelism");
 * libnn itself knows nothing of MPI.
 *
 * ------------------------------------------------------------------------
 * Overview
 * ------------------------------------------------------------------------
 * The processes (ranks) of an MPI communicator train one model together,
 * the way PyTorch's DistributedDataParallel does: every rank holds the
 * whole model, trains on its share of each global batch, the gradients are
 * summed by an all-reduce, and every rank takes the same step. The result
 * does not depend on the number of processes P: with P = 1 it is the
 * single-process nn_model_fit bit for bit, and with P > 1 it differs only
 * by the order of the sums (float rounding).
 *
 *     MPI_Init(&argc, &argv);
 *     nn_mpi *ctx;
 *     nn_mpi_create(&ctx, MPI_COMM_WORLD);      (every rank)
 *     if (nn_mpi_rank(ctx) == 0) build or load the model; others: m = NULL
 *     nn_mpi_broadcast_model(ctx, &m);          (now all hold rank 0's)
 *     nn_data_create_labels(&train, ...);       (every rank, all rows)
 *     nn_mpi_fit(ctx, m, train, val, on_epoch, NULL, NULL);
 *     nn_mpi_save(ctx, m, "model.nn", NN_SAVE_CHECKPOINT);  (rank 0 writes)
 *     nn_model_free(m); nn_mpi_free(ctx); MPI_Finalize();
 *
 * A fit gives every rank the whole dataset (a view: the rows can be a
 * shared or memory-mapped file); each epoch, every rank draws the same
 * seeded permutation and trains on rows [k r / P, k (r+1) / P) of each
 * global batch of k rows, so the run visits exactly the batches one
 * process would. nn_mpi_train_batch is the step for programs that feed
 * their own batches: each rank gives its local rows.
 *
 * ------------------------------------------------------------------------
 * Conventions (in addition to nn.h's)
 * ------------------------------------------------------------------------
 * Collective. Every function taking an nn_mpi * except nn_mpi_rank,
 *           nn_mpi_size and nn_mpi_get_stat is collective: every rank of
 *           the context's communicator must call it, in the same order,
 *           with the same kind of arguments (the same model shape, the
 *           same dataset sizes). It returns the same status on every
 *           rank: a failure on one rank (a bad argument, an allocation, a
 *           file) is made known to all of them before anything changes,
 *           so no rank is left waiting and each can take the same branch.
 * Messages. After a failure, nn_mpi_last_error() returns a sentence that
 *           names the function, the rank where the failure happened, and
 *           the numbers involved (or MPI's error string). It is kept per
 *           thread; libnn_mpi does not set libnn's nn_last_error().
 * Statuses. libnn's nn_status. NN_E_REDUCE means an MPI call failed; the
 *           message carries MPI_Error_string's text. MPI errors never
 *           abort: the context works on a duplicate of the communicator
 *           whose error handler is MPI_ERRORS_RETURN.
 * Threads.  MPI must be initialised (MPI_Init or MPI_Init_thread) before
 *           nn_mpi_create and finalised after nn_mpi_free. A context is
 *           used by one thread at a time; distinct contexts (distinct
 *           communicators) may be used by distinct threads only if MPI was
 *           initialised with MPI_THREAD_MULTIPLE. The models given to a
 *           context's calls follow nn.h's rules.
 * Memory.   libnn_mpi allocates through its own replaceable allocator
 *           (nn_mpi_set_allocator), as libnn does through its own.
 * ABI.      MPI_Comm is the MPI library's type: libnn_mpi is bound to the
 *           MPI it was built with (Debian's Open MPI), as every MPI
 *           program is. The rest follows nn.h: no varargs, no structs by
 *           value, opaque handles, enums with explicit values.
 */
#ifndef NN_MPI_H
#define NN_MPI_H

#include <mpi.h>

#include "nn.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Symbols are hidden by default; NN_MPI_API marks the exported ones. */
#ifndef NN_MPI_API
#  if defined(__GNUC__) && __GNUC__ >= 4
#    define NN_MPI_API __attribute__((visibility("default")))
#  else
#    define NN_MPI_API
#  endif
#endif

/* A data-parallel context: a duplicate of an MPI communicator, this
 * rank's place in it, and the state of its reductions. Opaque. */
typedef struct nn_mpi nn_mpi;

/* The version of the loaded libnn_mpi, as NN_VERSION_NUMBER computes it
 * (libnn_mpi is versioned with the libnn it comes with). Thread-safe. */
NN_MPI_API unsigned nn_mpi_version_number(void);

/* The message of the most recent failed libnn_mpi call made by the
 * calling thread; "" if none. Owned by the library, valid until the next
 * libnn_mpi call in the same thread. Thread-safe. */
NN_MPI_API const char *nn_mpi_last_error(void);

/* Replaces libnn_mpi's allocator (its own: libnn's is set with
 * nn_set_allocator), with nn_set_allocator's rules: call it while no
 * context exists; NULL for both restores malloc and free.
 * Returns NN_OK, NN_E_NULL (exactly one of the functions NULL). */
NN_MPI_API NN_NODISCARD nn_status nn_mpi_set_allocator(nn_malloc_fn alloc_fn,
                                                       nn_free_fn free_fn,
                                                       void *ctx);

/* Creates a context on comm (collective over comm): duplicates it
 * (MPI_Comm_dup), so libnn_mpi's messages never mix with the caller's,
 * and sets MPI_ERRORS_RETURN on the duplicate. On success *out is the new
 * context, owned by the caller and released with nn_mpi_free; on failure
 * *out is NULL. Allocates the context: 33 KB and 16 bytes per rank (the
 * reductions' scratch, so that they never allocate).
 * Returns NN_OK, NN_E_NULL (out), NN_E_INVALID (comm is MPI_COMM_NULL or
 * an intercommunicator), NN_E_STATE (MPI is not initialised, or already
 * finalised), NN_E_NOMEM, NN_E_REDUCE (an MPI call failed). */
NN_MPI_API NN_NODISCARD nn_status nn_mpi_create(nn_mpi **out, MPI_Comm comm);

/* Releases a context and frees its duplicate communicator (collective,
 * as MPI_Comm_free is). NULL is a no-op. */
NN_MPI_API void nn_mpi_free(nn_mpi *ctx);

/* This rank and the number of ranks of the context's communicator; 0 for
 * a NULL context. Thread-safe, not collective. */
NN_MPI_API size_t nn_mpi_rank(const nn_mpi *ctx);
NN_MPI_API size_t nn_mpi_size(const nn_mpi *ctx);

/* ------------------------------------------------------------------------
 * Making the ranks' models one
 * ------------------------------------------------------------------------ */

/* Gives every rank rank 0's model: its architecture, settings, class
 * weights, metadata, parameters, layer buffers, optimizer state, step
 * count, generator and any interrupted run (all a checkpoint holds, see
 * nn.h's "Model files"). On rank 0, *model must be a model, and is left
 * as it is. On the other ranks *model may be NULL or a model: on success
 * it is replaced by a new model (the old one is freed, so any pointer
 * into it is invalid), owned by the caller; on failure it is left as it
 * was on every rank. Rank 0 writes a checkpoint into memory and
 * broadcasts it (in pieces of at most 1 GiB); the others load it.
 * Allocates the checkpoint's size on every rank, plus the new model.
 * Returns NN_OK, NN_E_NULL (model; *model on rank 0), NN_E_NONFINITE (rank
 * 0's model holds a value that is not finite), NN_E_NOMEM, NN_E_OVERFLOW,
 * NN_E_FORMAT (the bytes did not load: a transport fault), NN_E_REDUCE. */
NN_MPI_API NN_NODISCARD nn_status nn_mpi_broadcast_model(nn_mpi *ctx,
                                                         nn_model **model);

/* Checks that every rank's model is rank 0's and that every rank runs the
 * same libnn: the same libnn and libnn_mpi versions, input width, layers
 * (kind, width, activation, every layer setting), loss, optimizer,
 * schedule, every setting (nn_param), class weights, and the same bytes
 * of a checkpoint (parameters, layer buffers, optimizer state, step count,
 * generator, interrupted run, metadata). On a difference every rank gets
 * NN_E_STATE and the same message, naming the first difference found,
 * the lowest rank that has it and both values, for example
 * "nn_mpi_check_models: rank 2 differs from rank 0: layer 1's width is 64
 * there, 32 on rank 0". nn_mpi_fit, nn_mpi_fit_resume and
 * nn_mpi_evaluate run this check first; nn_mpi_train_batch does not (it
 * is called per step): call it once before the first step. Allocates a
 * checkpoint's size for the time of the call.
 * Returns NN_OK, NN_E_NULL (model on any rank), NN_E_STATE (a
 * difference), NN_E_NONFINITE (as nn_model_save_buffer), NN_E_NOMEM,
 * NN_E_OVERFLOW, NN_E_REDUCE. */
NN_MPI_API NN_NODISCARD nn_status nn_mpi_check_models(nn_mpi *ctx,
                                                      const nn_model *model);

/* ------------------------------------------------------------------------
 * Training and evaluation
 *
 * Each of these sets the model's reducers (nn_model_set_reducer,
 * nn_model_set_replica with this rank and the communicator's size) for
 * the time of the call and removes them before returning, whatever the
 * outcome; with one rank it sets nothing, so the call is the plain libnn
 * call, bit for bit. The gradients are summed in place by one
 * MPI_Allreduce over the flat gradient buffer after the backward pass
 * (src/mpi/nn_mpi.c says why not layer by layer as they are formed),
 * followed by a check that every rank got the same bits (see
 * NN_MPI_STAT_REPAIRS); libnn's small sums (losses, flags, batch
 * statistics) are gathered and added in rank order, the same on every
 * rank by construction.
 * ------------------------------------------------------------------------ */

/* One data-parallel training step: each rank gives its own n rows (x, n x
 * x_width; t, n x t_width), the global batch is the ranks' rows in rank
 * order, and every rank takes the step one process would take on that
 * global batch, as nn_model_train_batch does (optimizer, schedule,
 * clipping, dropout masks of each row's place in the global batch, batch
 * normalization over the global batch). The gradient of the global mean
 * loss is what is summed, so uneven shares are weighted right. A rank
 * may have no rows (n 0; x and t may then be NULL); the global batch may
 * not be empty. *loss (if loss is not NULL) receives the global batch's
 * loss on every rank. A step whose loss or summed gradient is not finite
 * on any rank is refused on every rank (NN_E_NONFINITE) and changes no
 * model. Allocates as nn_model_train_batch does, and nothing of its own.
 * Returns NN_OK, NN_E_NULL, NN_E_INVALID (no rows on any rank; n 1 in
 * all with batch normalization; a label out of range), NN_E_SHAPE,
 * NN_E_STATE, NN_E_OVERFLOW, NN_E_NOMEM, NN_E_NONFINITE, NN_E_REDUCE: any
 * of them from any rank, on every rank. */
NN_MPI_API NN_NODISCARD nn_status nn_mpi_train_batch(
    nn_mpi *ctx, nn_model *model, size_t n, const float *x, size_t x_width,
    const float *t, size_t t_width, double *loss);

/* As nn_mpi_train_batch with n class labels per rank (as
 * nn_model_train_batch_labels). */
NN_MPI_API NN_NODISCARD nn_status nn_mpi_train_batch_labels(
    nn_mpi *ctx, nn_model *model, size_t n, const float *x, size_t x_width,
    const int32_t *labels, double *loss);

/* nn_model_fit over the ranks: every rank gives the same datasets (every
 * row) and its copy of one model (nn_mpi_broadcast_model), and runs the
 * epochs and global batches one process would, each rank training on its
 * share of every batch (see the Overview). Losses, validation, early
 * stopping and the callbacks' values are the same on every rank; the
 * callbacks run on every rank, and a stop or interruption asked for by
 * any rank's callback stops or interrupts all of them at the same step.
 * An interrupted run is the same on every rank: nn_mpi_save writes its
 * checkpoint, and nn_mpi_fit_resume (or nn_model_fit_resume, alone)
 * continues it with any number of processes. Checks the models first
 * (nn_mpi_check_models). Allocates as nn_model_fit does, plus that
 * check's checkpoint for the time of the check.
 * Returns as nn_model_fit and nn_mpi_check_models, the same on every
 * rank. */
NN_MPI_API NN_NODISCARD nn_status nn_mpi_fit(nn_mpi *ctx, nn_model *model,
                                             const nn_data *train,
                                             const nn_data *val,
                                             nn_epoch_fn on_epoch,
                                             nn_batch_fn on_batch,
                                             void *user);

/* nn_model_fit_resume over the ranks, as nn_mpi_fit. The interrupted run
 * may have been made with another number of processes. */
NN_MPI_API NN_NODISCARD nn_status nn_mpi_fit_resume(
    nn_mpi *ctx, nn_model *model, const nn_data *train, const nn_data *val,
    nn_epoch_fn on_epoch, nn_batch_fn on_batch, void *user);

/* nn_model_evaluate over the ranks: every rank gives the whole dataset,
 * evaluates its share of the rows, and every rank receives the whole
 * set's loss and accuracy. The model is not changed (its reducers are set
 * for the call, hence the non-const pointer). Checks the models first.
 * Returns as nn_model_evaluate and nn_mpi_check_models. */
NN_MPI_API NN_NODISCARD nn_status nn_mpi_evaluate(nn_mpi *ctx,
                                                  nn_model *model,
                                                  const nn_data *data,
                                                  double *loss,
                                                  double *accuracy);

/* ------------------------------------------------------------------------
 * Files
 * ------------------------------------------------------------------------ */

/* Rank 0 saves its model to path with nn_model_save (atomically: a crash
 * leaves the old file or the new one, never a mix); the others wait for
 * the outcome, so that when the call returns NN_OK on any rank the file
 * is complete. Every rank passes its model (only rank 0's is written and
 * read; the others' may be NULL) and path (only rank 0's is used).
 * Returns rank 0's status on every rank: as nn_model_save. */
NN_MPI_API NN_NODISCARD nn_status nn_mpi_save(nn_mpi *ctx,
                                              const nn_model *model,
                                              const char *path,
                                              nn_save_what what);

/* Rank 0 loads the model file at path (nn_model_load) and every rank
 * receives the model (as nn_mpi_broadcast_model): only rank 0 needs to
 * see the file. On success *out is the new model on every rank; on
 * failure NULL on every rank. The file may have been written with any
 * number of processes. Returns as nn_model_load and
 * nn_mpi_broadcast_model, the same on every rank. */
NN_MPI_API NN_NODISCARD nn_status nn_mpi_load(nn_mpi *ctx, const char *path,
                                              nn_model **out);

/* ------------------------------------------------------------------------
 * Statistics
 * ------------------------------------------------------------------------ */
typedef enum nn_mpi_stat {
    /* Gradient all-reduces done (one per step with P > 1). */
    NN_MPI_STAT_GRAD_REDUCES = 1,
    /* Bytes of gradients this rank gave to them (4 per parameter). */
    NN_MPI_STAT_GRAD_BYTES = 2,
    /* Wall seconds this rank spent in them, checks included. */
    NN_MPI_STAT_GRAD_SECONDS = 3,
    /* Reductions of libnn's double sums (losses, batch statistics,
     * flags) and seconds spent in them. */
    NN_MPI_STAT_SUM_REDUCES = 4,
    NN_MPI_STAT_SUM_SECONDS = 5,
    /* Reductions whose result was not the same bits on every rank, and
     * was replaced by rank 0's (a broadcast). 0 on Open MPI, whose
     * all-reduce algorithms give every rank the same bits; MPI does not
     * promise that, libnn needs it, so every reduction is checked. */
    NN_MPI_STAT_REPAIRS = 6
} nn_mpi_stat;

/* *value receives this rank's count of key since the context was created
 * or nn_mpi_reset_stats. Not collective. Returns NN_OK, NN_E_NULL (ctx,
 * value), NN_E_INVALID (key). */
NN_MPI_API NN_NODISCARD nn_status nn_mpi_get_stat(const nn_mpi *ctx,
                                                  nn_mpi_stat key,
                                                  double *value);
/* Sets every statistic of this rank to 0. Not collective. NULL is a
 * no-op. */
NN_MPI_API void nn_mpi_reset_stats(nn_mpi *ctx);

#ifdef __cplusplus
}
#endif

#endif /* NN_MPI_H */
