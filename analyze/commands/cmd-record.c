/* partrace record [-o DIR] [--force] [--metrics URL[,URL...]] [--] CMD [ARGS...]: runs CMD with
 * libpartrace.so preloaded and every trace in DIR (with the servers' metrics scraped beside
 * them), passes CMD's exit status through, and prints a summary on stderr. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <partrace/format.h>

#include "commands/cli.h"
#include "commands/options.h"
#include "commands/metrics_scraper.h"
#include "read/trace_set.h"
#include "read/trace_summary.h"
#include "util/settings.h"

static volatile sig_atomic_t child_pid;
/* While metrics are scraped, a signal for the job waits until they are scraped once more (the
 * job's servers end with it): the handler notes it, the waiting loop forwards it. */
static volatile sig_atomic_t hold_signals, held_signal;

static void forward(int sig)
{
    if (hold_signals)
        held_signal = sig;
    else if (child_pid > 0)
        kill((pid_t)child_pid, sig);
}

/* libpartrace.so: $PARTRACE_LIB, else beside this executable, else in ../lib. */
static int find_library(char *out, size_t cap)
{
    const char *env = pt_settings()->lib;
    if (env) {
        if (access(env, R_OK) != 0) {
            pt_error("record: PARTRACE_LIB='%s': %s", env, strerror(errno));
            return -1;
        }
        return realpath(env, out) ? 0 : -1;
    }
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return -1;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    *slash = '\0';
    const char *rel[] = {"libpartrace.so", "../lib/libpartrace.so", "../preload/libpartrace.so"};
    for (size_t i = 0; i < sizeof rel / sizeof *rel; i++) {
        char cand[PATH_MAX * 2];
        snprintf(cand, sizeof cand, "%s/%s", exe, rel[i]);
        if (access(cand, R_OK) == 0 && realpath(cand, out))
            return 0;
    }
    (void)cap;
    pt_error("record: cannot find libpartrace.so beside %s; set PARTRACE_LIB", exe);
    return -1;
}

/* The run's folder: created with its parents; one that holds traces already is refused, or with
 * --force emptied of them first (the next report would mix two runs otherwise). */
static int make_dir(const char *dir, int force)
{
    struct stat st;
    if (stat(dir, &st) != 0) {
        if (pt_output_file_ready("record", dir, 0) != 0) /* its parents */
            return -1;
        if (mkdir(dir, 0750) != 0) {
            pt_error("record: cannot create '%s': %s", dir, strerror(errno));
            return -1;
        }
        return 0;
    }
    if (!S_ISDIR(st.st_mode)) {
        pt_error("record: '%s' exists and is not a directory", dir);
        return -1;
    }
    DIR *d = opendir(dir);
    if (!d) {
        pt_error("record: cannot read '%s': %s", dir, strerror(errno));
        return -1;
    }
    size_t old = 0, suffix = strlen(PT_FILE_SUFFIX);
    struct dirent *e;
    int status = 0;
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        int trace = n > suffix && !strcmp(e->d_name + n - suffix, PT_FILE_SUFFIX);
        if (!trace && strcmp(e->d_name, ".metrics-scraper") != 0)
            continue;
        old += trace;
        if (force && unlinkat(dirfd(d), e->d_name, 0) != 0 && errno != ENOENT) {
            pt_error("record: cannot remove %s/%s: %s", dir, e->d_name, strerror(errno));
            status = -1;
        }
    }
    closedir(d);
    if (old && !force) {
        pt_error("record: '%s' already holds %zu trace files; choose another -o or add --force (removes them)", dir,
                 old);
        return -1;
    }
    return status;
}

static void summarize(const char *dir)
{
    struct pt_trace_set set;
    char err[1024];
    if (pt_trace_set_open(dir, &set, err, sizeof err) != 0) {
        pt_error("recorded nothing in %s (no NCCL call was made, or tracing was disabled)", dir);
        return;
    }
    if (set.warning[0])
        pt_error("warning: %s", set.warning);
    uint64_t records = 0, events = 0, dropped = 0, bytes = 0;
    struct pt_trace_summary *s = malloc(sizeof *s);
    for (size_t i = 0; s && i < set.count; i++) {
        if (pt_trace_summarize(set.paths[i], s, err, sizeof err) != 0) {
            pt_error("%s", err);
            continue;
        }
        if (s->warning[0])
            pt_error("warning: %s", s->warning);
        records += s->stats.records;
        events += s->by_kind[PT_REC_NCCL_CALL] + s->by_kind[PT_REC_COMM_INIT];
        dropped += s->dropped;
        bytes += s->stats.bytes_on_disk;
    }
    fprintf(stderr,
            "partrace: %zu trace files in %s: %" PRIu64 " events (%" PRIu64 " records), %" PRIu64
            " dropped, %" PRIu64 " bytes\n",
            set.count, dir, events, records, dropped, bytes);
    free(s);
    pt_trace_set_free(&set);
}

