/* pt_engine: the reference inference engine's command.
 *   pt_engine [--nproc N] [options]      N processes, one per GPU (the engine's own launcher);
 *                                        without --nproc, one rank from RANK / WORLD_SIZE (torchrun)
 *   pt_engine summarise OUT_DIR [--json] the serving results of a finished run (nothing written)
 * Options: --model NAME (tiny) --layout tp=..,pp=..,dp=..,ep=.. --requests N --input L
 * --output L --concurrency C | --rate R --shared-prefix F --seed S --kv-blocks N
 * --block-tokens B --max-seqs N --max-batch-tokens N --micro-batches M (PP; default pp)
 * --out DIR --dump-logits PREFIX (.DP added) --straggle RANK:US --route-skew S (MoE: added to
 * expert 0's router logit) --prefix-cache on|off --metrics-port P (each replica's leader serves
 * /metrics under vLLM's names on 127.0.0.1:P+DP index) --cuda-graphs on|off (decode steps
 * replayed from CUDA graphs, one per batch-size bucket; default on) --allreduce nccl|custom (TP
 * all-reduces by NCCL, or by the engine's own over CUDA IPC: custom_allreduce.h) */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine.h"

static int usage(const char *why)
{
    fprintf(stderr, "pt_engine: %s\nusage: pt_engine [--nproc N] [--model %s] [--layout tp=N,pp=N,dp=N,ep=N]\n"
                    "       [--requests N] [--input L] [--output L] [--concurrency C | --rate R] [--shared-prefix F]\n"
                    "       [--seed S] [--kv-blocks N] [--block-tokens B] [--max-seqs N] [--max-batch-tokens N]\n"
                    "       [--micro-batches M] [--out DIR] [--dump-logits PREFIX] [--straggle RANK:US] [--route-skew S]\n"
                    "       [--prefix-cache on|off] [--metrics-port P] [--cuda-graphs on|off]\n"
                    "       [--allreduce nccl|custom]\n"
                    "       pt_engine summarise OUT_DIR [--json]\n",
            why, pt_model_presets());
    return 2;
}

/* A whole number from min to max; anything else ends the command with a message (exit 2). */
static long number(const char *opt, const char *v, long min, long max)
{
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno || end == v || *end || n < min || n > max) {
        fprintf(stderr, "pt_engine: %s takes a whole number from %ld to %ld, not '%s'\n", opt, min, max, v);
        exit(2);
    }
    return n;
}

/* A number from min to max, as number() does. */
static double real(const char *opt, const char *v, double min, double max)
{
    char *end;
    double x = strtod(v, &end);
    if (end == v || *end || !(x >= min && x <= max)) {
        fprintf(stderr, "pt_engine: %s takes a number from %g to %g, not '%s'\n", opt, min, max, v);
        exit(2);
    }
    return x;
}

/* One of two words: 0 for `first`, 1 for `second`; anything else ends the command as number()
 * does. */
