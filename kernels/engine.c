#include "engine.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cuda_runtime.h>
#include <nvtx3/nvToolsExt.h>

#include "comm.h"
#include "engine_error.h"
#include "metrics_server.h"
#include "scheduler.h"
#include "serving_stats.h"

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static void mark(int leader, uint32_t id, const char *what)
{
    if (!leader)
        return;
    char text[64];
    snprintf(text, sizeof text, "req %u %s", id, what);
    nvtxMarkA(text);
}

/* The step's input arrays, sized for the engine's limits. */
struct step_buf {
    int32_t *tokens, *pos, *slot, *table_at, *tables, *rows;
    struct pt_seq **sample_seq;
};

static void build_step(const struct pt_sched_batch *b, uint32_t bt, struct step_buf *s, struct pt_step_input *in)
{
    uint32_t t = 0, nt = 0, ns = 0;
    for (uint32_t i = 0; i < b->n_items; i++) {
        const struct pt_sched_item *it = &b->items[i];
        const struct pt_seq *q = it->seq;
        uint32_t at = nt;
        memcpy(s->tables + nt, q->table, q->n_blocks * sizeof *q->table);
        nt += q->n_blocks;
        for (uint32_t j = it->start; j < it->start + it->n; j++, t++) {
            s->tokens[t] = q->tokens[j];
            s->pos[t] = (int32_t)j;
            s->slot[t] = (int32_t)(q->table[j / bt] * bt + j % bt);
            s->table_at[t] = (int32_t)at;
        }
        if (it->sample) {
            s->rows[ns] = (int32_t)(t - 1);
            s->sample_seq[ns++] = it->seq;
        }
    }
    *in = (struct pt_step_input){t, nt, ns, 1, s->tokens, s->pos, s->slot, s->table_at, s->tables, s->rows};
}


/* With PP, after a step: the last stage's sampled tokens go round the pipeline, last → first →
 * second → ... → the one before the last, so that every stage plans the next step alike. */
static int pass_tokens(struct pt_model *m, const struct pt_coords *at, const struct pt_layout *l, int32_t *tokens,
                       uint32_t n, char *err, size_t errlen)
{
    uint32_t p = l->pp, s = at->stage;
    if (p == 1 || !n)
        return 0;
    if (s + 1 == p)
        return pt_model_send_tokens(m, tokens, n, 0, err, errlen);
    if (pt_model_recv_tokens(m, tokens, n, s == 0 ? p - 1 : s - 1, err, errlen))
        return -1;
    return s + 2 < p ? pt_model_send_tokens(m, tokens, n, s + 1, err, errlen) : 0;
}

struct request_state {
    struct pt_seq seq;
    struct pt_request_times t;
    double last_token_s;
    uint64_t tokens_hash;      /* FNV-1a over its output tokens: equal outputs, equal hashes */
};

/* The logits of each request's first sampled token (its prompt's last), as pt_engine
 * --dump-logits writes them: "PTLG", the vocabulary size, then (request id, vocab floats) per
 * request, in the order their prompts completed. */
static int dump_logits(FILE *f, struct pt_seq *const *seqs, uint32_t n, uint32_t vocab, const float *logits)
{
    int bad = 0;
    for (uint32_t i = 0; i < n && !bad; i++)
        if (((const struct request_state *)seqs[i])->t.out_tokens == 0) /* seq is the first member */
            bad = fwrite(&seqs[i]->id, 4, 1, f) != 1 || fwrite(logits + (size_t)i * vocab, 4, vocab, f) != vocab;
    return bad ? -1 : 0;
}

static FILE *result_file(const char *dir, const char *name, uint32_t dp)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s-%u.tsv", dir, name, dp);
    return fopen(path, "w");
}

/* OUT/requests-DP.tsv, each request's times, and OUT/tokens-DP.tsv, its output tokens as one
 * hash (to compare two runs' outputs). */
static int write_results(const char *dir, uint32_t dp, const struct request_state *r, uint32_t n)
{
    FILE *times = result_file(dir, "requests", dp), *tokens = result_file(dir, "tokens", dp);
    int bad = !times || !tokens;
    if (!bad) {
        fprintf(times, "id\tarrive_s\tfirst_s\tend_s\tout_tokens\tprompt_tokens\tcached_tokens\n");
        fprintf(tokens, "id\tout_tokens\ttokens_fnv1a\n");
    }
    for (uint32_t i = 0; i < n && !bad; i++) {
        fprintf(times, "%u\t%.9f\t%.9f\t%.9f\t%u\t%u\t%u\n", r[i].seq.id, r[i].t.arrive_s, r[i].t.first_s,
                r[i].t.end_s, r[i].t.out_tokens, r[i].t.prompt_tokens, r[i].t.cached_tokens);
        fprintf(tokens, "%u\t%u\t%016llx\n", r[i].seq.id, r[i].t.out_tokens, (unsigned long long)r[i].tokens_hash);
    }
    bad |= times && fclose(times) != 0;
    bad |= tokens && fclose(tokens) != 0;
    return bad ? -1 : 0;
}

