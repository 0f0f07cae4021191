/* partrace dump [--json] PATH: every record of every trace file, one line each, in file order.
 * --json prints JSON Lines (schema in docs/partrace-dump.md). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <partrace/format.h>

#include "commands/cli.h"
#include "outputs/dump_records.h"
#include "read/trace_context.h"
#include "read/trace_reader.h"
#include "read/trace_set.h"

int cmd_dump(int argc, char **argv)
{
    int json = 0;
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            json = 1;
        else if (argv[i][0] == '-' && argv[i][1]) {
            pt_error("dump: unknown option '%s' (usage: partrace dump [--json] PATH)", argv[i]);
            return 2;
        } else if (!path)
            path = argv[i];
        else {
            pt_error("dump: more than one PATH ('%s', '%s')", path, argv[i]);
            return 2;
        }
    }
    if (!path) {
        pt_error("dump: missing PATH (usage: partrace dump [--json] PATH)");
        return 2;
    }
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
        struct pt_reader *r;
        if (pt_reader_open(set.paths[i], &r, err, sizeof err) != 0) {
            pt_error("%s", err);
            status = 1;
            continue;
        }
        uint32_t pid = pt_reader_header(r)->pid;
        struct pt_trace_ctx ctx = {0};
        const struct pt_rec_hdr *h;
        while (pt_reader_next(r, &h) == 1) {
            pt_trace_ctx_learn(&ctx, h);
            pt_dump_record(h, pid, &ctx, json);
        }
        pt_trace_ctx_free(&ctx);
        const char *w = pt_reader_warning(r);
        if (w) {
            fflush(stdout);
            pt_error("warning: %s", w);
            if (pt_reader_stats(r)->corrupt)
                status = 1;
        }
        pt_reader_close(r);
    }
    pt_trace_set_free(&set);
    if (fflush(stdout) != 0)
        status = 1;
    return status;
}
