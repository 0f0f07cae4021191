/* The attribution over time: bucket values are the attribution's own totals, split at bucket
 * boundaries, and stay so when buckets merge (the width doubles) on a long run. */
#include <string.h>

#include "analyses/attribution.h"
#include "check.h"
#include "analyses/timeline.h"

/* 10 µs of compute every 20 µs, then a copy of 5 µs, for `periods` periods from t0. */
static void run(struct pt_timeline *t, struct pt_attr_rank *a, uint64_t t0, int periods)
{
    for (int k = 0; k < periods; k++) {
        uint64_t s = t0 + (uint64_t)k * 20000;
        pt_timeline_step(t, a, s);
        pt_attr_interval(a, s, s + 10000, 0, 0);
        pt_timeline_step(t, a, s + 12000);
        pt_attr_interval(a, s + 12000, s + 17000, 2, 0);
    }
    pt_attr_finish(a, 1);
    pt_timeline_finish(t, a, t0 + (uint64_t)periods * 20000 - 3000);
}

static void test_short_run_keeps_first_width(void)
{
    struct pt_attr_rank a;
    memset(&a, 0, sizeof a);
    struct pt_timeline t;
    CHECK(pt_timeline_init(&t, 1, 1000000) == 0);
    run(&t, &a, 1000000, 50); /* 1 ms: 100 buckets of 10 µs */
    CHECK_EQ_U64(t.width, 10000);
    CHECK_EQ_U64(t.n, 100);
    uint64_t ns[PT_TL_VALUES], compute = 0, copy = 0;
    for (size_t i = 0; i < t.n; i++) {
        pt_timeline_bucket(&t, 0, i, ns);
        /* even buckets hold the compute, odd ones the copy (2 µs after their start) */
        CHECK_EQ_U64(ns[PT_TL_COMPUTE], i % 2 ? 0 : 10000);
        CHECK_EQ_U64(ns[PT_TL_COPY], i % 2 ? 5000 : 0);
        compute += ns[PT_TL_COMPUTE], copy += ns[PT_TL_COPY];
    }
    CHECK_EQ_U64(compute, a.compute_ns);
    CHECK_EQ_U64(copy, a.copy_ns);
    CHECK_EQ_U64(pt_timeline_span(&t, t.n - 1), 7000); /* the last ends with the run */
    pt_attr_free(&a, 1);
    pt_timeline_free(&t);
}

static void test_long_run_merges(void)
{
    struct pt_attr_rank a;
    memset(&a, 0, sizeof a);
    struct pt_timeline t;
    CHECK(pt_timeline_init(&t, 1, 5000) == 0);
    run(&t, &a, 5000, 10000); /* 200 ms: 20,000 buckets of 10 µs would not fit */
    CHECK(t.n <= t.cap);
    CHECK(t.width > 10000);
    CHECK_EQ_U64(t.width % 20000, 0);
    uint64_t ns[PT_TL_VALUES], compute = 0;
    for (size_t i = 0; i < t.n; i++) {
        pt_timeline_bucket(&t, 0, i, ns);
        if (i + 1 < t.n) { /* whole periods: half compute, a quarter copy */
            CHECK_EQ_U64(ns[PT_TL_COMPUTE], t.width / 2);
            CHECK_EQ_U64(ns[PT_TL_COPY], t.width / 4);
        }
        compute += ns[PT_TL_COMPUTE];
    }
    CHECK_EQ_U64(compute, a.compute_ns);
    pt_attr_free(&a, 1);
    pt_timeline_free(&t);
}

/* A damaged trace's times near 2^64: the buckets stop where 64 bits end, nothing loops. */
static void test_times_at_the_end_of_64_bits(void)
{
    struct pt_attr_rank a;
    memset(&a, 0, sizeof a);
    struct pt_timeline t;
    CHECK(pt_timeline_init(&t, 1, 1000) == 0);
    pt_attr_interval(&a, 1000, 2000, 0, 0);
    pt_timeline_step(&t, &a, UINT64_MAX);
    pt_timeline_step(&t, &a, UINT64_MAX - 1);
    CHECK(t.n <= t.cap);
    pt_attr_finish(&a, 1);
    pt_timeline_finish(&t, &a, UINT64_MAX);
    CHECK(t.n <= t.cap);
    uint64_t ns[PT_TL_VALUES], compute = 0;
    for (size_t i = 0; i < t.n; i++) {
        pt_timeline_bucket(&t, 0, i, ns);
        compute += ns[PT_TL_COMPUTE];
    }
    CHECK_EQ_U64(compute, 1000);
    pt_attr_free(&a, 1);
    pt_timeline_free(&t);
}

int main(void)
{
    test_times_at_the_end_of_64_bits();
    test_short_run_keeps_first_width();
    test_long_run_merges();
    return 0;
}
