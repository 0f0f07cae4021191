/* Every command's options in one table, and the one parser that reads them (perf and git as
 * models): `--opt value` and `--opt=value` alike, `--` ending the options, `-h`/`--help` printing
 * the command's synopsis and each option on a line. The same tables make `partrace help`, the man
 * pages and the shell completions (commands/help.c), so they cannot drift from the parser. */
#ifndef PT_OPTIONS_H
#define PT_OPTIONS_H

#include <stdio.h>

#define PT_MAX_OPTIONS 24
#define PT_MAX_REPEATS 32
#define PT_MAX_ARGS 64

/* Exit statuses, the same for every command (docs/CLI.md). */
enum { PT_EXIT_OK = 0, PT_EXIT_INPUT = 1, PT_EXIT_USAGE = 2, PT_EXIT_GATE = 3 };

struct pt_option {
    const char *name;   /* "--json", or a short "-o" */
    const char *value;  /* the value's name in help ("FILE"); NULL for a flag */
    const char *help;   /* one line */
    int repeat;         /* may be given more than once (values kept in order) */
};

struct pt_command {
    const char *name;
    const char *operands;  /* the synopsis after the options: "RUN", "RUN RUN...", "[--] CMD [ARGS...]" */
    const char *summary;   /* one line: what it is for */
    const struct pt_option *opts;
    int (*run)(int argc, char **argv);
    int min_operands, max_operands; /* max -1: any number */
    int stop_at_operand;   /* options end at the first operand (record: the rest is the command) */
    const char *doc;       /* its page: "docs/partrace-report.md" */
    const char *missing;   /* what is said without enough operands: "which run?" */
};

/* What a command line held. */
struct pt_args {
    const struct pt_command *cmd;
    int given[PT_MAX_OPTIONS];                       /* times each option was given */
    const char *values[PT_MAX_OPTIONS][PT_MAX_REPEATS]; /* their values, in order */
    const char *operands[PT_MAX_ARGS];
    int n_operands;
    int first_operand;  /* argv index of the first operand: with stop_at_operand, argv + it is the
                         * rest of the line */
};

/* Parses argv[1..argc) of command c. Returns 0; 1 when --help was asked and printed (the
 * command exits 0); 2 after one line on stderr naming what is wrong (an unknown option, a
 * missing value, too few or too many operands). */
int pt_args_parse(const struct pt_command *c, int argc, char **argv, struct pt_args *a);
/* The last value of option name ("--phase"), NULL when not given; whether a flag was given. */
const char *pt_arg(const struct pt_args *a, const char *name);
int pt_flag(const struct pt_args *a, const char *name);
/* How many values option name has, and the i-th. */
int pt_arg_count(const struct pt_args *a, const char *name);
const char *pt_arg_at(const struct pt_args *a, const char *name, int i);

/* Typed values, each said on stderr when bad (returns -1; 0 when fine or not given, out then
 * left as it was): seconds ≥ 0; a whole number in [min, max]. */
int pt_arg_seconds(const struct pt_args *a, const char *name, double *out);
int pt_arg_whole(const struct pt_args *a, const char *name, long min, long max, long *out);
/* --from, --to and --phase into a window, --to after --from. */
struct pt_window;
int pt_arg_window(const struct pt_args *a, struct pt_window *w);
/* The output a command's --json / --markdown ask for (text otherwise); -1 when both (said). */
struct pt_output;
int pt_arg_output(const struct pt_args *a, const struct pt_output **out);

/* An output file a command will write: refused (said) when it exists and force is not set, its
 * missing parent folders created. Checked before any work. Returns 0 or -1. */
int pt_output_file_ready(const char *cmd, const char *path, int force);

/* A command's help: synopsis, summary, each option on a line, the exit statuses. */
void pt_command_help(FILE *out, const struct pt_command *c);

/* The commands, in `partrace --help` order (commands/partrace.c). */
extern const struct pt_command *const pt_commands[];
extern const int pt_n_commands;
const struct pt_command *pt_command_find(const char *name);

#endif
