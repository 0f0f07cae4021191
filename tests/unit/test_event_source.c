/* A file's reorder window (event_source.h) against a plain model of what it promises: frames are
 * read while fewer timed records are held than the window, and the earliest held record (time,
 * then read order) comes out next; one that comes out earlier than one before it is counted
 * late. The model follows the window's size as the source reports it after each event; the
 * sizes themselves are checked apart: PT_FIRST_WINDOW after the first records for records in
 * order, PT_REORDER_WINDOW throughout for a stream behind the others. The window keeps records in the frames they were unpacked to while they come
 * in order and copies the others into runs and a heap; the model is one heap. Files of 3.x
 * packed frames, with untimed records between the timed ones and some records larger than a
 * slot, in patterns: in order, interleaved streams, one stream behind by a fraction of the
 * window, random jitter, records late by more than the window, outliers far ahead, ties, more
 * streams than runs (the heap), and one record in every frame far ahead of the others (which would keep every frame unpacked were the
 * window's memory not bounded: it stays under WINDOW_BYTES_MAX). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#include <partrace/format.h>

#include "check.h"
#include "read/event_source.h"

#define MAX_RECORDS 640000
#define FRAME_RECORDS 4000 /* records per frame */
#define WINDOW_BYTES_MAX (48u << 20)
/* In order: PT_FIRST_WINDOW records and the frame read past it, about 130 bytes each (the
 * record, its place in the run, the arenas kept for reuse): 1.9 MB. The large window: 10 MB. */
#define SMALL_WINDOW_BYTES_MAX (4u << 20)

static char path[] = "/tmp/pt-unit-source-XXXXXX";

struct item {
    uint64_t ts;
    uint32_t seq; /* read order among timed records */
};

static size_t records; /* of the file being checked */
static uint64_t times[MAX_RECORDS];
static struct item heap[MAX_RECORDS], want[MAX_RECORDS];
static size_t windows[MAX_RECORDS]; /* the source's window after each event */
static size_t window_open;          /* and once opened (it reads ahead then) */
static struct item got[MAX_RECORDS];

static int before(const struct item *a, const struct item *b)
{
    return a->ts < b->ts || (a->ts == b->ts && a->seq < b->seq);
}

static void push(size_t *n, struct item it)
{
    size_t i = (*n)++;
    for (; i && before(&it, &heap[(i - 1) / 2]); i = (i - 1) / 2)
        heap[i] = heap[(i - 1) / 2];
    heap[i] = it;
}

static struct item pop(size_t *n)
{
    struct item top = heap[0], last = heap[--*n];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= *n)
            break;
        if (c + 1 < *n && before(&heap[c + 1], &heap[c]))
            c++;
        if (!before(&heap[c], &last))
            break;
        heap[i] = heap[c];
        i = c;
    }
    heap[i] = last;
    return top;
}

/* The window the source read to before event `out` (out < records): the one it had after that
 * event; before the first, also the one it opened with. */
static size_t window_for(size_t out)
{
    if (out)
        return windows[out];
    return windows[0] > window_open ? windows[0] : window_open;
}

/* The model: the order records come out in, and how many are late. */
static uint64_t model(void)
{
    size_t n = 0, read = 0, out = 0;
    uint64_t last = 0, late = 0;
    for (;;) {
        while (read < records && n < window_for(out)) /* a whole frame at a time */
            for (size_t end = read + FRAME_RECORDS; read < end && read < records; read++)
                push(&n, (struct item){times[read], (uint32_t)read});
        if (!n)
            break;
        CHECK(out < records);
        struct item it = pop(&n);
        if (it.ts < last)
            late++;
        else
            last = it.ts;
        want[out++] = it;
    }
    CHECK_EQ_U64(out, records);
    return late;
}

static char raw[FRAME_RECORDS * 2 * 256], packed[sizeof raw + PT_PACK_SLACK];
static char zbuf[ZSTD_COMPRESSBOUND(sizeof packed)];

/* Appends timed record i (a kernel, or every 97th an NVTX mark whose text makes it larger than
 * a slot) and, every 13th, an untimed string record. Returns the new length. */
static size_t put(size_t len, size_t i)
{
    if (i % 97 == 0) {
        struct pt_rec_nvtx m;
        memset(&m, 0, sizeof m);
        m.hdr = (struct pt_rec_hdr){PT_REC_NVTX, sizeof m + 200, 1};
        m.ts_ns = times[i], m.event = PT_NVTX_MARK, m.text_bytes = 200, m.range_id = i;
        memcpy(raw + len, &m, sizeof m);
        memset(raw + len + sizeof m, 'x', 200);
        len += sizeof m + 200;
    } else {
        struct pt_rec_kernel k;
        memset(&k, 0, sizeof k);
        k.hdr = (struct pt_rec_hdr){PT_REC_KERNEL, sizeof k, 1};
        k.start_ns = times[i], k.end_ns = times[i] + 5, k.correlation_id = (uint32_t)i;
        memcpy(raw + len, &k, sizeof k);
        len += sizeof k;
    }
    if (i % 13 == 0) {
        struct pt_rec_string s;
        memset(&s, 0, sizeof s);
        s.hdr = (struct pt_rec_hdr){PT_REC_STRING, sizeof s + 8, 1};
        s.id = (uint32_t)(i + 1), s.text_bytes = 4;
        memcpy(raw + len, &s, sizeof s);
        memcpy(raw + len + sizeof s, "name\0\0\0", 8);
        len += sizeof s + 8;
    }
    return len;
}

