/* The engine's model on one rank: this rank's shard of the weights (TP: heads and MLP width;
 * its stage's layers), its paged KV cache, and the forward pass of one scheduled step through
 * cuBLAS and the kernels of ops.h, with the TP all-reduces on the rank's TP communicator. */
#ifndef PT_MODEL_H
#define PT_MODEL_H

#include <stdint.h>

#include <nccl.h>

#include "layout.h"
#include "model_config.h"

struct pt_model;

struct pt_model_opts {
    uint32_t kv_blocks, block_tokens;
    uint32_t max_batch_tokens, max_seqs, max_pos;
    uint64_t straggle_cycles;   /* a GPU delay before each TP all-reduce (0: none) */
};

/* One step's input, host side: for each computed token its id, position, cache slot and
 * where its sequence's block table starts in `tables`; the rows whose next token is sampled. */
struct pt_step_input {
    uint32_t n_tokens, n_tables, n_samples;
    const int32_t *tokens, *pos, *slot, *table_at, *tables, *sample_rows;
};

/* Allocates and fills this rank's weights and cache on the current device. Returns NULL with
 * a message in err. */
struct pt_model *pt_model_new(const struct pt_model_config *cfg, const struct pt_layout *layout,
                              const struct pt_coords *at, const struct pt_model_opts *o,
                              ncclComm_t tp_comm, char *err, size_t errlen);
void pt_model_free(struct pt_model *m);
/* Runs one step; sampled[i] gets the greedy next token of sample row i. When logits is not
 * NULL it gets those rows' logits (n_samples × vocab floats). Returns 0, -1 on a CUDA, cuBLAS
 * or NCCL error (message in err). */
int pt_model_step(struct pt_model *m, const struct pt_step_input *in, int32_t *sampled, float *logits,
                  char *err, size_t errlen);
/* GPU memory this rank holds for weights and cache, bytes. */
uint64_t pt_model_bytes(const struct pt_model *m);

#endif