static int either(const char *opt, const char *v, const char *first, const char *second)
{
    if (strcmp(v, first) && strcmp(v, second)) {
        fprintf(stderr, "pt_engine: %s takes %s or %s, not '%s'\n", opt, first, second, v);
        exit(2);
    }
    return !strcmp(v, second);
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "summarise") == 0) { /* reads a run's results, writes nothing there */
        int json = argc == 4 && !strcmp(argv[3], "--json");
        if (argc != 3 && !json)
            return fprintf(stderr, "usage: pt_engine summarise OUT_DIR [--json]\n"), 2;
        return pt_engine_summarise(argv[2], argv[2], json ? stdout : NULL) ? 1 : 0;
    }
    struct pt_engine_opts o = {.straggle_rank = -1, .run.cuda_graphs = 1};
    pt_model_preset("tiny", &o.model);
    o.layout = (struct pt_layout){1, 1, 1, 1};
    o.load = (struct pt_load_config){.n_requests = 64, .input_len = 128, .output_len = 32, .concurrency = 8, .seed = 1};
    o.run = (struct pt_model_opts){.kv_blocks = 4096, .block_tokens = 16, .max_batch_tokens = 2048, .max_seqs = 64};
    o.out_dir = "pt-engine-out";
    long nproc = 0, seed = -1;
    const char *layout = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v || strncmp(a, "--", 2) != 0)
            return usage(strncmp(a, "--", 2) ? "options start with --" : "an option is missing its value");
        i++;
        if (!strcmp(a, "--nproc"))
            nproc = number(a, v, 1, 64);
        else if (!strcmp(a, "--model")) {
            if (pt_model_preset(v, &o.model)) {
                fprintf(stderr, "pt_engine: unknown model '%s' (presets: %s)\n", v, pt_model_presets());
                return 2;
            }
        } else if (!strcmp(a, "--layout"))
            layout = v;
        else if (!strcmp(a, "--requests"))
            o.load.n_requests = (uint32_t)number(a, v, 1, 1000000);
        else if (!strcmp(a, "--input"))
            o.load.input_len = (uint32_t)number(a, v, 1, 8192);
        else if (!strcmp(a, "--output"))
            o.load.output_len = (uint32_t)number(a, v, 1, 8192);
        else if (!strcmp(a, "--concurrency"))
            o.load.concurrency = (uint32_t)number(a, v, 1, 100000), o.load.rate_per_s = 0;
        else if (!strcmp(a, "--rate"))
            o.load.rate_per_s = real(a, v, 1e-6, 1e6), o.load.concurrency = 0;
        else if (!strcmp(a, "--shared-prefix"))
            o.load.shared_prefix = real(a, v, 0, 1);
        else if (!strcmp(a, "--seed"))
            seed = number(a, v, 0, 1L << 40);
        else if (!strcmp(a, "--kv-blocks"))
            o.run.kv_blocks = (uint32_t)number(a, v, 1, 1 << 24);
        else if (!strcmp(a, "--block-tokens"))
            o.run.block_tokens = (uint32_t)number(a, v, 1, 1024);
        else if (!strcmp(a, "--max-seqs"))
            o.run.max_seqs = (uint32_t)number(a, v, 1, 4096);
        else if (!strcmp(a, "--max-batch-tokens"))
            o.run.max_batch_tokens = (uint32_t)number(a, v, 1, 1 << 20);
        else if (!strcmp(a, "--prefix-cache"))
            o.no_prefix_cache = either(a, v, "on", "off");
        else if (!strcmp(a, "--cuda-graphs"))
            o.run.cuda_graphs = !either(a, v, "on", "off");
        else if (!strcmp(a, "--allreduce"))
            o.run.custom_allreduce = either(a, v, "nccl", "custom");
        else if (!strcmp(a, "--route-skew"))
            o.run.route_skew = (float)real(a, v, 0, 100);
        else if (!strcmp(a, "--micro-batches"))
            o.micro_batches = (uint32_t)number(a, v, 1, 1024);
        else if (!strcmp(a, "--out"))
            o.out_dir = v;
        else if (!strcmp(a, "--dump-logits"))
            o.dump_logits = v;
        else if (!strcmp(a, "--metrics-port"))
            o.metrics_port = (int)number(a, v, 1, 65535);
        else if (!strcmp(a, "--straggle")) {
            char *colon = strchr(v, ':');
            long r = colon ? strtol(v, NULL, 10) : -1, us = colon ? strtol(colon + 1, NULL, 10) : -1;
            if (r < 0 || us <= 0 || us > 1000000) {
                fprintf(stderr, "pt_engine: --straggle takes RANK:MICROSECONDS, not '%s'\n", v);
                return 2;
            }
            o.straggle_rank = (int32_t)r, o.straggle_us = (uint32_t)us;
        } else {
            fprintf(stderr, "pt_engine: unknown option '%s'\n", a);
            return usage("see the options above");
        }
    }
    if (seed >= 0) /* after the loop: --model sets the preset's seed */
        o.load.seed = o.model.seed = (uint64_t)seed;
    char err[1024];
    if (layout && pt_layout_parse(layout, &o.layout, err, sizeof err))
        return fprintf(stderr, "pt_engine: %s\n", err), 2;
    o.load.vocab = o.model.vocab;
    const char *why = pt_load_check(&o.load);
    if (why)
        return fprintf(stderr, "pt_engine: %s\n", why), 2;
    o.run.max_pos = o.load.input_len + o.load.output_len;
    if (o.run.max_pos > 8192)
        return fprintf(stderr, "pt_engine: input + output is %u tokens; the engine's attention takes 8192 at most\n",
                       o.run.max_pos), 2;
    if (!o.micro_batches)
        o.micro_batches = o.layout.pp;
    const char *rank_env = getenv("RANK"), *world_env = getenv("WORLD_SIZE");
    uint32_t world = nproc ? (uint32_t)nproc : world_env ? (uint32_t)atoi(world_env) : 1;
    if (pt_layout_check(&o.layout, world, &o.model, err, sizeof err))
        return fprintf(stderr, "pt_engine: %s\n", err), 2;
    if (mkdir(o.out_dir, 0755) != 0 && errno != EEXIST)
        return fprintf(stderr, "pt_engine: cannot make %s: %s\n", o.out_dir, strerror(errno)), 1;
    if (!nproc) {
        o.rank = rank_env ? (uint32_t)atoi(rank_env) : 0;
        if (pt_engine_run(&o, err, sizeof err))
            return fprintf(stderr, "pt_engine: rank %u: %s\n", o.rank, err), 1;
        return 0;
    }
    /* The launcher: one child per rank; CUDA is first touched in the children. */
    char id_file[4096];
    snprintf(id_file, sizeof id_file, "%s/nccl-id", o.out_dir);
    unlink(id_file);
    pid_t *kids = calloc((size_t)nproc, sizeof *kids);
    for (long r = 0; kids && r < nproc; r++) {
        if ((kids[r] = fork()) == 0) {
            char buf[32];
            snprintf(buf, sizeof buf, "%ld", r);
            setenv("RANK", buf, 1), setenv("LOCAL_RANK", buf, 1);
            snprintf(buf, sizeof buf, "%ld", nproc);
            setenv("WORLD_SIZE", buf, 1);
            o.rank = (uint32_t)r;
            if (pt_engine_run(&o, err, sizeof err)) {
                fprintf(stderr, "pt_engine: rank %ld: %s\n", r, err);
                _exit(1);
            }
            exit(0);
        }
    }
    int failed = !kids;
    for (long r = 0; kids && r < nproc; r++) {
        int st = 0;
        if (kids[r] > 0 && waitpid(kids[r], &st, 0) == kids[r] && WIFEXITED(st) && WEXITSTATUS(st) == 0)
            continue;
        failed = 1;
    }
    free(kids);
    if (failed)
        return fprintf(stderr, "pt_engine: a rank failed\n"), 1;
    char label[256];
    snprintf(label, sizeof label, "%s tp=%u pp=%u dp=%u ep=%u", o.model.name, o.layout.tp, o.layout.pp, o.layout.dp,
             o.layout.ep);
    if (pt_engine_summarise(o.out_dir, label, NULL)) /* the line, then the run's own summary.json */
        return 1;
    char path[4096];
    snprintf(path, sizeof path, "%s/summary.json", o.out_dir);
    FILE *f = fopen(path, "w");
    int bad = !f || pt_engine_summarise(o.out_dir, label, f) != 0;
    if (f)
        bad |= fclose(f) != 0;
    if (bad)
        fprintf(stderr, "pt_engine: cannot write %s\n", path);
    return bad ? 1 : 0;
}
