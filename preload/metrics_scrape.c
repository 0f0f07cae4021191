#include "preload/metrics_scrape.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <partrace/format.h>

#include "format/prom_text.h"
#include "format/server_metrics.h"
#include "preload/clock.h"
#include "preload/config.h"
#include "preload/emit.h"
#include "preload/log.h"
#include "preload/rundir.h"

#define MAX_URLS 16
#define MAX_SERIES 4096u            /* distinct series named; more are left out */
#define SERIES_ID_BASE (1u << 30)   /* string ids of series: apart from kernel and NVTX names */
#define MAX_SERIES_BYTES 1024u

static struct {
    uint64_t hash[MAX_SERIES];
    uint32_t n;
    uint64_t round_ts;
    int failing[MAX_URLS];
} S;

static uint64_t hash_text(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h ? h : 1;
}

/* The id of a series, its string record emitted at first sight; 0 when there is no room. */
static uint32_t series_id(const char *text, size_t n)
{
    uint64_t h = hash_text(text, n);
    for (uint32_t i = 0; i < S.n; i++)
        if (S.hash[i] == h)
            return SERIES_ID_BASE + i;
    if (S.n == MAX_SERIES)
        return 0;
    _Alignas(8) char buf[sizeof(struct pt_rec_string) + MAX_SERIES_BYTES + 8];
    size_t size = PT_REC_BYTES(sizeof(struct pt_rec_string), n);
    memset(buf, 0, size);
    struct pt_rec_string *r = (void *)buf;
    r->hdr.kind = PT_REC_STRING;
    r->hdr.size = (uint16_t)size;
    r->id = SERIES_ID_BASE + S.n;
    r->text_bytes = (uint32_t)n;
    memcpy(r->text, text, n);
    if (pt_emit(r, size) != 0)
        return 0;
    S.hash[S.n] = h;
    return SERIES_ID_BASE + S.n++;
}

static int take(const struct pt_prom_sample *p, void *arg)
{
    (void)arg;
    char text[MAX_SERIES_BYTES];
    size_t n = pt_server_series_text(p, text, sizeof text);
    uint32_t id = n ? series_id(text, n) : 0;
    if (id) {
        struct pt_rec_metric m = {.hdr = {PT_REC_METRIC, sizeof m, 0}, .ts_ns = S.round_ts,
                                  .value = p->value, .series_id = id, .type = (uint8_t)p->type};
        pt_emit(&m, sizeof m);
    }
    return 0;
}

/* Claims the run's one scraper: the first process to create the file. */
static int claim(void)
{
    char dir[PATH_MAX], path[PATH_MAX + 32];
    if (pt_run_dir(dir, sizeof dir) != 0)
        return 0;
    for (int tries = 0; tries < 50 && access(dir, F_OK) != 0; tries++) {
        struct timespec wait = {0, 100000000L}; /* the writer makes the directory */
        nanosleep(&wait, NULL);
    }
    snprintf(path, sizeof path, "%s/.metrics-scraper", dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0640);
    if (fd < 0)
        return 0;
    close(fd);
    return 1;
}

static void *scrape_main(void *arg)
{
    (void)arg;
    if (!claim())
        return NULL;
    const char *urls = pt_cfg.metrics_url;
    long interval = pt_cfg.metrics_interval_ms, timeout = interval < 5000 ? interval : 5000;
    for (;;) {
        S.round_ts = pt_now_ns();
        int i = 0;
        for (const char *u = urls; *u && i < MAX_URLS; i++) {
            size_t n = strcspn(u, ",");
            char url[1024], err[512];
            snprintf(url, sizeof url, "%.*s", (int)n, u);
            u += n + (u[n] == ',');
            int rc = pt_server_scrape(url, (int)timeout, take, NULL, err, sizeof err);
            if (rc == 0) {
                if (S.failing[i])
                    pt_warn("PARTRACE_METRICS_URL: %.200s answers again", url);
                S.failing[i] = 0;
            } else if (!S.failing[i]) {
                pt_warn("PARTRACE_METRICS_URL: %.300s%s (will keep trying)", err,
                        rc == -2 ? " (not Prometheus text)" : "");
                S.failing[i] = 1;
            }
        }
        struct timespec wait = {interval / 1000, (interval % 1000) * 1000000L};
        nanosleep(&wait, NULL);
    }
    return NULL;
}

void pt_metrics_scrape_start(void)
{
    if (!pt_cfg.metrics_url[0])
        return;
    /* Like the writer, the scraper never runs an application's signal handler. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pthread_attr_t attr;
    pthread_t thread;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&thread, &attr, scrape_main, NULL) != 0)
        pt_warn("PARTRACE_METRICS_URL: cannot start the scraping thread");
    pthread_attr_destroy(&attr);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
}
