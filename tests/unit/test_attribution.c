/* Attribution of a GPU's time with exact truth: one rule for overlaps (compute > communication >
 * copies > idle), the categories add up to the span, communication under compute is hidden. */
#include <stdlib.h>
#include <string.h>

#include "analyses/attribution.h"
#include "check.h"

/* Random intervals (in order of start, some overlapping, some with gaps) against a count of
 * every nanosecond by the rule: the sweep's totals equal it exactly, whichever of its paths
 * (one interval in flight, or several) each step took. */
static void test_against_every_ns(void)
{
    enum { SPAN = 4000, N = 300 };
    static uint8_t cat_at[SPAN]; /* 0 idle, 1 compute, 2 comm, 3 copy: the winning category */
    static int8_t comm_at[SPAN], hidden_at[SPAN];
    for (int trial = 0; trial < 200; trial++) {
        memset(cat_at, 0, sizeof cat_at);
        memset(comm_at, -1, sizeof comm_at);
        memset(hidden_at, -1, sizeof hidden_at);
        struct pt_attr_rank r;
        memset(&r, 0, sizeof r);
        uint64_t start = 1, first = 0, last = 0;
        for (int i = 0; i < N && start < SPAN - 100; i++) {
            start += (uint64_t)(rand() % (trial % 2 ? 30 : 8));
            uint64_t end = start + 1 + (uint64_t)(rand() % 60);
            uint8_t category = (uint8_t)(rand() % 3);
            uint64_t comm = (uint64_t)(rand() % 3);
            pt_attr_interval(&r, start, end, category, comm);
            first = first ? first : start;
            last = end > last ? end : last;
            for (uint64_t t = start; t < end; t++) {
                int rank = category == 0 ? 1 : category == 1 ? 2 : 3;
                if (!cat_at[t] || rank < cat_at[t])
                    cat_at[t] = (uint8_t)rank;
                if (category == 1 && comm_at[t] < 0)
                    comm_at[t] = (int8_t)comm; /* the first communication in flight */
            }
        }
        pt_attr_finish(&r, 1);
        uint64_t want[4] = {0}, exposed[3] = {0}, hidden[3] = {0};
        for (uint64_t t = first; t < last; t++) {
            want[cat_at[t]]++;
            if (cat_at[t] == 1 && comm_at[t] >= 0)
                hidden[comm_at[t]]++;
            if (cat_at[t] == 2)
                exposed[comm_at[t]]++;
        }
        CHECK_EQ_U64(r.idle_ns, want[0]);
        CHECK_EQ_U64(r.compute_ns, want[1]);
        CHECK_EQ_U64(r.copy_ns, want[3]);
        uint64_t got_exposed[3] = {0}, got_hidden[3] = {0};
        for (int i = 0; i < r.n_comms; i++) {
            got_exposed[r.comms[i].comm] += r.comms[i].exposed_ns;
            got_hidden[r.comms[i].comm] += r.comms[i].hidden_ns;
        }
        for (int c = 0; c < 3; c++) {
            CHECK_EQ_U64(got_exposed[c], exposed[c]);
            CHECK_EQ_U64(got_hidden[c], hidden[c]);
        }
        pt_attr_free(&r, 1);
    }
}

int main(void)
{
    struct pt_attr_rank r;
    memset(&r, 0, sizeof r);
    /* compute [0,100) and [300,310); comm A [50,150); copy [140,200); comm B [305,320). */
    pt_attr_interval(&r, 1000, 1100, 0, 0);
    pt_attr_interval(&r, 1050, 1150, 1, 0xa);
    pt_attr_interval(&r, 1140, 1200, 2, 0);
    pt_attr_interval(&r, 1300, 1310, 0, 0);
    pt_attr_interval(&r, 1305, 1320, 1, 0xb);
    pt_attr_finish(&r, 1);
    CHECK_EQ_U64(r.first_ns, 1000);
    CHECK_EQ_U64(r.last_ns, 1320);
    CHECK_EQ_U64(r.compute_ns, 100 + 10);
    CHECK_EQ_U64(r.n_comms, 2);
    CHECK_EQ_U64(r.comms[0].comm, 0xa);
    CHECK_EQ_U64(r.comms[0].exposed_ns, 50); /* [100,150) */
    CHECK_EQ_U64(r.comms[0].hidden_ns, 50);  /* [50,100) under compute */
    CHECK_EQ_U64(r.comms[1].exposed_ns, 10); /* [310,320) */
    CHECK_EQ_U64(r.comms[1].hidden_ns, 5);
    CHECK_EQ_U64(r.copy_ns, 50);              /* [150,200): [140,150) was communication */
    CHECK_EQ_U64(r.idle_ns, 100);             /* [200,300) */
    CHECK_EQ_U64(r.compute_ns + r.comms[0].exposed_ns + r.comms[1].exposed_ns + r.copy_ns + r.idle_ns,
                 r.last_ns - r.first_ns);
    /* Many intervals in flight at once, then nothing: memory holds only those in flight. */
    struct pt_attr_rank big;
    memset(&big, 0, sizeof big);
    for (uint64_t i = 0; i < 100000; i++)
        pt_attr_interval(&big, 10 * i, 10 * i + 15, (uint8_t)(i % 3), i % 40);
    CHECK(big.n_active <= 2);
    pt_attr_finish(&big, 1);
    uint64_t exposed = 0;
    for (int i = 0; i < big.n_comms; i++)
        exposed += big.comms[i].exposed_ns;
    CHECK_EQ_U64(big.compute_ns + big.copy_ns + big.idle_ns + exposed, big.last_ns - big.first_ns);
    CHECK(big.n_comms == PT_ATTR_COMMS);
    pt_attr_free(&r, 1);
    pt_attr_free(&big, 1);
    test_against_every_ns();
    printf("attribution: exact categories, sums to the span, bounded in-flight memory, 200 random "
           "timelines equal to a count of every ns\n");
    return 0;
}
