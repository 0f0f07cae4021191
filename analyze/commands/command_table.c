/* The commands, in the order `partrace help` lists them (options.h). */
#include "commands/cli.h"

const struct pt_command *const pt_commands[] = {
    &pt_cmd_record, &pt_cmd_info, &pt_cmd_dump, &pt_cmd_report, &pt_cmd_diff, &pt_cmd_compare,
    &pt_cmd_whatif, &pt_cmd_export, &pt_cmd_check, &pt_cmd_help,
};
const int pt_n_commands = sizeof pt_commands / sizeof *pt_commands;
