/* The `partrace` commands: one file per command (cmd-<name>.c), each exposing its table entry
 * pt_cmd_<name> (its options, operands and help: options.h) and cmd_<name>(argc, argv), argv[0]
 * being the command's name. Exit statuses: options.h (PT_EXIT_*), the same for every command. */
#ifndef PT_CLI_H
#define PT_CLI_H

#include <stdio.h>

#include "commands/options.h"
#include "util/diag.h"

#define PT_COMMAND(name)                                                                           \
    int cmd_##name(int argc, char **argv);                                                         \
    extern const struct pt_command pt_cmd_##name;
PT_COMMAND(record)
PT_COMMAND(info)
PT_COMMAND(dump)
PT_COMMAND(report)
PT_COMMAND(diff)
PT_COMMAND(compare)
PT_COMMAND(export)
PT_COMMAND(check)
PT_COMMAND(whatif)
PT_COMMAND(help)
#undef PT_COMMAND

/* `partrace --help` and `partrace --version` (cmd-help.c). */
void pt_usage(FILE *out);
void pt_version(FILE *out);

#endif
