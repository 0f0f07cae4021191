/* partrace help [CMD]; help --man [CMD]; help --completion bash|zsh: every command's help, man
 * page and shell completion, made from the option tables the parser reads (options.h), so that
 * none of them is a second copy to drift. */
#include <stdio.h>
#include <string.h>

#include <partrace/format.h>

#include "commands/cli.h"
#include "commands/options.h"

extern const char pt_release[], pt_commit[];

static const struct pt_option options[] = {
    {"--man", NULL, "the man page (roff) of CMD, or of partrace itself", 0},
    {"--completion", "SHELL", "a completion script for bash or zsh", 0},
    {0},
};
const struct pt_command pt_cmd_help = {
    "help", "[CMD]", "a command's options; its man page; shell completion", options, cmd_help, 0, 1, 0, NULL, NULL};

void pt_usage(FILE *out)
{
    fprintf(out, "usage: partrace COMMAND [OPTIONS] [OPERANDS]\n\ncommands:\n");
    for (int i = 0; i < pt_n_commands; i++)
        fprintf(out, "  %-8s %s\n", pt_commands[i]->name, pt_commands[i]->summary);
    fprintf(out, "\n'partrace help CMD' or 'partrace CMD --help': a command's options.\n"
                 "A RUN is a run directory or one trace file (*%s). Options take --opt VALUE or --opt=VALUE.\n"
                 "Exit status: 0 done, 1 the input could not be read or written, 2 bad usage, 3 a gate held\n"
                 "(report --fail-if, diff --max-regression). Recorder settings: PARTRACE_* (docs/CONFIG.md).\n",
            PT_FILE_SUFFIX);
}

void pt_version(FILE *out)
{
    fprintf(out, "partrace %s (commit %s), trace format %d.%d\n", pt_release, pt_commit, PT_VERSION_MAJOR,
            PT_VERSION_MINOR);
}

/* Text for roff: backslashes doubled, dashes as \-, a leading dot or quote guarded. */
static void roff(FILE *out, const char *s)
{
    if (*s == '.' || *s == '\'')
        fputs("\\&", out);
    for (; *s; s++) {
        if (*s == '\\')
            fputs("\\e", out);
        else if (*s == '-')
            fputs("\\-", out);
        else
            fputc(*s, out);
    }
}

static void man_page(FILE *out, const struct pt_command *c)
{
    char upper[64];
    snprintf(upper, sizeof upper, "PARTRACE%s%s", c ? "-" : "", c ? c->name : "");
    for (char *p = upper; *p; p++)
        *p = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
    fprintf(out, ".TH %s 1 \"\" \"partrace %s\" \"partrace manual\"\n.SH NAME\n", upper, pt_release);
    if (!c) {
        fprintf(out, "partrace \\- where the time of a multi\\-GPU inference job goes\n.SH SYNOPSIS\n"
                     ".B partrace\n\\fICOMMAND\\fR [\\fIOPTIONS\\fR] [\\fIOPERANDS\\fR]\n.SH COMMANDS\n");
        for (int i = 0; i < pt_n_commands; i++) {
            fprintf(out, ".TP\n.B %s\n", pt_commands[i]->name);
            roff(out, pt_commands[i]->summary);
            fprintf(out, "\n");
        }
        fprintf(out, ".SH EXIT STATUS\n0 done, 1 the input could not be read or written, 2 bad usage, 3 a gate "
                     "held (report \\-\\-fail\\-if, diff \\-\\-max\\-regression).\n.SH SEE ALSO\n");
        for (int i = 0; i < pt_n_commands; i++)
            fprintf(out, "%s\\fBpartrace\\-%s\\fR(1)", i ? ", " : "", pt_commands[i]->name);
        fprintf(out, "\n");
        return;
    }
    fprintf(out, "partrace\\-%s \\- ", c->name);
    roff(out, c->summary);
    fprintf(out, "\n.SH SYNOPSIS\n.B partrace %s\n[\\fIOPTIONS\\fR] ", c->name);
    roff(out, c->operands);
    fprintf(out, "\n.SH OPTIONS\n");
    for (const struct pt_option *o = c->opts; o && o->name; o++) {
        fprintf(out, ".TP\n.B ");
        roff(out, o->name);
        if (o->value) {
            fprintf(out, " \\fI");
            roff(out, o->value);
            fprintf(out, "\\fR");
        }
        fprintf(out, "\n");
        roff(out, o->help);
        fprintf(out, "%s\n", o->repeat ? " (repeatable)" : "");
    }
    fprintf(out, ".TP\n.B \\-h, \\-\\-help\nthis help\n.SH EXIT STATUS\n0 done, 1 the input could not be read or "
                 "written, 2 bad usage%s.\n.SH SEE ALSO\n\\fBpartrace\\fR(1)",
            !strcmp(c->name, "report") || !strcmp(c->name, "diff") ? ", 3 a gate held" : "");
    if (c->doc) {
        fprintf(out, "; ");
        roff(out, c->doc);
        fprintf(out, " in the sources");
    }
    fprintf(out, "\n");
}

