/* The reader against files written here by hand (not by the preload), in both formats it reads
 * (1.x plain frames, 2.x packed frames): records of unknown kinds are skipped, damaged records
 * and frames stop reading with a message, and no mutation of a valid file makes it crash or
 * read out of bounds (run under ASan in CI). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#include <partrace/format.h>

#include "check.h"
#include "read/trace_reader.h"

static char path[] = "/tmp/pt-unit-reader-XXXXXX";
static unsigned packed_frames; /* files are written in this packed format's major (2, 3), or 1.x */

static size_t frame(char *dst, size_t cap, const void *src, size_t n)
{
    static char packed[(1 << 20) + PT_PACK_SLACK];
    if (packed_frames) {
        CHECK(n <= 1 << 20);
        n = pt_pack_records_as(src, n, packed, packed_frames);
        CHECK(n > 0);
        src = packed;
    }
    size_t z = ZSTD_compress(dst, cap, src, n, 3);
    CHECK(!ZSTD_isError(z));
    return z;
}

static void header_init(struct pt_file_header *h)
{
    pt_file_header_init(h);
    h->version_major = (uint16_t)(packed_frames ? packed_frames : PT_VERSION_MAJOR_PLAIN);
}

/* A file with: header, frame 1 (NCCL call, a record of a future kind 30), frame 2 (end). */
static size_t build(char *file, size_t cap)
{
    struct pt_file_header h;
    header_init(&h);
    h.version_minor = PT_VERSION_MINOR + 3; /* a newer minor still reads */
    h.pid = 42;
    strcpy(h.host, "node7");
    memcpy(file, &h, sizeof h);
    size_t len = sizeof h;
    char raw[512];
    struct pt_rec_nccl_call c;
    memset(&c, 0, sizeof c);
    c.hdr.kind = PT_REC_NCCL_CALL;
    c.hdr.size = sizeof c;
    c.op = PT_OP_AllReduce;
    c.bytes = 4096;
    struct {
        struct pt_rec_hdr hdr;
        uint64_t payload[3];
    } future = {{30, 32, 0}, {1, 2, 3}};
    memcpy(raw, &c, sizeof c);
    memcpy(raw + sizeof c, &future, sizeof future);
    len += frame(file + len, cap - len, raw, sizeof c + sizeof future);
    struct pt_rec_end e;
    memset(&e, 0, sizeof e);
    e.hdr.kind = PT_REC_END;
    e.hdr.size = sizeof e;
    e.how = PT_END_EXIT;
    len += frame(file + len, cap - len, &e, sizeof e);
    return len;
}

static void write_file(const char *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    CHECK(f && fwrite(data, 1, n, f) == n);
    fclose(f);
}

/* Reads the whole file; returns records read. */
static uint64_t read_all(int expect_open)
{
    struct pt_reader *r;
    char err[512];
    int rc = pt_reader_open(path, &r, err, sizeof err);
    if (expect_open >= 0)
        CHECK((rc == 0) == expect_open);
    if (rc != 0) {
        CHECK(strlen(err) > 0);
        return 0;
    }
    const struct pt_rec_hdr *h;
    uint64_t n = 0;
    while (pt_reader_next(r, &h) == 1) {
        CHECK(h->size >= sizeof *h);
        n++;
    }
    pt_reader_close(r);
    return n;
}

/* Reads the whole file frame by frame: the same records, counts and warning as record by
 * record (read_all). Returns records read. */
static uint64_t read_all_frames(void)
{
    struct pt_reader *r, *by_record;
    char err[512];
    if (pt_reader_open(path, &r, err, sizeof err) != 0)
        return 0;
    CHECK(pt_reader_open(path, &by_record, err, sizeof err) == 0);
    struct pt_records recs = {0};
    uint64_t n = 0;
    while (pt_reader_next_frame(r, &recs) == 1)
        for (size_t pos = 0; pos < recs.len;) {
            const struct pt_rec_hdr *h = (const void *)(recs.data + pos), *e;
            CHECK(h->size >= sizeof *h && h->size <= recs.len - pos);
            pos += h->size;
            if (!pt_rec_min_size(h->kind))
                continue;
            CHECK(pt_reader_next(by_record, &e) == 1);
            CHECK(e->size == h->size && memcmp(e, h, h->size) == 0);
            n++;
        }
    const struct pt_rec_hdr *e;
    CHECK(pt_reader_next(by_record, &e) == 0);
    const struct pt_reader_stats *a = pt_reader_stats(r), *b = pt_reader_stats(by_record);
    CHECK_EQ_U64(a->records, b->records);
    CHECK_EQ_U64(a->unknown_records, b->unknown_records);
    CHECK_EQ_U64(a->frames, b->frames);
    CHECK((pt_reader_warning(r) == NULL) == (pt_reader_warning(by_record) == NULL));
    free(recs.data);
    pt_reader_close(r);
    pt_reader_close(by_record);
    return n;
}

