/* Continuous batching (host side): which tokens of which sequences the next forward step
 * computes. Each step takes every running sequence's next token (decode) or next prompt chunk,
 * then admits waiting sequences while the step's token budget and the KV blocks last, reusing
 * cached prompt prefixes (kv_blocks.h). When blocks run out, the most recently admitted
 * sequence is preempted: its blocks go back and it is recomputed later from its tokens.
 * Single-threaded; sequences are owned by the caller and must outlive their time here. */
#ifndef PT_SCHEDULER_H
#define PT_SCHEDULER_H

#include <stdint.h>

#include "kv_blocks.h"

enum pt_seq_state { PT_SEQ_NEW, PT_SEQ_WAITING, PT_SEQ_RUNNING, PT_SEQ_DONE };

struct pt_seq {
    uint32_t id;
    int32_t *tokens;            /* prompt, then generated tokens */
    uint32_t n_tokens, cap_tokens, n_prompt, max_new;
    uint32_t n_computed;        /* tokens whose keys and values are in the cache */
    uint32_t *table;            /* KV blocks, in token order */
    uint32_t n_blocks, cap_blocks;
    uint64_t named_hash;        /* chain hash after the last named block */
    uint32_t n_named;           /* full blocks named for prefix caching */
    uint32_t cached_tokens;     /* prompt tokens found in the prefix cache when last admitted */
    uint32_t preemptions;
    enum pt_seq_state state;
};

/* A sequence of prompt tokens[0, n_prompt) that will generate max_new tokens (at least 1).
 * Returns 0, -1 when out of memory. */
int pt_seq_init(struct pt_seq *s, uint32_t id, const int32_t *prompt, uint32_t n_prompt, uint32_t max_new);
void pt_seq_free(struct pt_seq *s);

/* One sequence's share of a step: compute tokens [start, start + n); sample: the step yields
 * its next token (the prompt is complete after it, or it is a decode). */
struct pt_sched_item {
    struct pt_seq *seq;
    uint32_t start, n;
    int sample;
};

struct pt_sched_batch {
    struct pt_sched_item *items; /* owned by the scheduler, valid until the next step */
    uint32_t n_items, n_tokens, n_sample;
    uint32_t prefill_tokens, decode_tokens;
};

struct pt_sched_config {
    uint32_t max_seqs;          /* running at once */
    uint32_t max_batch_tokens;  /* tokens computed in one step */
    int no_prefix_cache;        /* never reuse cached prompt blocks */
};

struct pt_sched;

struct pt_sched *pt_sched_new(const struct pt_sched_config *cfg, struct pt_kv_blocks *kv);
void pt_sched_free(struct pt_sched *s);
/* Queues a sequence (state NEW). Returns 0, -1 when it can never run (longer than the whole
 * cache) or out of memory. */
int pt_sched_add(struct pt_sched *s, struct pt_seq *seq);
/* Plans the next step. Returns its token count (0: nothing to do). */
uint32_t pt_sched_step(struct pt_sched *s, struct pt_sched_batch *out);
/* Applies a step's results: sampled[i] is the token of the i-th item with sample set.
 * Sequences that reached max_new become DONE, their blocks released. */
void pt_sched_finish_step(struct pt_sched *s, const struct pt_sched_batch *b, const int32_t *sampled);
/* Sequences done since the last call (at most max; returns how many). */
uint32_t pt_sched_take_done(struct pt_sched *s, struct pt_seq **out, uint32_t max);
uint32_t pt_sched_running(const struct pt_sched *s);
uint32_t pt_sched_waiting(const struct pt_sched *s);
uint64_t pt_sched_preemptions(const struct pt_sched *s);

#endif
