/* partrace record [-o DIR] [--force] [--metrics URL[,URL...]] [--] CMD [ARGS...]: runs CMD with
 * libpartrace.so preloaded and every trace in DIR (with the servers' metrics scraped beside
 * them), passes CMD's exit status through, and prints a summary on stderr. */
#include <errno.h>
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

static int make_dir(const char *dir, int force)
{
    struct stat st;
    if (stat(dir, &st) == 0) {
        if (!S_ISDIR(st.st_mode)) {
            pt_error("record: '%s' exists and is not a directory", dir);
            return -1;
        }
        struct pt_trace_set set;
        char err[256];
        if (pt_trace_set_open(dir, &set, err, sizeof err) == 0) {
            pt_trace_set_free(&set);
            if (!force) {
                pt_error("record: '%s' already holds traces; choose another -o or add --force",
                          dir);
                return -1;
            }
        }
        return 0;
    }
    if (mkdir(dir, 0750) != 0) {
        pt_error("record: cannot create '%s': %s", dir, strerror(errno));
        return -1;
    }
    return 0;
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

int cmd_record(int argc, char **argv)
{
    const char *out = NULL, *capture = NULL, *metrics = NULL;
    long metrics_ms = 1000;
    int force = 0, i = 1;
    for (; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0) {
            i++;
            break;
        } else if (strcmp(argv[i], "-o") == 0 && i + 1 < argc)
            out = argv[++i];
        else if (strcmp(argv[i], "--force") == 0)
            force = 1;
        else if (strcmp(argv[i], "--metrics") == 0 || strncmp(argv[i], "--metrics=", 10) == 0) {
            metrics = argv[i][9] == '=' ? argv[i] + 10 : i + 1 < argc ? argv[++i] : "";
            if (!*metrics) {
                pt_error("record: --metrics needs a URL, e.g. http://127.0.0.1:8000/metrics");
                return 2;
            }
        } else if (strcmp(argv[i], "--metrics-interval-ms") == 0 ||
                   strncmp(argv[i], "--metrics-interval-ms=", 22) == 0) {
            const char *v = argv[i][21] == '=' ? argv[i] + 22 : i + 1 < argc ? argv[++i] : "";
            char *end;
            metrics_ms = strtol(v, &end, 10);
            if (!*v || *end || metrics_ms < 100 || metrics_ms > 3600000) {
                pt_error("record: --metrics-interval-ms takes 100..3600000, not '%s'", v);
                return 2;
            }
        }
        else if (strcmp(argv[i], "--capture-range") == 0 || strncmp(argv[i], "--capture-range=", 16) == 0) {
            /* nsys's spelling: GPU records only between cudaProfilerStart and Stop. */
            const char *v = argv[i][15] == '=' ? argv[i] + 16 : i + 1 < argc ? argv[++i] : "";
            if (strcmp(v, "cudaProfilerApi") != 0 && strcmp(v, "none") != 0) {
                pt_error("record: --capture-range takes cudaProfilerApi or none, not '%s'", v);
                return 2;
            }
            capture = strcmp(v, "none") == 0 ? "all" : "profiler";
        } else if (argv[i][0] == '-') {
            pt_error("record: unknown option '%s' (usage: partrace record [-o DIR] [--force] "
                      "[--capture-range cudaProfilerApi] [--metrics URL[,URL...]] "
                      "[--metrics-interval-ms N] -- CMD [ARGS...])", argv[i]);
            return 2;
        } else
            break;
    }
    if (i >= argc) {
        pt_error("record: no command to run (usage: partrace record [-o DIR] -- CMD [ARGS...])");
        return 2;
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