/* A file of `frames` frames of 100 NCCL call records each, their seq counting from 0; ends[f]
 * is the file offset just past frame f. */
static size_t build_many(char *file, size_t cap, int frames, size_t *ends)
{
    struct pt_file_header h;
    header_init(&h);
    memcpy(file, &h, sizeof h);
    size_t len = sizeof h;
    static struct pt_rec_nccl_call raw[100];
    uint64_t seq = 0;
    for (int f = 0; f < frames; f++) {
        for (int i = 0; i < 100; i++) {
            memset(&raw[i], 0, sizeof raw[i]);
            raw[i].hdr.kind = PT_REC_NCCL_CALL;
            raw[i].hdr.size = sizeof raw[i];
            raw[i].seq = seq++;
        }
        len += frame(file + len, cap - len, raw, sizeof raw);
        ends[f] = len;
    }
    return len;
}

/* Readers read side by side while frames are decoded ahead of them (PARTRACE_READ_AHEAD=1 here;
 * by default for files of 1 MiB or more with more than one core): each sees every record in
 * order; readers closed half-way (their next frame queued or being decoded) and a file cut
 * inside a frame behave as without. */
static void test_side_by_side(char *file, size_t cap)
{
    enum { READERS = 8, FRAMES = 60 };
    size_t ends[FRAMES];
    size_t len = build_many(file, cap, FRAMES, ends);
    write_file(file, len);
    struct pt_reader *r[READERS];
    uint64_t next[READERS] = {0};
    char err[512];
    for (int i = 0; i < READERS; i++)
        CHECK(pt_reader_open(path, &r[i], err, sizeof err) == 0);
    for (int round = 0, open = READERS; open; round++) {
        for (int i = 0; i < READERS; i++) {
            const struct pt_rec_hdr *h;
            if (!r[i])
                continue;
            if (i % 2 && round == 1000 + 37 * i) { /* odd ones leave half-way */
                pt_reader_close(r[i]);
                r[i] = NULL, open--;
                continue;
            }
            if (pt_reader_next(r[i], &h) != 1) {
                CHECK_EQ_U64(next[i], FRAMES * 100);
                CHECK_EQ_U64(pt_reader_stats(r[i])->frames, FRAMES);
                CHECK(pt_reader_warning(r[i]) == NULL);
                pt_reader_close(r[i]);
                r[i] = NULL, open--;
                continue;
            }
            CHECK_EQ_U64(((const struct pt_rec_nccl_call *)h)->seq, next[i]);
            next[i]++;
        }
    }
    /* Cut inside frame 31: 30 whole frames read, then the message says so. */
    write_file(file, ends[29] + (ends[30] - ends[29]) / 2);
    struct pt_reader *cut;
    CHECK(pt_reader_open(path, &cut, err, sizeof err) == 0);
    const struct pt_rec_hdr *h;
    uint64_t n = 0;
    while (pt_reader_next(cut, &h) == 1)
        n++;
    CHECK_EQ_U64(n, 30 * 100);
    CHECK(pt_reader_stats(cut)->truncated);
    CHECK(strstr(pt_reader_warning(cut), "3000 records read up to the last whole frame") != NULL);
    pt_reader_close(cut);
}

/* Writes a file of one frame holding the packed bytes [packed, packed + n) (file: room for it)
 * and opens it. */
static struct pt_reader *open_one_frame(const char *packed, size_t n, char *file, size_t cap)
{
    struct pt_file_header h;
    header_init(&h);
    memcpy(file, &h, sizeof h);
    size_t z = ZSTD_compress(file + sizeof h, cap - sizeof h, packed, n, 3);
    CHECK(!ZSTD_isError(z));
    write_file(file, sizeof h + z);
    struct pt_reader *r;
    char err[512];
    CHECK(pt_reader_open(path, &r, err, sizeof err) == 0);
    return r;
}

