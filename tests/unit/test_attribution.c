/* Attribution of a GPU's time with exact truth: one rule for overlaps (compute > communication >
 * copies > idle), the categories add up to the span, communication under compute is hidden. */
#include <string.h>

#include "attribution.h"
#include "check.h"

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
    printf("attribution: exact categories, sums to the span, bounded in-flight memory\n");
    return 0;
}
