/* Packed frames (include/partrace/format.h), in both packed formats (2.x: deltas from the last
 * record of a kind; 3.x: from one of the last four): every mix of records packs to no more than
 * its own size and unpacks to exactly the same bytes, also when the unpacker is given room one
 * record at a time, and record by record in place (format/record_unpack.h, the reader's way);
 * kinds that interleave pack smaller in 3.x; damaged packed input is refused with a reason and
 * an offset by both unpackers. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <partrace/format.h>

#include "check.h"
#include "format/record_unpack.h"

static _Alignas(8) uint8_t recs[1 << 20], packed[(1 << 20) + PT_PACK_SLACK], out[1 << 20];
static unsigned major = PT_VERSION_MAJOR; /* the packed format under test */

static uint32_t rnd(void) { return (uint32_t)rand() << 16 ^ (uint32_t)rand(); }

/* Appends a record of kind and size; its words drift from the last one like a trace's do
 * (timestamps and counters step, most fields stay), some jump anywhere. */
static size_t put(size_t len, uint16_t kind, uint16_t size, uint32_t *drift)
{
    struct pt_rec_hdr h = {kind, size, rnd() % 3 ? 77 : rnd()};
    memcpy(recs + len, &h, sizeof h);
    for (size_t w = 2; w < size / 4u; w++) {
        uint32_t v = w < 64 ? drift[w] : 0;
        switch (rnd() % 8) {
        case 0: v = rnd(); break;                 /* anything */
        case 1: v += rnd() % 100000; break;       /* a timestamp's step */
        case 2: v -= rnd() % 300; break;          /* backwards */
        default: break;                           /* unchanged */
        }
        if (w < 64)
            drift[w] = v;
        memcpy(recs + len + 4 * w, &v, 4);
    }
    return len + size;
}

static size_t unpack_all(size_t packed_len, size_t step)
{
    struct pt_unpack_state s;
    pt_unpack_begin(&s, major);
    size_t cap = step, at;
    const char *why;
    int rc;
    while ((rc = pt_unpack_records(&s, packed, packed_len, out, cap, &at, &why)) == 1)
        cap += step;
    CHECK(rc == 0);
    return s.out_len;
}

/* Unpacks record by record in place, each record compared with the next of want (len bytes).
 * Returns the records unpacked. */
static size_t unpack_in_place(struct pt_unpack_kinds *k, size_t packed_len, const uint8_t *want, size_t len)
{
    pt_unpack_kinds_frame(k);
    const uint8_t *p = packed, *end = packed + packed_len;
    size_t done = 0, n = 0;
    uint8_t seen[PT_PACK_KIND_LIMIT] = {0};
    while (p < end) {
        const struct pt_rec_hdr *h;
        const char *why = NULL;
        int rc = pt_unpack_next(k, &p, end, &h, &why);
        CHECK(rc == PT_UNPACK_WHOLE || rc == PT_UNPACK_DELTA);
        CHECK(done + h->size <= len && memcmp(h, want + done, h->size) == 0);
        /* The first of a kind in a frame is whole (what the reader checks sizes of). */
        CHECK(seen[h->kind] || rc == PT_UNPACK_WHOLE);
        seen[h->kind] = 1;
        done += h->size, n++;
    }
    CHECK_EQ_U64(done, len);
    return n;
}