/* 2.x: a record damaged in the middle of a frame ends the stream there; the frame's records
 * before it still come out, and the message says what, where and how many were read. */
static void test_damage_inside_frame(void)
{
    struct pt_rec_nccl_call c[3];
    memset(c, 0, sizeof c);
    for (int i = 0; i < 3; i++) {
        c[i].hdr = (struct pt_rec_hdr){PT_REC_NCCL_CALL, sizeof c[i], 1};
        c[i].seq = (uint64_t)i;
    }
    static char packed[4096], file[8192];
    size_t n = pt_pack_records_as(c, sizeof c, packed, packed_frames);
    CHECK(n > 0);
    packed[n++] = 0x03; /* a delta of an nccl record: mask 2^28, past its 27 words */
    for (int i = 0; i < 4; i++)
        packed[n++] = (char)0x80;
    packed[n++] = 0x01;
    struct pt_reader *r = open_one_frame(packed, n, file, sizeof file);
    const struct pt_rec_hdr *rec;
    for (uint64_t i = 0; i < 3; i++) {
        CHECK(pt_reader_next(r, &rec) == 1 && rec->kind == PT_REC_NCCL_CALL);
        CHECK_EQ_U64(((const struct pt_rec_nccl_call *)rec)->seq, i);
    }
    CHECK(pt_reader_next(r, &rec) == 0);
    const char *w = pt_reader_warning(r);
    CHECK(w && strstr(w, "damaged frame at offset 256 (change mask beyond the record") &&
          strstr(w, "3 records read before it"));
    CHECK(pt_reader_stats(r)->corrupt);
    pt_reader_close(r);
    /* Frame by frame: the same three records, then the same message. */
    char err[512];
    CHECK(pt_reader_open(path, &r, err, sizeof err) == 0);
    struct pt_records recs = {0};
    CHECK(pt_reader_next_frame(r, &recs) == 1 && recs.len == sizeof c && memcmp(recs.data, c, sizeof c) == 0);
    CHECK(pt_reader_next_frame(r, &recs) == 0 && recs.len == 0);
    w = pt_reader_warning(r);
    CHECK(w && strstr(w, "damaged frame at offset 256 (change mask beyond the record") &&
          strstr(w, "3 records read before it"));
    free(recs.data);
    pt_reader_close(r);
}

/* A packed frame whose records would unpack to more than PT_FRAME_MAX_BYTES (a whole record of
 * 64 KiB, then deltas of two bytes that repeat it) is refused frame by frame, after the records
 * that fit, instead of taking memory without bound. */
static void test_unpacks_too_large(void)
{
    enum { SIZE = 65528, COPIES = (PT_FRAME_MAX_BYTES / SIZE) + 8 };
    static char packed[SIZE + 2 * COPIES + 16], file[sizeof packed + 4096];
    size_t n = 0;
    packed[n++] = (char)(PT_PACK_RAW | 30); /* a whole record of a kind this reader skips */
    packed[n++] = (char)(0x80 | (SIZE & 0x7f)); /* its size, a varint of 3 bytes */
    packed[n++] = (char)(0x80 | (SIZE >> 7 & 0x7f));
    packed[n++] = (char)(SIZE >> 14);
    memset(packed + n, 0, SIZE - 4);
    n += SIZE - 4;
    for (int i = 0; i < COPIES; i++)
        packed[n++] = 30, packed[n++] = 0; /* the newest of kind 30, no word changed */
    struct pt_reader *r = open_one_frame(packed, n, file, sizeof file);
    struct pt_records recs = {0};
    CHECK(pt_reader_next_frame(r, &recs) == 1);
    size_t len = recs.len;
    CHECK(len <= PT_FRAME_MAX_BYTES && len % SIZE == 0 && len > PT_FRAME_MAX_BYTES / 2);
    CHECK(pt_reader_next_frame(r, &recs) == 0);
    const char *w = pt_reader_warning(r);
    CHECK(w && strstr(w, "unpack to more than 4 MiB"));
    CHECK_EQ_U64(pt_reader_stats(r)->unknown_records, len / SIZE);
    free(recs.data);
    pt_reader_close(r);
}

/* 1.x: a damaged record is reported at the offset of the frame that holds it (not the file's
 * end), with the records before it kept. */
