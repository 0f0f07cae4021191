#include "scheduler.h"

#include <stdlib.h>
#include <string.h>

struct pt_sched {
    struct pt_sched_config cfg;
    struct pt_kv_blocks *kv;
    struct pt_seq **running;     /* admission order, cfg.max_seqs */
    uint32_t n_running;
    struct pt_seq **waiting;     /* a ring: the front is served first */
    uint32_t wait_head, n_waiting, cap_waiting;
    struct pt_seq **done;
    uint32_t n_done, cap_done;
    struct pt_sched_item *items;
    uint64_t preemptions;
};

int pt_seq_init(struct pt_seq *s, uint32_t id, const int32_t *prompt, uint32_t n_prompt, uint32_t max_new)
{
    memset(s, 0, sizeof *s);
    if (!n_prompt || !max_new)
        return -1;
    s->id = id;
    s->cap_tokens = n_prompt + max_new;
    s->tokens = malloc(s->cap_tokens * sizeof *s->tokens);
    if (!s->tokens)
        return -1;
    memcpy(s->tokens, prompt, n_prompt * sizeof *prompt);
    s->n_tokens = s->n_prompt = n_prompt;
    s->max_new = max_new;
    return 0;
}

void pt_seq_free(struct pt_seq *s)
{
    free(s->tokens);
    free(s->table);
    memset(s, 0, sizeof *s);
}

struct pt_sched *pt_sched_new(const struct pt_sched_config *cfg, struct pt_kv_blocks *kv)
{
    if (!cfg->max_seqs || !cfg->max_batch_tokens)
        return NULL;
    struct pt_sched *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->cfg = *cfg;
    s->kv = kv;
    s->running = calloc(cfg->max_seqs, sizeof *s->running);
    s->items = calloc(cfg->max_seqs, sizeof *s->items);
    if (!s->running || !s->items) {
        pt_sched_free(s);
        return NULL;
    }
    return s;
}

void pt_sched_free(struct pt_sched *s)
{
    if (!s)
        return;
    free(s->running);
    free(s->waiting);
    free(s->done);
    free(s->items);
    free(s);
}

static int grow(void *pp, uint32_t *cap, size_t elem, uint32_t need)
{
    if (need <= *cap)
        return 0;
    uint32_t n = *cap ? *cap : 16;
    while (n < need)
        n *= 2;
    void *p = realloc(*(void **)pp, (size_t)n * elem);
    if (!p)
        return -1;
    *(void **)pp = p;
    *cap = n;
    return 0;
}

/* Puts a sequence at the back (new) or the front (preempted) of the waiting ring. */
static int enqueue(struct pt_sched *s, struct pt_seq *seq, int front)
{
    if (s->n_waiting == s->cap_waiting) {
        uint32_t cap = s->cap_waiting ? 2 * s->cap_waiting : 16;
        struct pt_seq **w = malloc(cap * sizeof *w);
        if (!w)
            return -1;
        for (uint32_t i = 0; i < s->n_waiting; i++)
            w[i] = s->waiting[(s->wait_head + i) % s->cap_waiting];
        free(s->waiting);
        s->waiting = w, s->cap_waiting = cap, s->wait_head = 0;
    }
    if (front) {
        s->wait_head = (s->wait_head + s->cap_waiting - 1) % s->cap_waiting;
        s->waiting[s->wait_head] = seq;
    } else {
        s->waiting[(s->wait_head + s->n_waiting) % s->cap_waiting] = seq;
    }
    s->n_waiting++;
    seq->state = PT_SEQ_WAITING;
    return 0;
}

int pt_sched_add(struct pt_sched *s, struct pt_seq *seq)
{
    uint32_t bt = pt_kv_block_tokens(s->kv);
    if (((uint64_t)seq->n_prompt + seq->max_new + bt - 1) / bt > pt_kv_n_blocks(s->kv))
        return -1; /* longer than the whole cache: it could never finish */
    return enqueue(s, seq, 0);
}

/* Gives back a sequence's blocks; it will be recomputed from its tokens. */
static void drop_cache(struct pt_sched *s, struct pt_seq *seq)
{
    pt_kv_release(s->kv, seq->table, seq->n_blocks);
    seq->n_blocks = 0;
    seq->n_computed = 0;
    seq->n_named = 0;
    seq->named_hash = 0;
}

/* Makes seq hold enough blocks for its first `tokens` tokens. Returns 0, -1 when the cache
 * has no free block (those taken so far stay with the sequence). */
static int cover(struct pt_sched *s, struct pt_seq *seq, uint32_t tokens)
{
    uint32_t bt = pt_kv_block_tokens(s->kv), need = (tokens + bt - 1) / bt;
    if (grow(&seq->table, &seq->cap_blocks, sizeof *seq->table, need))
        return -1;
    while (seq->n_blocks < need)
        if (pt_kv_take(s->kv, &seq->table[seq->n_blocks]) == 0)
            seq->n_blocks++;
        else
            return -1;
    return 0;
}

/* Preempts the most recently admitted running sequence (it has not been planned in this step:
 * the running are planned oldest first). Returns it. */
static struct pt_seq *preempt_newest(struct pt_sched *s)
{
    struct pt_seq *victim = s->running[--s->n_running];
    drop_cache(s, victim);
    victim->preemptions++;
    s->preemptions++;
    if (enqueue(s, victim, 1)) /* out of memory: it cannot wait; it ends as it is */
        victim->state = PT_SEQ_DONE;
    return victim;
}

