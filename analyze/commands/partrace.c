/* partrace: the entry point. Each command is cmd-<name>.c with its options in a struct
 * pt_command (options.h), listed in command_table.c. */
#include <stdio.h>
#include <string.h>

#include "commands/cli.h"
#include "commands/options.h"

int main(int argc, char **argv)
{
    if (argc < 2) {
        pt_usage(stderr);
        return PT_EXIT_USAGE;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        pt_usage(stdout);
        return PT_EXIT_OK;
    }
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
        pt_version(stdout);
        return PT_EXIT_OK;
    }
    const struct pt_command *c = pt_command_find(argv[1]);
    if (!c) {
        pt_error("unknown command '%s' ('partrace help' lists them)", argv[1]);
        return PT_EXIT_USAGE;
    }
    return c->run(argc - 1, argv + 1);
}
