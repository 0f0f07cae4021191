/* The merge of a run's files (run_merge.h): every event of every file comes out once, in order
 * of time, equal times by file, and each file's events in its own order; whatever the number of
 * files (1 to 64) and however their times interleave: files taking turns, one file running
 * ahead, times that land anywhere among the other files', and many equal times. In turns
 * (pt_run_take_turns), the same, except that an event may come after events of other files up
 * to (not including) one turn later than it. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#include <partrace/format.h>

#include "check.h"
#include "read/run_merge.h"

#define MAX_FILES 64
#define MAX_EVENTS 3000

static char dir[] = "/tmp/pt-unit-merge-XXXXXX";

/* Writes a 1.x file of kernels starting at times[0..n) (in order), each tagged with its index. */
static void write_file(const char *path, const uint64_t *times, size_t n)
{
    static struct pt_rec_kernel recs[MAX_EVENTS];
    static char z[sizeof recs + 4096];
    memset(recs, 0, sizeof recs);
    for (size_t i = 0; i < n; i++) {
        recs[i].hdr = (struct pt_rec_hdr){PT_REC_KERNEL, sizeof recs[i], 1};
        recs[i].start_ns = times[i];
        recs[i].end_ns = times[i] + 1;
        recs[i].correlation_id = (uint32_t)i;
    }
    struct pt_file_header h;
    pt_file_header_init(&h);
    h.version_major = PT_VERSION_MAJOR_PLAIN;
    size_t zn = n ? ZSTD_compress(z, sizeof z, recs, n * sizeof recs[0], 1) : 0;
    CHECK(!ZSTD_isError(zn));
    FILE *f = fopen(path, "wb");
    CHECK(f && fwrite(&h, sizeof h, 1, f) == 1 && fwrite(z, 1, zn, f) == zn);
    fclose(f);
}

static void warn(const char *msg, void *arg)
{
    (void)arg;
    fprintf(stderr, "%s\n", msg);
    CHECK(0);
}

/* Pattern: 0 files take turns, 1 file 0 runs ahead of the rest, 2 random times, 3 few distinct
 * times (many ties). */
static uint64_t next_time(int pattern, int file, size_t i)
{
    switch (pattern) {
    case 0: return 1000 + 100 * (uint64_t)i + (uint64_t)file;
    case 1: return file == 0 ? 1000 + (uint64_t)i : 1000000 + 7 * (uint64_t)i;
    case 2: return 1000 + 50 * (uint64_t)i + (uint64_t)(rand() % 100000);
    default: return 1000 + (uint64_t)(i / 50) * 10;
    }
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void merge_case(int files, int pattern, uint64_t turn)
{
    static uint64_t times[MAX_EVENTS];
    char *paths[MAX_FILES];
    size_t count[MAX_FILES], total = 0;
    for (int f = 0; f < files; f++) {
        count[f] = (size_t)(rand() % MAX_EVENTS);
        for (size_t i = 0; i < count[f]; i++)
            times[i] = next_time(pattern, f, i);
        qsort(times, count[f], sizeof times[0], cmp_u64);
        CHECK(asprintf(&paths[f], "%s/f%02d.ptrace", dir, f) > 0);
        write_file(paths[f], times, count[f]);
        total += count[f];
    }
    struct pt_run run;
    CHECK(pt_run_open(paths, (size_t)files, NULL, &run, warn, NULL) == 0);
    CHECK_EQ_U64(run.n, (uint64_t)files);
    if (turn)
        pt_run_take_turns(&run, turn);
    struct pt_event ev;
    uint64_t last_ts = 0, seen = 0, most_ts = 0;
    uint32_t last_source = 0;
    int64_t next_index[MAX_FILES] = {0};
    while (pt_run_next(&run, &ev)) {
        CHECK(ev.source < (uint32_t)files);
        if (!turn)
            CHECK(ev.ts_ns > last_ts || (ev.ts_ns == last_ts && ev.source >= last_source));
        else
            CHECK(ev.ts_ns + turn > most_ts); /* behind the latest so far by less than a turn */
        most_ts = ev.ts_ns > most_ts ? ev.ts_ns : most_ts;
        const struct pt_rec_kernel *k = (const void *)ev.rec;
        CHECK_EQ_U64(k->correlation_id, (uint64_t)next_index[ev.source]);
        CHECK_EQ_U64(ev.seq, k->correlation_id); /* read order: every record has a time */
        next_index[ev.source]++;
        last_ts = ev.ts_ns, last_source = ev.source;
        seen++;
    }
    CHECK_EQ_U64(seen, total);
    for (int f = 0; f < files; f++)
        CHECK_EQ_U64((uint64_t)next_index[f], count[f]);
    pt_run_close(&run);
    for (int f = 0; f < files; f++) {
        unlink(paths[f]);
        free(paths[f]);
    }
}

int main(void)
{
    CHECK(mkdtemp(dir) != NULL);
    srand(5);
    static const int file_counts[] = {1, 2, 3, 8, 17, 64};
    for (size_t c = 0; c < sizeof file_counts / sizeof file_counts[0]; c++)
        for (int pattern = 0; pattern < 4; pattern++)
            for (int t = 0; t < 3; t++)
                merge_case(file_counts[c], pattern, (uint64_t[]){0, 1000, 200000}[t]);
    rmdir(dir);
    printf("run merge: 1 to 64 files in 4 patterns, every event once, in order (in turns of 1 and "
           "200 us: each file in order, at most a turn behind)\n");
    return 0;
}