int pt_engine_run(const struct pt_engine_opts *o, char *err, size_t errlen)
{
    struct pt_coords at;
    pt_layout_coords(&o->layout, &o->model, o->rank, &at);
    int leader = at.tp == 0 && at.stage == 0, last = at.stage + 1 == o->layout.pp;
    int dumper = at.tp == 0 && last && o->dump_logits;
    int devices = 0;
    if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0)
        return pt_engine_fail(err, errlen, "no CUDA device");
    const char *local = getenv("LOCAL_RANK");
    int dev = (local ? atoi(local) : (int)o->rank) % devices;
    cudaSetDevice(dev);
    char id_file[4096];
    snprintf(id_file, sizeof id_file, "%s/nccl-id", o->out_dir);
    struct pt_comms comms;
    if (pt_comms_init(&o->layout, o->rank, id_file, 120, &comms, err, errlen))
        return -1;
    struct pt_model_opts run = o->run;
    if (o->straggle_rank == (int32_t)o->rank && o->straggle_us) {
        int khz = 0;
        cudaDeviceGetAttribute(&khz, cudaDevAttrClockRate, dev);
        run.straggle_cycles = (uint64_t)o->straggle_us * (uint64_t)(khz > 0 ? khz : 1800000) / 1000;
    }
    struct pt_model *m = pt_model_new(&o->model, &o->layout, &at, &run, comms.tp, comms.pp, comms.ep, err, errlen);
    struct pt_kv_blocks *kv = pt_kv_new(run.kv_blocks, run.block_tokens);
    struct pt_sched_config sc = {run.max_seqs, run.max_batch_tokens, o->no_prefix_cache};
    struct pt_sched *sched = kv ? pt_sched_new(&sc, kv) : NULL;
    struct pt_request *req = pt_load_make(&o->load);
    uint32_t n_all = o->load.n_requests, dp = o->layout.dp, n_mine = 0;
    struct request_state *mine = calloc(n_all / dp + 1, sizeof *mine);
    uint32_t max_tables = run.max_seqs * (run.max_pos / run.block_tokens + 1), T = run.max_batch_tokens;
    struct step_buf sb = {malloc(T * 4), malloc(T * 4), malloc(T * 4), malloc(T * 4), malloc(max_tables * 4),
                          malloc(run.max_seqs * 4), malloc(run.max_seqs * sizeof(struct pt_seq *))};
    int32_t *sampled = malloc(run.max_seqs * 4);
    float *logits = dumper ? malloc((size_t)run.max_seqs * o->model.vocab * 4) : NULL;
    FILE *dump = NULL;
    int status = 0;
    int32_t *flag_dev = NULL, *count_dev = NULL; /* EP's "more to do" flag, open loop's arrivals */
    struct pt_metrics metrics_store, *metrics = NULL;
    if (dumper) {
        char path[4096];
        snprintf(path, sizeof path, "%s.%u", o->dump_logits, at.dp);
        uint32_t head[2] = {0x474c5450u /* "PTLG" */, o->model.vocab};
        if (!(dump = fopen(path, "wb")) || fwrite(head, sizeof head, 1, dump) != 1) {
            status = pt_engine_fail(err, errlen, "cannot write %s: %s", path, strerror(errno));
            goto out;
        }
    }
    if (!m || !sched || !req || !mine || !sb.tokens || !sb.pos || !sb.slot || !sb.table_at || !sb.tables ||
        !sb.rows || !sb.sample_seq || !sampled || (dumper && !logits)) {
        if (m)
            pt_engine_fail(err, errlen, "out of memory");
        status = -1;
        goto out;
    }
    for (uint32_t i = at.dp; i < n_all; i += dp)
        mine[n_mine++].seq.id = i;
    /* The endpoint is up before the warm-up, so that its first scrape sees every request. */
    if (o->metrics_port && leader) {
        if (pt_metrics_start(&metrics_store, o->metrics_port + (int)at.dp, o->model.name, err, errlen)) {
            status = -1;
            goto out;
        }
        metrics = &metrics_store;
    }
    /* One step of one token before the clock starts: CUDA loads the kernels, cuBLAS picks its
     * algorithms and NCCL connects at their first use, which would land on the first requests'
     * TTFT. Its KV goes to block 0, which any sequence overwrites before reading. */
    int32_t one = 1, zero = 0;
    struct pt_step_input warm = {1, 1, 1, 1, &one, &zero, &zero, &zero, &zero, &zero};
    nvtxRangePushA("warmup");
    int cold = pt_model_step(m, &warm, sampled, NULL, err, errlen) || pass_tokens(m, &at, &o->layout, sampled, 1, err, errlen);
    nvtxRangePop();
    if (cold) {
        status = -1;
        goto out;
    }
    uint32_t conc = o->load.concurrency ? (o->load.concurrency + dp - 1) / dp : 0;
    uint32_t next = 0, in_flight = 0, done = 0;
    uint64_t steps = 0;
    double t0 = now_s();
    struct pt_sched_batch b;
    if ((comms.ep && cudaMalloc((void **)&flag_dev, 4) != cudaSuccess) ||
        (!conc && cudaMalloc((void **)&count_dev, 4) != cudaSuccess)) {
        status = pt_engine_fail(err, errlen, "out of GPU memory");
        goto out;
    }
    while (comms.ep || done < n_mine) {
        /* Admit what has arrived: closed loop, up to the concurrency; open loop, by the clock of
         * the replica's leader: its TP group gets the count by broadcast, the later stages
         * along the pipeline. */
        uint32_t arrived = next;
        if (conc) {
            arrived = next + (conc - in_flight < n_mine - next ? conc - in_flight : n_mine - next);
        } else {
            double t = now_s() - t0;
            while (arrived < n_mine && req[mine[arrived].seq.id].arrive_s <= t)
                arrived++;
            int32_t count = (int32_t)arrived;
            if (o->layout.tp > 1 && at.stage == 0 &&
                (cudaMemcpy(count_dev, &count, 4, cudaMemcpyHostToDevice) != cudaSuccess ||
                 ncclBroadcast(count_dev, count_dev, 1, ncclInt32, 0, comms.tp, 0) != ncclSuccess ||
                 cudaMemcpy(&count, count_dev, 4, cudaMemcpyDeviceToHost) != cudaSuccess)) {
                status = pt_engine_fail(err, errlen, "sharing the arrivals in the TP group failed");
                break;
            }
            if (o->layout.pp > 1 &&
                ((at.stage > 0 && pt_model_recv_tokens(m, &count, 1, at.stage - 1, err, errlen)) ||
                 (at.stage + 1 < o->layout.pp && pt_model_send_tokens(m, &count, 1, at.stage + 1, err, errlen)))) {
                status = -1;
                break;
            }
            arrived = (uint32_t)count;
        }
        for (; next < arrived; next++) {
            struct request_state *r = &mine[next];
            const struct pt_request *q = &req[r->seq.id];
            uint32_t id = r->seq.id;
            if (pt_seq_init(&r->seq, id, q->prompt, q->n_prompt, q->max_new) || pt_sched_add(sched, &r->seq)) {
                status = pt_engine_fail(err, errlen, "request %u (%u + %u tokens) does not fit the KV cache of %u blocks",
                              id, q->n_prompt, q->max_new, run.kv_blocks);
                goto out;
            }
            r->t.arrive_s = conc ? now_s() - t0 : q->arrive_s;
            r->t.prompt_tokens = q->n_prompt;
            in_flight++;
            mark(leader, id, "arrive");
            if (metrics)
                pt_metrics_arrive(metrics);
        }
        uint32_t planned = pt_sched_step(sched, &b);
        if (comms.ep) { /* EP: go on while any replica has requests left */
            int32_t more = done < n_mine;
            if (cudaMemcpy(flag_dev, &more, 4, cudaMemcpyHostToDevice) != cudaSuccess ||
                ncclAllReduce(flag_dev, flag_dev, 1, ncclInt32, ncclMax, comms.ep, 0) != ncclSuccess ||
                cudaMemcpy(&more, flag_dev, 4, cudaMemcpyDeviceToHost) != cudaSuccess) {
                status = pt_engine_fail(err, errlen, "agreeing on the end with the EP group failed");
                break;
            }
            if (!more)
                break;
        }
        if (!planned && !comms.ep) {
            if (!conc && next < n_mine) { /* idle until the next arrival */
                double wait = req[mine[next].seq.id].arrive_s - (now_s() - t0);
                if (wait > 0) {
                    struct timespec nap = {(time_t)wait, (long)((wait - (time_t)wait) * 1e9)};
                    nanosleep(&nap, NULL);
                }
                continue;
            }
            status = pt_engine_fail(err, errlen, "the scheduler stalled with %u requests in flight", in_flight);
            break;
        }
        struct pt_step_input in;
        build_step(&b, run.block_tokens, &sb, &in);
        in.n_micro = o->micro_batches;
        nvtxRangePushA(b.prefill_tokens ? "prefill" : "decode");
        int bad = pt_model_step(m, &in, sampled, logits, err, errlen) ||
                  pass_tokens(m, &at, &o->layout, sampled, in.n_samples, err, errlen);
        nvtxRangePop();
        if (bad) {
            status = -1;
            break;
        }
        double t = now_s() - t0;
        if (dump && dump_logits(dump, sb.sample_seq, in.n_samples, o->model.vocab, logits)) {
            status = pt_engine_fail(err, errlen, "cannot write the logits to %s.%u: %s", o->dump_logits, at.dp, strerror(errno));
            break;
        }
        for (uint32_t i = 0; i < in.n_samples; i++) {
            struct request_state *r = (struct request_state *)sb.sample_seq[i]; /* seq is the first member */
            if (!r->t.out_tokens)
                r->tokens_hash = 1469598103934665603ull;
            for (int byte = 0; byte < 4; byte++)
                r->tokens_hash = (r->tokens_hash ^ (((uint32_t)sampled[i] >> (8 * byte)) & 0xff)) * 1099511628211ull;
            if (!r->t.out_tokens++) {
                r->t.first_s = t;
                r->t.cached_tokens = r->seq.cached_tokens;
                char what[48];
                snprintf(what, sizeof what, "prefix %u %u", r->t.cached_tokens, r->t.prompt_tokens);
                mark(leader, r->seq.id, what);
                if (metrics)
                    pt_metrics_first_token(metrics, t - r->t.arrive_s, r->t.prompt_tokens, r->t.cached_tokens);
            } else if (metrics) {
                pt_metrics_token(metrics, t - r->last_token_s);
            }
            r->last_token_s = t;
            mark(leader, r->seq.id, "token");
        }
        pt_sched_finish_step(sched, &b, sampled);
        steps++;
        struct pt_seq *finished[64];
        uint32_t k;
        while ((k = pt_sched_take_done(sched, finished, 64)) > 0)
            for (uint32_t i = 0; i < k; i++) {
                struct request_state *r = (struct request_state *)finished[i];
                r->t.end_s = t;
                in_flight--;
                done++;
                if (metrics)
                    pt_metrics_finish(metrics, t - r->t.arrive_s);
            }
        if (metrics) {
            struct pt_kv_stats ks = pt_kv_stats(kv);
            pt_metrics_kv_usage(metrics, 1.0 - (double)ks.free_blocks / run.kv_blocks);
        }
    }
    if (!status) { /* this rank's GPU memory, for the summary */
        char path[4096];
        snprintf(path, sizeof path, "%s/rank-%u.mem", o->out_dir, o->rank);
        FILE *f = fopen(path, "w");
        if (!f || fprintf(f, "%llu\n", (unsigned long long)pt_model_bytes(m)) < 0 || fclose(f) != 0)
            status = pt_engine_fail(err, errlen, "cannot write %s", path);
    }
    if (!status && leader && at.stage == 0) {
        if (write_results(o->out_dir, at.dp, mine, n_mine))
            status = pt_engine_fail(err, errlen, "cannot write %s/requests-%u.tsv or tokens-%u.tsv", o->out_dir, at.dp,
                                    at.dp);
        struct pt_kv_stats ks = pt_kv_stats(kv);
        fprintf(stderr, "pt_engine: replica %u: %u requests in %llu steps, %llu preemptions, GPU memory %.2f GiB, "
                        "prefix cache %llu of %llu blocks\n",
                at.dp, n_mine, (unsigned long long)steps, (unsigned long long)pt_sched_preemptions(sched),
                pt_model_bytes(m) / 1073741824.0, (unsigned long long)ks.hit_blocks,
                (unsigned long long)ks.lookup_blocks);
        const uint64_t *sent = pt_model_ep_sent_rows(m);
        for (uint32_t r = 0; sent && r < o->layout.ep; r++)
            fprintf(stderr, "pt_engine: replica %u: %llu token rows sent to EP rank %u's experts\n", at.dp,
                    (unsigned long long)sent[r], r);
    }
    if (metrics) { /* up a little longer, so that a scraper's last scrape sees the end */
        struct timespec linger = {1, 500000000L};
        nanosleep(&linger, NULL);
    }
out:
    if (metrics)
        pt_metrics_stop(metrics);
    cudaFree(flag_dev);
    cudaFree(count_dev);
    for (uint32_t i = 0; i < n_mine; i++)
        pt_seq_free(&mine[i].seq);
    free(mine);
    free(sb.tokens), free(sb.pos), free(sb.slot), free(sb.table_at), free(sb.tables), free(sb.rows);
    free(sb.sample_seq);
    free(sampled);
    free(logits);
    if (dump && fclose(dump) != 0 && !status)
        status = pt_engine_fail(err, errlen, "cannot write the logits to %s.%u", o->dump_logits, at.dp);
    pt_load_free(req, n_all);
    pt_sched_free(sched);
    pt_kv_free(kv);
    pt_model_free(m);
    pt_comms_free(&comms);
    return status;
}