static void test_round_trips(void)
{
    static const uint16_t sizes[] = {8, 16, 24, 40, 104, 112, 256, 264, 4096, 4104};
    struct pt_unpack_kinds kinds[2]; /* for 2.x and 3.x, kept over frames as the reader does */
    pt_unpack_kinds_init(&kinds[0], PT_VERSION_MAJOR_ONE_BASE);
    pt_unpack_kinds_init(&kinds[1], PT_VERSION_MAJOR);
    for (int trial = 0; trial < 300; trial++) {
        major = trial % 4 < 2 ? PT_VERSION_MAJOR : PT_VERSION_MAJOR_ONE_BASE;
        unsigned kinds_max = major >= 3 ? PT_PACK3_KIND_LIMIT - 1 : PT_PACK_KIND_LIMIT - 1;
        uint32_t drift[64] = {0};
        size_t len = 0;
        int n = 1 + rand() % 400;
        for (int i = 0; i < n && len < sizeof recs - 8192; i++) {
            uint16_t kind = (uint16_t)(1 + rand() % (trial % 2 ? 4 : kinds_max));
            uint16_t size = trial % 3 ? (uint16_t)(kind * 8 % 120 + 8) : sizes[rand() % 10];
            len = put(len, kind, size, drift);
        }
        size_t p = pt_pack_records_as(recs, len, packed, major);
        CHECK(p > 0 && p <= len);
        memset(out, 0xa5, sizeof out);
        CHECK_EQ_U64(unpack_all(p, sizeof out), len);
        CHECK(memcmp(out, recs, len) == 0);
        CHECK(unpack_in_place(&kinds[major >= 3], p, recs, len) > 0);
        /* Room given 8 bytes at a time: the unpacker stops before a record and goes on. */
        if (trial % 10 == 0) {
            memset(out, 0, sizeof out);
            CHECK_EQ_U64(unpack_all(p, 8), len);
            CHECK(memcmp(out, recs, len) == 0);
        }
    }
    pt_unpack_kinds_free(&kinds[0]);
    pt_unpack_kinds_free(&kinds[1]);
    major = PT_VERSION_MAJOR;
}

/* Appends the i-th kernel of a loop to recs at len (one every 5 us, lasting duration_ns);
 * returns the new length. */
static size_t put_kernel(size_t len, uint64_t i, uint64_t duration_ns, uint32_t correlation_id,
                         uint32_t name_id, uint32_t grid, uint32_t block)
{
    struct pt_rec_kernel k;
    memset(&k, 0, sizeof k);
    k.hdr = (struct pt_rec_hdr){PT_REC_KERNEL, sizeof k, 9};
    k.start_ns = 1000000 + 5000 * i;
    k.end_ns = k.start_ns + duration_ns;
    k.correlation_id = correlation_id;
    k.name_id = name_id;
    k.grid[0] = grid;
    k.block[0] = block;
    memcpy(recs + len, &k, sizeof k);
    return len + sizeof k;
}

/* A trace-like frame packs far below its size: the repeated records of a run cost a few bytes. */
static void test_repeats_are_small(void)
{
    size_t len = 0;
    for (uint64_t i = 0; i < 1000; i++)
        len = put_kernel(len, i, 3000, (uint32_t)(100 + i), 3, 132, 0);
    size_t p = pt_pack_records(recs, len, packed);
    CHECK(p < len / 10);
    CHECK_EQ_U64(unpack_all(p, sizeof out), len);
    CHECK(memcmp(out, recs, len) == 0);
}

/* Two kernels taking turns, as a step's kernels do: 2.x changes the name, times and grid at
 * every record; 3.x takes each from the one two back, which differs in its times only. */
static void test_interleaved_kinds_pack_smaller(void)
{
    size_t len = 0;
    for (uint64_t i = 0; i < 1000; i++)
        len = i % 2 ? put_kernel(len, i, 3000, 0, 3, 132, 256)
                    : put_kernel(len, i, 1200, 0, 8, 16, 1024);
    size_t two = pt_pack_records_as(recs, len, packed, PT_VERSION_MAJOR_ONE_BASE);
    size_t three = pt_pack_records_as(recs, len, packed, PT_VERSION_MAJOR);
    CHECK(three * 4 < two * 3);
    CHECK_EQ_U64(unpack_all(three, sizeof out), len);
    CHECK(memcmp(out, recs, len) == 0);
}

