#include "preload/rundir.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "preload/config.h"
#include "preload/runtime.h"

static char run_dir[PATH_MAX];

/* Keeps only characters that are safe in a file name. */
static void sanitize(char *s)
{
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '-' || *s == '_' || *s == '.'))
            *s = '_';
}

static int make_absolute(char *path, size_t cap)
{
    if (path[0] == '/')
        return 0;
    char cwd[PATH_MAX], tmp[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd))
        return -1;
    int n = snprintf(tmp, sizeof tmp, "%s/%s", cwd, path);
    if (n < 0 || (size_t)n >= cap)
        return -1;
    memcpy(path, tmp, (size_t)n + 1);
    return 0;
}

void pt_run_dir_init(void)
{
    char name[256];
    const char *slurm = getenv("SLURM_JOB_ID"), *step = getenv("SLURM_STEP_ID");
    const char *elastic = getenv("TORCHELASTIC_RUN_ID");
    if (pt_cfg.dir[0]) {
        /* Made absolute and exported so: processes of the job that start in other working
         * directories still join this run. */
        snprintf(run_dir, sizeof run_dir, "%s", pt_cfg.dir);
        if (run_dir[0] != '/' && make_absolute(run_dir, sizeof run_dir) == 0)
            setenv("PARTRACE_DIR", run_dir, 1);
        return;
    }
    if (slurm && *slurm)
        snprintf(name, sizeof name, "partrace-slurm-%s%s%s", slurm, step ? "." : "",
                 step ? step : "");
    else if (elastic && *elastic)
        snprintf(name, sizeof name, "partrace-torchelastic-%s", elastic);
    else {
        time_t now = (time_t)(pt_start_realtime_ns / 1000000000u);
        struct tm tm;
        gmtime_r(&now, &tm);
        snprintf(name, sizeof name, "partrace-%s-%u-%04d%02d%02d-%02d%02d%02d", pt_host, pt_pid,
                 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    }
    sanitize(name);
    snprintf(run_dir, sizeof run_dir, "%s", name);
    if (make_absolute(run_dir, sizeof run_dir) == 0)
        setenv("PARTRACE_DIR", run_dir, 0); /* descendants join this run */
}

int pt_run_dir(char *out, size_t cap)
{
    size_t n = strlen(run_dir);
    if (n + 1 > cap)
        return -1;
    memcpy(out, run_dir, n + 1);
    return 0;
}

int pt_mkdirs(const char *path, mode_t mode)
{
    char tmp[PATH_MAX];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof tmp) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(tmp, path, n + 1);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, mode) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    if (mkdir(tmp, mode) != 0 && errno != EEXIST)
        return -1;
    struct stat st;
    if (stat(tmp, &st) != 0)
        return -1;
    if (!S_ISDIR(st.st_mode)) {
        errno = ENOTDIR;
        return -1;
    }
    return 0;
}

/* The uid that may own what we follow or write into: ours, or root's. */
static int trusted_owner(uid_t uid) { return uid == geteuid() || uid == 0; }

int pt_run_dir_unsafe(const char *dir, char *why, size_t cap)
{
    char prefix[PATH_MAX];
    size_t n = strlen(dir);
    if (n >= sizeof prefix)
        return 0; /* the next step says it is too long */
    memcpy(prefix, dir, n + 1);
    /* Every existing component: a symbolic link planted by another user (say in /tmp) would
     * send the trace, command line and environment included, where that user chose. */
    for (char *p = prefix + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char saved = *p;
        *p = '\0';
        struct stat st;
        if (lstat(prefix, &st) != 0)
            return 0; /* not made yet: the next step makes it ours */
        if (saved == '\0' && S_ISLNK(st.st_mode)) {
            snprintf(why, cap, "is a symbolic link (name its target instead)");
            return 1;
        }
        if (S_ISLNK(st.st_mode) && !trusted_owner(st.st_uid)) {
            snprintf(why, cap, "has a component '%.*s' that is a symbolic link of another user "
                     "(uid %u)", 200, prefix, (unsigned)st.st_uid);
            return 1;
        }
        if (saved == '\0') {
            if (!trusted_owner(st.st_uid)) {
                /* Its owner could read (setgid) or replace our files, sticky bit or not. */
                snprintf(why, cap, "belongs to another user (uid %u)", (unsigned)st.st_uid);
                return 1;
            }
            if ((st.st_mode & S_IWOTH) && !(st.st_mode & S_ISVTX)) {
                snprintf(why, cap, "is writable by others without the sticky bit");
                return 1;
            }
            return 0;
        }
        *p = saved;
    }
}
