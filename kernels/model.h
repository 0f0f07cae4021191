/* The engine's model on one rank: this rank's shard of the weights (TP: heads and MLP width;
 * PP: its stage's layers, the embedding on the first stage, the LM head on the last), its paged
 * KV cache, and the forward pass of one scheduled step through cuBLAS and the kernels of ops.h:
 * TP all-reduces on the rank's TP communicator; with PP, the step's tokens in micro-batches,
 * each received from the previous stage and sent to the next on the rank's PP communicator. */
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
    float route_skew;           /* MoE: added to expert 0's router logit */
    int custom_allreduce;       /* TP all-reduces by custom_allreduce.h (NCCL above its size) */
    int cuda_graphs;            /* decode steps through CUDA graphs, one per batch-size bucket
                                 * (one stage, dense models; the rest runs eagerly) */
};

/* One step's input, host side: for each computed token its id, position, cache slot and
 * where its sequence's block table starts in `tables`; the rows whose next token is sampled. */
struct pt_step_input {
    uint32_t n_tokens, n_tables, n_samples;
    uint32_t n_micro;           /* PP micro-batches: the tokens in n_micro slices as even as they go */
    const int32_t *tokens, *pos, *slot, *table_at, *tables, *sample_rows;
};

/* Allocates and fills this rank's weights and cache on the current device. Returns NULL with
 * a message in err. */
struct pt_model *pt_model_new(const struct pt_model_config *cfg, const struct pt_layout *layout,
                              const struct pt_coords *at, const struct pt_model_opts *o,
                              ncclComm_t tp_comm, ncclComm_t pp_comm, ncclComm_t ep_comm, char *err, size_t errlen);
void pt_model_free(struct pt_model *m);
/* Runs one step (with EP, also of 0 tokens: the rank still serves its experts); on the last stage sampled[i] gets the greedy next token of sample row i and,
 * when logits is not NULL, those rows' logits (n_samples × vocab floats); other stages leave
 * both alone. Returns 0, -1 on a CUDA, cuBLAS or NCCL error (message in err). */
int pt_model_step(struct pt_model *m, const struct pt_step_input *in, int32_t *sampled, float *logits,
                  char *err, size_t errlen);
/* Sends n tokens to stage `to`, or receives n from stage `from`, of this rank's PP group (the
 * sampled tokens going round the pipeline). Return 0, -1 with a message. */
int pt_model_send_tokens(struct pt_model *m, const int32_t *tokens, uint32_t n, uint32_t to, char *err, size_t errlen);
int pt_model_recv_tokens(struct pt_model *m, int32_t *tokens, uint32_t n, uint32_t from, char *err, size_t errlen);
/* MoE with EP: token rows sent to each EP rank's experts over the run; NULL otherwise. */
const uint64_t *pt_model_ep_sent_rows(const struct pt_model *m);
/* GPU memory this rank holds for weights and cache, bytes. */
uint64_t pt_model_bytes(const struct pt_model *m);

#endif