static const struct pt_option options[] = {
    {"-o", "DIR", "where the traces go (default: partrace-DATE-TIME; its folders are created)", 0},
    {"--force", NULL, "DIR may hold an earlier run: its traces are removed first", 0},
    {"--metrics", "URL", "scrape a server's Prometheus endpoint(s) during the run (URL[,URL...])", 0},
    {"--metrics-interval-ms", "N", "between scrapes (100..3600000, default 1000)", 0},
    {"--capture-range", "RANGE", "cudaProfilerApi: GPU records only between cudaProfilerStart and Stop; none", 0},
    {0},
};
const struct pt_command pt_cmd_record = {
    "record", "[--] CMD [ARGS...]", "run CMD under partrace, every trace in one folder", options, cmd_record, 1, -1,
    1, "docs/partrace-record.md", "no command to run"};

int cmd_record(int argc, char **argv)
{
    struct pt_args a;
    int parsed = pt_args_parse(&pt_cmd_record, argc, argv, &a);
    if (parsed)
        return parsed == 1 ? PT_EXIT_OK : PT_EXIT_USAGE;
    const char *out = pt_arg(&a, "-o"), *capture = NULL, *metrics = pt_arg(&a, "--metrics");
    long metrics_ms = 1000;
    int force = pt_flag(&a, "--force"), i = a.first_operand;
    if (pt_arg_whole(&a, "--metrics-interval-ms", 100, 3600000, &metrics_ms))
        return PT_EXIT_USAGE;
    const char *range = pt_arg(&a, "--capture-range");
    if (range) { /* nsys's spelling */
        if (strcmp(range, "cudaProfilerApi") != 0 && strcmp(range, "none") != 0) {
            pt_error("record: --capture-range takes cudaProfilerApi or none, not '%s'", range);
            return PT_EXIT_USAGE;
        }
        capture = strcmp(range, "none") == 0 ? "all" : "profiler";
    }
    char lib[PATH_MAX], dir[PATH_MAX], abs_dir[PATH_MAX];
    if (find_library(lib, sizeof lib) != 0)
        return 2;
    if (!out) {
        time_t now = time(NULL);
        struct tm tm;
        localtime_r(&now, &tm);
        strftime(dir, sizeof dir, "partrace-%Y%m%d-%H%M%S", &tm);
        out = dir;
    }
    if (make_dir(out, force) != 0 || !realpath(out, abs_dir))
        return 2;
    const char *old = getenv("LD_PRELOAD");
    size_t n = strlen(lib) + (old ? strlen(old) : 0) + 2;
    char *preload = malloc(n);
    if (!preload)
        return 2;
    snprintf(preload, n, "%s%s%s", lib, old && *old ? ":" : "", old && *old ? old : "");
    setenv("LD_PRELOAD", preload, 1);
    setenv("PARTRACE_DIR", abs_dir, 1);
    if (capture)
        setenv("PARTRACE_CUDA_CAPTURE", capture, 1);
    /* The CUDA driver and NVTX load the library by these names (the GPU side); a tool the user
     * already named keeps its place. */
    setenv("CUDA_INJECTION64_PATH", lib, 0);
    setenv("NVTX_INJECTION64_PATH", lib, 0);
    free(preload);

    struct pt_scraper *scraper = NULL;
    if (metrics) {
        char err[512];
        if (!(scraper = pt_scraper_start(metrics, metrics_ms, abs_dir, err, sizeof err))) {
            pt_error("record: --metrics: %s", err);
            return 2;
        }
        hold_signals = 1;
    }
    pid_t pid = fork();
    if (pid < 0) {
        pt_error("record: fork: %s", strerror(errno));
        return 2;
    }
    if (pid == 0) {
        execvp(argv[i], argv + i);
        dprintf(2, "partrace: record: cannot run '%s': %s\n", argv[i], strerror(errno));
        _exit(127);
    }
    child_pid = pid;
    const int forwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
    for (size_t k = 0; k < sizeof forwarded / sizeof *forwarded; k++) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = forward;
        sigaction(forwarded[k], &sa, NULL);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            pt_error("record: waitpid: %s", strerror(errno));
            return 2;
        }
        if (held_signal) {
            int sig = held_signal;
            held_signal = 0;
            pt_scraper_scrape_now(scraper);
            kill(pid, sig);
        }
    }
    if (scraper)
        pt_scraper_stop(scraper);
    summarize(abs_dir);
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) {
        fprintf(stderr, "partrace: %s ended by signal %d\n", argv[i], WTERMSIG(status));
        return 128 + WTERMSIG(status);
    }
    return 1;
}
