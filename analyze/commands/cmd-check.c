/* partrace check FILE.pftrace: is this Perfetto trace free of what trace_processor counts as
 * errors? (perfetto_check.h lists the rules.) */
#include <inttypes.h>
#include <stdio.h>

#include "commands/cli.h"
#include "outputs/perfetto_check.h"

int cmd_check(int argc, char **argv)
{
    if (argc != 2 || argv[1][0] == '-') {
        pt_error("check: usage: partrace check FILE.pftrace[.gz]");
        return 2;
    }
    struct pt_check_stats st;
    int rc = pt_perfetto_check(argv[1], stderr, &st);
    if (rc == 2)
        return 1;
    printf("%s: %s: %" PRIu64 " packets, %" PRIu64 " tracks, %" PRIu64 " slices (%" PRIu64
           " left open), %" PRIu64 " instants, %" PRIu64 " counter values, %" PRIu64 " flows, %" PRIu64
           " errors\n",
           argv[1], rc ? "INVALID" : "ok", st.packets, st.tracks, st.slices, st.open_slices, st.instants,
           st.counters, st.flows, st.errors);
    return rc ? 1 : 0;
}
