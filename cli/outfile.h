/* SPDX-License-Identifier: MIT */
/*
 * outfile.h - output files written atomically: the bytes go to a new
 * file in the output's directory, which is flushed, synced and then
 * moved into place in one step, so that the output is either absent (or
 * its old self) or complete. On Linux the new file has no name until it
 * is complete (O_TMPFILE, named through /proc/self/fd), so even kill -9
 * leaves nothing; elsewhere it is ".nn-<pid>-<n>.tmp" beside the output,
 * removed on failure and when SIGINT or SIGTERM ends the command. Without
 * force an existing output is never replaced, even one that appears while
 * the command runs (the file is linked into place, and link refuses to
 * replace).
 */
#ifndef CLI_OUTFILE_H
#define CLI_OUTFILE_H

#include <stdio.h>

#include "err.h"
#include "nn.h"

typedef struct cli_out {
    char *path;   /* the output */
    char *tmp;    /* the temporary file beside it */
    FILE *f;
    int force;
} cli_out;

/* Fails early when path exists and force is 0, or its directory cannot
 * take a new file. */
cli_status cli_out_check(const char *opt, const char *path, int force,
                         cli_err *e);

/* Starts writing path; write to out->f. */
cli_status cli_out_open(cli_out *out, const char *path, int force,
                        cli_err *e);
/* Flushes, syncs and moves the file into place. */
cli_status cli_out_commit(cli_out *out, cli_err *e);
/* Drops the temporary file. NULL or a closed out is fine. */
void cli_out_abort(cli_out *out);

/* Writes the size bytes at buf to path through cli_out, refusing to
 * replace an existing file unless force. */
cli_status cli_out_write_bytes(const void *buf, size_t size,
                               const char *path, int force, cli_err *e);

/* Saves a model (what: NN_SAVE_MODEL or NN_SAVE_CHECKPOINT) to path
 * through cli_out (nn_model_save_buffer, then the atomic writer above),
 * refusing to replace an existing file unless force. */
cli_status cli_out_save_model(const nn_model *m, const char *path,
                              nn_save_what what, int force, cli_err *e);

/* A libnn call that writes a whole file at path atomically itself (a
 * temporary file of its own, renamed onto path), such as
 * nn_model_export_c, which has no variant writing to memory. */
typedef cli_status (*cli_file_writer)(const char *path, void *ctx,
                                      cli_err *e);

/* Writes path through writer, which replaces the temporary file of
 * cli_out_open with its own (synced) file; that then moves into place as
 * cli_out_commit moves it, refusing to replace an existing file unless
 * force. While writer runs, the first SIGINT or SIGTERM is held over
 * until it returns (a second ends the command at once), so that its
 * temporary file is not left behind. */
cli_status cli_out_write_file(const char *path, int force,
                              cli_file_writer writer, void *ctx,
                              cli_err *e);

/* SIGINT and SIGTERM: while training (cli_signals_train(1)) the first
 * sets cli_signal_caught and training stops after the step in progress;
 * otherwise, or at the second, temporary files are removed and the
 * signal ends the process as it would have. */
void cli_signals_install(void);
void cli_signals_train(int on);
extern volatile int cli_signal_caught;

#endif /* CLI_OUTFILE_H */