static void test_damaged_record_offset(void)
{
    static char file[1 << 16];
    struct pt_file_header h;
    header_init(&h);
    memcpy(file, &h, sizeof h);
    size_t len = sizeof h;
    struct pt_rec_end e;
    memset(&e, 0, sizeof e);
    e.hdr.kind = PT_REC_END;
    e.hdr.size = sizeof e;
    len += frame(file + len, sizeof file - len, &e, sizeof e);
    size_t second = len;
    char raw[64];
    memcpy(raw, &e, sizeof e);
    struct pt_rec_hdr bad = {PT_REC_NCCL_CALL, 12, 0}; /* shorter than its kind, not 8-aligned */
    memcpy(raw + sizeof e, &bad, sizeof bad);
    len += frame(file + len, sizeof file - len, raw, sizeof e + sizeof bad);
    struct pt_rec_end tail = e;
    len += frame(file + len, sizeof file - len, &tail, sizeof tail);
    write_file(file, len);
    struct pt_reader *r;
    char err[512];
    CHECK(pt_reader_open(path, &r, err, sizeof err) == 0);
    const struct pt_rec_hdr *x;
    uint64_t n = 0;
    while (pt_reader_next(r, &x) == 1)
        n++;
    CHECK_EQ_U64(n, 2);
    CHECK_EQ_U64(pt_reader_stats(r)->stop_offset, second);
    const char *w = pt_reader_warning(r);
    char want[64];
    snprintf(want, sizeof want, "in frame 2 at offset %zu", second);
    CHECK(w && strstr(w, want));
    pt_reader_close(r);
}

static void test_format(void)
{
    static char file[1 << 16], copy[1 << 16];
    size_t len = build(file, sizeof file);

    write_file(file, len);
    struct pt_reader *r;
    char err[512];
    CHECK(pt_reader_open(path, &r, err, sizeof err) == 0);
    CHECK_EQ_U64(pt_reader_header(r)->pid, 42);
    const struct pt_rec_hdr *h;
    CHECK(pt_reader_next(r, &h) == 1 && h->kind == PT_REC_NCCL_CALL);
    CHECK_EQ_U64(((const struct pt_rec_nccl_call *)h)->bytes, 4096);
    CHECK(pt_reader_next(r, &h) == 1 && h->kind == PT_REC_END); /* kind 30 skipped */
    CHECK(pt_reader_next(r, &h) == 0);
    CHECK(pt_reader_warning(r) == NULL);
    CHECK_EQ_U64(pt_reader_stats(r)->unknown_records, 1);
    CHECK_EQ_U64(pt_reader_stats(r)->frames, 2);
    pt_reader_close(r);

    /* Another major version is refused with a message naming both. */
    memcpy(copy, file, len);
    ((struct pt_file_header *)copy)->version_major = PT_VERSION_MAJOR + 1;
    write_file(copy, len);
    CHECK(pt_reader_open(path, &r, err, sizeof err) != 0);
    CHECK(strstr(err, "trace format 4.") != NULL && strstr(err, "reads 1.x to 3.x") != NULL);

    /* Random damage anywhere: never a crash, never more records than the file holds. */
    srand(7);
    for (int i = 0; i < 20000; i++) {
        memcpy(copy, file, len);
        int flips = 1 + rand() % 4;
        for (int k = 0; k < flips; k++)
            copy[rand() % len] ^= (char)(1 + rand() % 255);
        size_t n = (size_t)rand() % (len + 1);
        write_file(copy, n);
        CHECK(read_all(-1) <= 3);
        CHECK(read_all_frames() <= 3);
    }
    write_file(file, len);
    CHECK_EQ_U64(read_all_frames(), 2);
    static char many[1 << 20];
    test_side_by_side(many, sizeof many);
    if (packed_frames) {
        test_damage_inside_frame();
        test_unpacks_too_large();
    } else {
        test_damaged_record_offset();
    }
}

int main(void)
{
    setenv("PARTRACE_READ_AHEAD", "1", 0); /* small files too (unless the test says 0) */
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    close(fd);
    static const unsigned formats[] = {0, PT_VERSION_MAJOR_ONE_BASE, PT_VERSION_MAJOR};
    for (size_t f = 0; f < sizeof formats / sizeof formats[0]; f++) {
        packed_frames = formats[f];
        test_format();
    }
    unlink(path);
    printf("reader: valid files of formats 1, 2 and 3 read, 3 x 20000 damaged variants survived, "
           "readers side by side, a frame's records before its damage kept, frame by frame as record by "
           "record\n");
    return 0;
}
