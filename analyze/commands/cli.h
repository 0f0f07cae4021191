/* The `partrace` command: one file per sub-command (cmd-<name>.c), each exposing
 * cmd_<name>(argc, argv) where argv[0] is the sub-command's name. Exit codes: 0 success,
 * 1 the input had a problem (unreadable or damaged trace), 2 bad usage. */
#ifndef PT_CLI_H
#define PT_CLI_H

#include "util/diag.h"

int cmd_record(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_dump(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_diff(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_whatif(int argc, char **argv);

#endif