uint32_t pt_sched_step(struct pt_sched *s, struct pt_sched_batch *out)
{
    memset(out, 0, sizeof *out);
    out->items = s->items;
    uint32_t budget = s->cfg.max_batch_tokens;
    /* Running sequences first, oldest first: their next token or prompt chunk. */
    for (uint32_t i = 0; i < s->n_running && budget; i++) {
        struct pt_seq *seq = s->running[i];
        uint32_t n = seq->n_tokens - seq->n_computed;
        if (n > budget)
            n = budget;
        int preempted_self = 0;
        while (!preempted_self && cover(s, seq, seq->n_computed + n) != 0)
            preempted_self = preempt_newest(s) == seq;
        if (preempted_self) /* it was the newest: nothing after it runs this step */
            break;
        s->items[out->n_items++] = (struct pt_sched_item){seq, seq->n_computed, n,
                                                          seq->n_computed + n == seq->n_tokens};
        budget -= n;
    }
    /* Then waiting sequences, in order, while there is room. */
    while (s->n_waiting && budget && s->n_running < s->cfg.max_seqs) {
        struct pt_seq *seq = s->waiting[s->wait_head];
        if (grow(&seq->table, &seq->cap_blocks, sizeof *seq->table, seq->n_tokens / pt_kv_block_tokens(s->kv) + 1))
            break;
        uint32_t hit = s->cfg.no_prefix_cache ? (seq->named_hash = 0)
                                              : pt_kv_match_prefix(s->kv, seq->tokens, seq->n_tokens, seq->table, &seq->named_hash);
        seq->n_blocks = seq->n_named = hit;
        seq->n_computed = seq->cached_tokens = hit * pt_kv_block_tokens(s->kv);
        uint32_t n = seq->n_tokens - seq->n_computed;
        if (n > budget)
            n = budget;
        if (cover(s, seq, seq->n_computed + n) != 0) {
            drop_cache(s, seq); /* no room now: it stays first in line */
            seq->cached_tokens = 0;
            break;
        }
        s->wait_head = (s->wait_head + 1) % s->cap_waiting;
        s->n_waiting--;
        seq->state = PT_SEQ_RUNNING;
        s->running[s->n_running++] = seq;
        s->items[out->n_items++] = (struct pt_sched_item){seq, seq->n_computed, n,
                                                          seq->n_computed + n == seq->n_tokens};
        budget -= n;
    }
    for (uint32_t i = 0; i < out->n_items; i++) {
        const struct pt_sched_item *it = &out->items[i];
        out->n_tokens += it->n;
        out->n_sample += it->sample;
        if (it->start >= it->seq->n_prompt)
            out->decode_tokens += it->n;
        else
            out->prefill_tokens += it->n;
    }
    return out->n_tokens;
}

/* Names the blocks that the step filled, for prefix caching. */
static void name_full_blocks(struct pt_sched *s, struct pt_seq *seq)
{
    uint32_t bt = pt_kv_block_tokens(s->kv);
    while ((seq->n_named + 1) * bt <= seq->n_computed && seq->n_named < seq->n_blocks) {
        seq->named_hash = pt_kv_chain_hash(seq->named_hash, seq->tokens + (size_t)seq->n_named * bt, bt);
        pt_kv_name(s->kv, seq->table[seq->n_named], seq->named_hash);
        seq->n_named++;
    }
}

void pt_sched_finish_step(struct pt_sched *s, const struct pt_sched_batch *b, const int32_t *sampled)
{
    uint32_t k = 0;
    for (uint32_t i = 0; i < b->n_items; i++) {
        struct pt_seq *seq = b->items[i].seq;
        seq->n_computed = b->items[i].start + b->items[i].n;
        name_full_blocks(s, seq);
        if (!b->items[i].sample)
            continue;
        seq->tokens[seq->n_tokens++] = sampled[k++];
        if (seq->n_tokens - seq->n_prompt < seq->max_new)
            continue;
        pt_kv_release(s->kv, seq->table, seq->n_blocks);
        seq->n_blocks = 0;
        seq->state = PT_SEQ_DONE;
        for (uint32_t r = 0; r < s->n_running; r++)
            if (s->running[r] == seq) {
                memmove(&s->running[r], &s->running[r + 1], (s->n_running - r - 1) * sizeof *s->running);
                s->n_running--;
                break;
            }
        if (grow(&s->done, &s->cap_done, sizeof *s->done, s->n_done + 1) == 0)
            s->done[s->n_done++] = seq;
    }
}

uint32_t pt_sched_take_done(struct pt_sched *s, struct pt_seq **out, uint32_t max)
{
    uint32_t n = s->n_done < max ? s->n_done : max;
    if (!n)
        return 0;
    memcpy(out, s->done, n * sizeof *out);
    memmove(s->done, s->done + n, (s->n_done - n) * sizeof *s->done);
    s->n_done -= n;
    return n;
}

uint32_t pt_sched_running(const struct pt_sched *s) { return s->n_running; }
uint32_t pt_sched_waiting(const struct pt_sched *s) { return s->n_waiting; }
uint64_t pt_sched_preemptions(const struct pt_sched *s) { return s->preemptions; }