static void expect_refused(const uint8_t *in, size_t len, const char *reason, size_t offset)
{
    struct pt_unpack_state s;
    pt_unpack_begin(&s, major);
    size_t at = 999;
    const char *why = NULL;
    CHECK(pt_unpack_records(&s, in, len, out, sizeof out, &at, &why) == -1);
    CHECK(why && strstr(why, reason));
    CHECK_EQ_U64(at, offset);
    /* In place: the records before the damaged one come out, then it is refused, where it is. */
    struct pt_unpack_kinds k;
    pt_unpack_kinds_init(&k, major);
    const uint8_t *p = in, *end = in + len;
    const struct pt_rec_hdr *h;
    int rc = 1;
    why = NULL;
    while (rc > 0 && p < end)
        rc = pt_unpack_next(&k, &p, end, &h, &why);
    CHECK(rc == -1 && why && strstr(why, reason));
    CHECK_EQ_U64((size_t)(p - in), offset);
    pt_unpack_kinds_free(&k);
}

static void test_damage_refused(void)
{
    /* A whole record of kind 3, size 16 (varint 16), then its 12 bytes after the kind/size. */
    uint8_t whole[] = {0x83, 16, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0};
    CHECK(sizeof whole == 2 + 12);
    uint8_t buf[64];
    expect_refused((const uint8_t[]){0x00}, 1, "kind 0", 0);
    expect_refused((const uint8_t[]){0x03, 0x00}, 2, "not seen in this frame", 0);
    expect_refused((const uint8_t[]){0x83, 12}, 2, "bad record size", 0);       /* not 8n */
    expect_refused((const uint8_t[]){0x83, 4}, 2, "bad record size", 0);        /* < header */
    expect_refused((const uint8_t[]){0x83, 0x80}, 2, "bad record size", 0);     /* cut varint */
    expect_refused(whole, sizeof whole - 1, "cut short", 0);
    /* The same record, then a change to word 4 of 3 (16 bytes = words 0..3). */
    memcpy(buf, whole, sizeof whole);
    memcpy(buf + sizeof whole, (const uint8_t[]){0x03, 0x08, 0x02}, 3);
    expect_refused(buf, sizeof whole + 3, "beyond the record", sizeof whole);
    /* A change whose varint is cut, and one that does not fit 32 bits. */
    memcpy(buf + sizeof whole, (const uint8_t[]){0x03, 0x01, 0x80}, 3);
    expect_refused(buf, sizeof whole + 3, "bad word change", sizeof whole);
    memcpy(buf + sizeof whole, (const uint8_t[]){0x03, 0x01, 0xff, 0xff, 0xff, 0xff, 0x7f}, 7);
    expect_refused(buf, sizeof whole + 7, "bad word change", sizeof whole);
    /* 3.x: a delta from the second newest record of a kind when one came. */
    memcpy(buf + sizeof whole, (const uint8_t[]){0x03 | 1 << PT_PACK3_REF_SHIFT, 0x00}, 2);
    expect_refused(buf, sizeof whole + 2, "not seen in this frame", sizeof whole);
    /* An empty frame (no buffer at all) unpacks to nothing. */
    struct pt_unpack_state s;
    pt_unpack_begin(&s, major);
    size_t at;
    const char *why;
    CHECK(pt_unpack_records(&s, NULL, 0, NULL, 0, &at, &why) == 0 && s.out_len == 0);
    /* Kinds the packer cannot write are refused rather than written wrong (3.x: from 32 on). */
    struct pt_rec_hdr big = {200, 8, 0}, past3 = {PT_PACK3_KIND_LIMIT, 8, 0};
    CHECK(pt_pack_records(&big, sizeof big, packed) == 0);
    CHECK(pt_pack_records_as(&big, sizeof big, packed, PT_VERSION_MAJOR_ONE_BASE) == 0);
    CHECK(pt_pack_records(&past3, sizeof past3, packed) == 0);
    CHECK(pt_pack_records_as(&past3, sizeof past3, packed, PT_VERSION_MAJOR_ONE_BASE) > 0);
}

int main(void)
{
    srand(11);
    test_round_trips();
    test_repeats_are_small();
    test_interleaved_kinds_pack_smaller();
    for (major = PT_VERSION_MAJOR_ONE_BASE; major <= PT_VERSION_MAJOR; major++)
        test_damage_refused();
    printf("record codec: 300 random frames round-trip in formats 2 and 3 (whole and in place), "
           "repeats pack small, interleaved kinds smaller in 3, damage refused\n");
    return 0;
}
