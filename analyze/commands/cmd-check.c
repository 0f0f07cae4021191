/* partrace check FILE.pftrace: is this Perfetto trace free of what trace_processor counts as
 * errors? (perfetto_check.h lists the rules.) */
#include <inttypes.h>
#include <stdio.h>

#include "commands/cli.h"
#include "outputs/perfetto_check.h"

const struct pt_command pt_cmd_check = {
    "check", "FILE.pftrace[.gz]", "is a Perfetto trace free of what trace_processor counts as errors",
    NULL, cmd_check, 1, 1, 0, "docs/partrace-check.md", "which file?"};

int cmd_check(int argc, char **argv)
{
    struct pt_args a;
    int parsed = pt_args_parse(&pt_cmd_check, argc, argv, &a);
    if (parsed)
        return parsed == 1 ? PT_EXIT_OK : PT_EXIT_USAGE;
    const char *file = a.operands[0];
    struct pt_check_stats st;
    int rc = pt_perfetto_check(file, stderr, &st);
    if (rc == 2)
        return 1;
    printf("%s: %s: %" PRIu64 " packets, %" PRIu64 " tracks, %" PRIu64 " slices (%" PRIu64
           " left open), %" PRIu64 " instants, %" PRIu64 " counter values, %" PRIu64 " flows, %" PRIu64
           " errors\n",
           file, rc ? "INVALID" : "ok", st.packets, st.tracks, st.slices, st.open_slices, st.instants,
           st.counters, st.flows, st.errors);
    return rc ? 1 : 0;
}
