/* The commands' option parser and help (options.h). */
#include "commands/options.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "analyses/report_window.h"
#include "outputs/output.h"

#include "util/diag.h"

static int n_opts(const struct pt_command *c)
{
    int n = 0;
    while (c->opts && c->opts[n].name)
        n++;
    return n;
}

static int find(const struct pt_command *c, const char *name, size_t len)
{
    for (int i = 0; c->opts && c->opts[i].name; i++)
        if (strlen(c->opts[i].name) == len && !strncmp(c->opts[i].name, name, len))
            return i;
    return -1;
}

static int add_operand(const struct pt_command *c, struct pt_args *a, const char *s, int at)
{
    if (a->n_operands == PT_MAX_ARGS && !c->stop_at_operand) {
        pt_error("%s: at most %d operands", c->name, PT_MAX_ARGS);
        return -1;
    }
    if (!a->n_operands)
        a->first_operand = at;
    if (a->n_operands < PT_MAX_ARGS)
        a->operands[a->n_operands] = s;
    a->n_operands++;
    return 0;
}

int pt_args_parse(const struct pt_command *c, int argc, char **argv, struct pt_args *a)
{
    memset(a, 0, sizeof *a);
    a->cmd = c;
    a->first_operand = argc;
    int i = 1;
    for (; i < argc; i++) {
        const char *s = argv[i];
        if (!strcmp(s, "--")) {
            i++;
            break;
        }
        if (s[0] != '-' || !s[1]) { /* an operand */
            if (c->stop_at_operand)
                break;
            if (add_operand(c, a, s, i) != 0)
                return 2;
            continue;
        }
        if (!strcmp(s, "-h") || !strcmp(s, "--help")) {
            pt_command_help(stdout, c);
            return 1;
        }
        const char *eq = s[1] == '-' ? strchr(s, '=') : NULL;
        size_t len = eq ? (size_t)(eq - s) : strlen(s);
        int k = find(c, s, len);
        if (k < 0) {
            pt_error("%s: unknown option '%.*s' ('partrace %s --help' lists them)", c->name, (int)len, s, c->name);
            return 2;
        }
        const struct pt_option *o = &c->opts[k];
        const char *v = NULL;
        if (o->value) {
            v = eq ? eq + 1 : i + 1 < argc ? argv[++i] : NULL;
            if (!v || !v[0]) {
                pt_error("%s: %s needs a value (%s %s)", c->name, o->name, o->name, o->value);
                return 2;
            }
        } else if (eq) {
            pt_error("%s: %s takes no value ('%s')", c->name, o->name, s);
            return 2;
        }
        if (a->given[k] && !o->repeat && !o->value) {
            continue; /* a flag twice is the flag */
        }
        if (a->given[k] == PT_MAX_REPEATS) {
            pt_error("%s: %s at most %d times", c->name, o->name, PT_MAX_REPEATS);
            return 2;
        }
        if (o->repeat || !a->given[k])
            a->values[k][a->given[k]++] = v ? v : "";
        else
            a->values[k][0] = v; /* a value given again: the last one counts */
    }
    for (; i < argc; i++) /* after "--", or from the first operand on: all operands */
        if (add_operand(c, a, argv[i], i) != 0)
            return 2;
    if (a->n_operands < c->min_operands) {
        pt_error("%s: %s (usage: partrace %s [OPTIONS] %s)", c->name, c->missing ? c->missing : "operands missing",
                 c->name, c->operands);
        return 2;
    }
    if (c->max_operands >= 0 && a->n_operands > c->max_operands) {
        pt_error("%s: %s ('%s' and '%s'; usage: partrace %s [OPTIONS] %s)", c->name,
                 c->max_operands == 1 ? "one operand at a time" : "too many operands", a->operands[0],
                 a->operands[c->max_operands], c->name, c->operands);
        return 2;
    }
    return 0;
}

static int index_of(const struct pt_args *a, const char *name)
{
    int k = find(a->cmd, name, strlen(name));
    return k;
}

const char *pt_arg(const struct pt_args *a, const char *name)
{
    int k = index_of(a, name);
    return k >= 0 && a->given[k] ? a->values[k][a->cmd->opts[k].repeat ? a->given[k] - 1 : 0] : NULL;
}

int pt_flag(const struct pt_args *a, const char *name)
{
    int k = index_of(a, name);
    return k >= 0 && a->given[k] > 0;
}

int pt_arg_count(const struct pt_args *a, const char *name)
{
    int k = index_of(a, name);
    return k >= 0 ? a->given[k] : 0;
}

