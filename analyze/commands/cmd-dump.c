/* partrace dump [--json] [--mangled] RUN: every record of every trace file, one line each, in
 * file order, kernel names demangled unless --mangled. --json prints JSON Lines (schema in
 * docs/partrace-dump.md). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <partrace/format.h>

#include "commands/cli.h"
#include "outputs/dump_records.h"
#include "read/trace_set.h"

static const struct pt_option options[] = {
    {"--json", NULL, "one JSON object a line", 0},
    {"--mangled", NULL, "kernel names as the compiler wrote them (demangled otherwise)", 0},
    {0},
};
const struct pt_command pt_cmd_dump = {
    "dump", "RUN", "every record of every trace file, one line each, in file order", options, cmd_dump, 1, 1, 0,
    "docs/partrace-dump.md", "which run?"};

int cmd_dump(int argc, char **argv)
{
    struct pt_args a;
    int parsed = pt_args_parse(&pt_cmd_dump, argc, argv, &a);
    if (parsed)
        return parsed == 1 ? PT_EXIT_OK : PT_EXIT_USAGE;
    int json = pt_flag(&a, "--json");
    const char *path = a.operands[0];
    char err[1024];
    struct pt_trace_set set;
    if (pt_trace_set_open(path, &set, err, sizeof err) != 0) {
        pt_error("%s", err);
        return 1;
    }
    if (set.warning[0])
        pt_error("warning: %s", set.warning);
    int status = 0;
    for (size_t i = 0; i < set.count; i++) {
        int damaged, rc = pt_dump_file(stdout, set.paths[i], json, pt_flag(&a, "--mangled"), &damaged, err,
                                       sizeof err);
        if (rc < 0) {
            pt_error("%s", err);
            status = 1;
        } else if (rc > 0) {
            fflush(stdout);
            pt_error("warning: %s", err);
            status |= damaged;
        }
    }
    pt_trace_set_free(&set);
    if (fflush(stdout) != 0)
        status = 1;
    return status;
}