static void write_file(void)
{
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    struct pt_file_header h;
    pt_file_header_init(&h);
    CHECK(fwrite(&h, sizeof h, 1, f) == 1);
    for (size_t first = 0; first < records; first += FRAME_RECORDS) {
        size_t len = 0;
        for (size_t i = first; i < first + FRAME_RECORDS && i < records; i++)
            len = put(len, i);
        size_t n = pt_pack_records(raw, len, packed);
        CHECK(n > 0);
        size_t z = ZSTD_compress(zbuf, sizeof zbuf, packed, n, 1);
        CHECK(!ZSTD_isError(z) && fwrite(zbuf, 1, z, f) == z);
    }
    fclose(f);
}

/* Index of the record an event is: the kernel's correlation id, the mark's range id. */
static size_t index_of(const struct pt_rec_hdr *h)
{
    if (h->kind == PT_REC_KERNEL)
        return ((const struct pt_rec_kernel *)h)->correlation_id;
    CHECK(h->kind == PT_REC_NVTX);
    return (size_t)((const struct pt_rec_nvtx *)h)->range_id;
}

/* The next event, as the run takes them in turns: from the source's ready records where there
 * are some (two events of three), else through pt_source_next. Both must give the same events
 * and the same count of late ones. */
static size_t from_ready; /* events taken from the ready records */

static int next_event(struct pt_source *s, struct pt_event *ev, size_t n)
{
    struct pt_held_range *ready = pt_source_ready(s);
    if (n % 3 && ready->next < ready->end) {
        const struct pt_held *h = ready->next++;
        from_ready++;
        *ev = (struct pt_event){h->ts, 0, h->seq, h->rec};
        return 1;
    }
    return pt_source_next(s, ev);
}

static void check_pattern(int pattern)
{
    srand(11 + (unsigned)pattern);
    records = pattern == 7 ? MAX_RECORDS : 200000;
    for (size_t i = 0; i < records; i++) {
        uint64_t t = 100000000000 + 100 * (uint64_t)i; /* away from 0, untimed */
        switch (pattern) {
        case 1: t -= i % 4 == 3 ? 100 * 20000 : 0; break;             /* a stream behind */
        case 2: t += (uint64_t)(rand() % 500000); break;               /* jitter */
        case 3: t -= i % 5000 == 4999 ? 100 * 150000 : 0; break;       /* later than the window */
        case 4: t += i % 20011 == 7 ? 100 * 1000000 : 0; break;        /* outliers far ahead */
        case 5: t = 100000000000 + (uint64_t)(i / 3000) * 100; break;  /* ties */
        case 6: t = 100000000000 + (uint64_t)(i % 4) * 5000000 + 10 * i; break; /* 4 streams */
        case 7: t += i % FRAME_RECORDS == 1 ? 1000000000000 : 0; break; /* one a frame far ahead */
        case 8: t += (7 - i % 8) * 10000000; break; /* 8 streams, each behind the one before */
        }
        times[i] = t;
    }
    write_file();
    struct pt_source *s;
    char err[512];
    CHECK(pt_source_open(path, 0, &s, err, sizeof err) == 0);
    window_open = pt_source_window(s);
    struct pt_event ev;
    size_t n = 0;
    size_t most = 0, most_late_half = 0; /* the window's memory; in the last half of events */
    from_ready = 0;
    while (next_event(s, &ev, n)) {
        CHECK(n < records);
        size_t bytes = pt_source_window_bytes(s);
        most = bytes > most ? bytes : most;
        if (n >= records / 2)
            most_late_half = bytes > most_late_half ? bytes : most_late_half;
        windows[n] = pt_source_window(s);
        CHECK(windows[n] == PT_FIRST_WINDOW || windows[n] == PT_REORDER_WINDOW);
        got[n++] = (struct item){ev.ts_ns, (uint32_t)index_of(ev.rec)};
    }
    CHECK_EQ_U64(n, records);
    uint64_t late = model();
    for (size_t i = 0; i < n; i++) {
        if (got[i].seq != want[i].seq || got[i].ts != want[i].ts)
            fprintf(stderr, "pattern %d: event %zu is record %u at %llu, the model says %u at %llu\n",
                    pattern, i, got[i].seq, (unsigned long long)got[i].ts, want[i].seq,
                    (unsigned long long)want[i].ts);
        CHECK(got[i].seq == want[i].seq && got[i].ts == want[i].ts);
    }
    CHECK_EQ_U64(pt_source_late(s), late);
    CHECK(pattern != 0 || from_ready > records / 2); /* in order: mostly from the ready ones */
    if (most > WINDOW_BYTES_MAX)
        fprintf(stderr, "pattern %d: the window held %zu bytes\n", pattern, most);
    CHECK(most <= WINDOW_BYTES_MAX && most > 0);
    /* In order: the small window once the first PT_REORDER_WINDOW records are read, and its
     * memory once the large window's records are out. A stream 20 000 records behind: the large window
     * throughout, and nothing late. */
    CHECK(pattern != 0 || (windows[n - 1] == PT_FIRST_WINDOW && most_late_half <= SMALL_WINDOW_BYTES_MAX));
    CHECK(pattern != 1 || (windows[n - 1] == PT_REORDER_WINDOW && late == 0));
    CHECK(pattern != 0 || late == 0);
    CHECK(pattern != 3 || late > 0);
    pt_source_close(s);
}

int main(void)
{
    setenv("PARTRACE_READ_AHEAD", "0", 0);
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    close(fd);
    for (int pattern = 0; pattern < 9; pattern++)
        check_pattern(pattern);
    unlink(path);
    printf("event source: 9 patterns of 200000 to %d records come out as the window's model says "
           "(taken by the source or from its ready records), in at most %u MiB\n", MAX_RECORDS,
           WINDOW_BYTES_MAX >> 20);
    return 0;
}