const char *pt_arg_at(const struct pt_args *a, const char *name, int i)
{
    int k = index_of(a, name);
    return k >= 0 && i >= 0 && i < a->given[k] ? a->values[k][i] : NULL;
}

int pt_arg_seconds(const struct pt_args *a, const char *name, double *out)
{
    const char *v = pt_arg(a, name);
    if (!v)
        return 0;
    char *end;
    double x = strtod(v, &end);
    if (end == v || *end || !(x >= 0)) {
        pt_error("%s: %s takes seconds >= 0 after the run's first event, not '%s'", a->cmd->name, name, v);
        return -1;
    }
    *out = x;
    return 0;
}

int pt_arg_whole(const struct pt_args *a, const char *name, long min, long max, long *out)
{
    const char *v = pt_arg(a, name);
    if (!v)
        return 0;
    char *end;
    long x = strtol(v, &end, 10);
    if (end == v || *end || x < min || x > max) {
        pt_error("%s: %s takes a whole number from %ld to %ld, not '%s'", a->cmd->name, name, min, max, v);
        return -1;
    }
    *out = x;
    return 0;
}

int pt_arg_window(const struct pt_args *a, struct pt_window *w)
{
    if (pt_arg_seconds(a, "--from", &w->from_s) || pt_arg_seconds(a, "--to", &w->to_s))
        return -1;
    if (pt_arg(a, "--phase"))
        w->phase = pt_arg(a, "--phase");
    if (w->to_s >= 0 && w->to_s <= w->from_s) {
        pt_error("%s: --to (%g s) must come after --from (%g s)", a->cmd->name, w->to_s, w->from_s);
        return -1;
    }
    return 0;
}

int pt_arg_output(const struct pt_args *a, const struct pt_output **out)
{
    int json = pt_flag(a, "--json"), markdown = pt_flag(a, "--markdown");
    if (json && markdown) {
        pt_error("%s: choose one of --json and --markdown", a->cmd->name);
        return -1;
    }
    *out = json ? &pt_output_json : markdown ? &pt_output_markdown : &pt_output_text;
    return 0;
}

int pt_output_file_ready(const char *cmd, const char *path, int force)
{
    struct stat st;
    if (stat(path, &st) == 0) {
        if (S_ISDIR(st.st_mode)) {
            pt_error("%s: %s is a directory", cmd, path);
            return -1;
        }
        if (!force) {
            pt_error("%s: %s exists (--force replaces it)", cmd, path);
            return -1;
        }
        return 0;
    }
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    for (char *p = dir + 1; *p; p++) { /* each parent in turn, as mkdir -p */
        if (*p != '/')
            continue;
        *p = 0;
        if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
            pt_error("%s: cannot create %s: %s", cmd, dir, strerror(errno));
            return -1;
        }
        *p = '/';
    }
    return 0;
}

void pt_command_help(FILE *out, const struct pt_command *c)
{
    fprintf(out, "usage: partrace %s [OPTIONS] %s\n\n%s\n", c->name, c->operands, c->summary);
    int n = n_opts(c), width = 10;
    for (int i = 0; i < n; i++) {
        int w = (int)strlen(c->opts[i].name) + (c->opts[i].value ? 1 + (int)strlen(c->opts[i].value) : 0);
        width = w > width ? w : width;
    }
    fprintf(out, "\noptions:\n");
    for (int i = 0; i < n; i++) {
        const struct pt_option *o = &c->opts[i];
        int w = (int)strlen(o->name) + (o->value ? 1 + (int)strlen(o->value) : 0);
        fprintf(out, "  %s%s%s%*s  %s%s\n", o->name, o->value ? " " : "", o->value ? o->value : "", width - w, "",
                o->help, o->repeat ? " (repeatable)" : "");
    }
    fprintf(out, "  %-*s  this help\n", width, "-h, --help");
    fprintf(out, "\nexit status: 0 done, 1 the input could not be read or written, 2 bad usage%s\n",
            !strcmp(c->name, "report") ? ", 3 a --fail-if held"
            : !strcmp(c->name, "diff") ? ", 3 a figure regressed past --max-regression"
                                       : "");
    if (c->doc)
        fprintf(out, "more: %s\n", c->doc);
}

const struct pt_command *pt_command_find(const char *name)
{
    for (int i = 0; i < pt_n_commands; i++)
        if (!strcmp(pt_commands[i]->name, name))
            return pt_commands[i];
    return NULL;
}
