/* One rank of the engine serving its replica's share of the load: continuous batching
 * (scheduler.h) over this rank's model shard (model.h), every rank of a replica planning the
 * same steps from the same inputs. With PP the last stage's sampled tokens go round the
 * pipeline after each step (last → first → second → ...), on the PP communicator. The leader of
 * each replica (first stage, TP index 0) marks requests with NVTX ("req ID arrive", "req ID
 * token", "req ID prefix HIT PROMPT" for the prompt tokens its first step found in the prefix
 * cache) and steps with ranges "prefill" / "decode", as `partrace report` reads them, and writes
 * its requests' times to OUT/requests-DP.tsv. With EP the replicas step together (their experts
 * serve each other's tokens): a replica with nothing to do runs empty steps until all are done.
 * Open loop (--rate): the replica's leader decides which requests have arrived, and its TP
 * group and later stages follow it. */
#ifndef PT_ENGINE_H
#define PT_ENGINE_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#include "layout.h"
#include "loadgen.h"
#include "model.h"
#include "model_config.h"

struct pt_engine_opts {
    struct pt_model_config model;
    struct pt_layout layout;
    struct pt_load_config load;
    struct pt_model_opts run;
    uint32_t rank;
    const char *out_dir;       /* results and the NCCL id file */
    const char *dump_logits;   /* each replica's last stage (TP index 0): the logits of each
                                * request's first token go to DUMP.<dp index>; NULL: none */
    uint32_t micro_batches;    /* PP: micro-batches per step */
    int no_prefix_cache;
    int32_t straggle_rank;     /* -1: none */
    uint32_t straggle_us;
    int metrics_port;          /* > 0: each replica's leader serves /metrics on 127.0.0.1 at this
                                * port + its DP index (metrics_server.h); 0: none */
};

/* Runs the rank to the end of its load. Returns 0, or -1 with a message. */
int pt_engine_run(const struct pt_engine_opts *o, char *err, size_t errlen);
/* Reads OUT/requests-*.tsv of every replica and OUT/rank-*.mem of every rank: TTFT, TPOT,
 * throughput, KV hit rate and the most GPU memory a rank held, as one line on stdout, or as JSON
 * into json_out when it is not NULL. Never writes into OUT. Returns 0, -1 when no results are
 * there (or the JSON could not be written). */
int pt_engine_summarise(const char *out_dir, const char *label, FILE *json_out);

#endif