/* Help text inside a zsh _arguments spec: its brackets, colons and quotes taken literally. */
static void zsh_text(FILE *out, const char *s)
{
    for (; *s; s++) {
        if (*s == '[' || *s == ']' || *s == ':' || *s == '\\')
            fputc('\\', out);
        if (*s == '\'')
            fputs("'\\''", out);
        else
            fputc(*s, out);
    }
}

static int completion(FILE *out, const char *shell)
{
    if (!strcmp(shell, "bash")) {
        fprintf(out, "# bash completion for partrace (partrace help --completion bash)\n_partrace() {\n"
                     "    local cur=${COMP_WORDS[COMP_CWORD]} opts\n"
                     "    if [ \"$COMP_CWORD\" -eq 1 ]; then\n        COMPREPLY=($(compgen -W \"");
        for (int i = 0; i < pt_n_commands; i++)
            fprintf(out, "%s%s", i ? " " : "", pt_commands[i]->name);
        fprintf(out, " --help --version\" -- \"$cur\"))\n        return\n    fi\n    case ${COMP_WORDS[1]} in\n");
        for (int i = 0; i < pt_n_commands; i++) {
            fprintf(out, "    %s) opts=\"", pt_commands[i]->name);
            for (const struct pt_option *o = pt_commands[i]->opts; o && o->name; o++)
                fprintf(out, "%s ", o->name);
            fprintf(out, "--help\" ;;\n");
        }
        fprintf(out, "    esac\n    if [[ $cur == -* ]]; then\n        COMPREPLY=($(compgen -W \"$opts\" -- \"$cur\"))\n"
                     "    else\n        COMPREPLY=($(compgen -f -- \"$cur\"))\n    fi\n}\n"
                     "complete -o filenames -F _partrace partrace\n");
        return 0;
    }
    if (!strcmp(shell, "zsh")) {
        fprintf(out, "#compdef partrace\n# zsh completion for partrace (partrace help --completion zsh)\n"
                     "_partrace() {\n    local -a commands\n    commands=(\n");
        for (int i = 0; i < pt_n_commands; i++) {
            fprintf(out, "        '%s:", pt_commands[i]->name);
            zsh_text(out, pt_commands[i]->summary);
            fprintf(out, "'\n");
        }
        fprintf(out, "    )\n    if (( CURRENT == 2 )); then\n        _describe command commands\n        return\n"
                     "    fi\n    case $words[2] in\n");
        for (int i = 0; i < pt_n_commands; i++) {
            fprintf(out, "    %s) _arguments", pt_commands[i]->name);
            for (const struct pt_option *o = pt_commands[i]->opts; o && o->name; o++) {
                fprintf(out, " '%s%s[", o->repeat ? "*" : "", o->name);
                zsh_text(out, o->help);
                fprintf(out, "]%s%s%s'", o->value ? ":" : "", o->value ? o->value : "", o->value ? ":_files" : "");
            }
            fprintf(out, " '*:file:_files' ;;\n");
        }
        fprintf(out, "    esac\n}\n_partrace \"$@\"\n");
        return 0;
    }
    pt_error("help: --completion takes bash or zsh, not '%s'", shell);
    return -1;
}

int cmd_help(int argc, char **argv)
{
    struct pt_args a;
    int parsed = pt_args_parse(&pt_cmd_help, argc, argv, &a);
    if (parsed)
        return parsed == 1 ? PT_EXIT_OK : PT_EXIT_USAGE;
    const struct pt_command *c = NULL;
    if (a.n_operands && !(c = pt_command_find(a.operands[0]))) {
        pt_error("help: no command '%s' ('partrace help' lists them)", a.operands[0]);
        return PT_EXIT_USAGE;
    }
    if (pt_arg(&a, "--completion"))
        return completion(stdout, pt_arg(&a, "--completion")) ? PT_EXIT_USAGE : PT_EXIT_OK;
    if (pt_flag(&a, "--man"))
        man_page(stdout, c);
    else if (c)
        pt_command_help(stdout, c);
    else
        pt_usage(stdout);
    return fflush(stdout) ? PT_EXIT_INPUT : PT_EXIT_OK;
}
