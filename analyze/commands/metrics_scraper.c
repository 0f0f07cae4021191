#include "commands/metrics_scraper.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <partrace/format.h>

#include "format/server_metrics.h"
#include "format/trace_file.h"
#include "util/diag.h"
#include "format/http_get.h"
#include "format/prom_text.h"
#include "util/u64_map.h"

#define MAX_URLS 16
#define MAX_SERIES_BYTES 1024u
#define MAX_SERIES 65536u /* distinct series kept; more are left out (counted) */

struct endpoint {
    char url[1024];
    int failing; /* its last scrape failed (said once) */
};

struct pt_scraper {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake, done;
    int stop;                     /* guarded by lock, as the two below */
    uint64_t asked, served;       /* rounds asked for by pt_scraper_scrape_now, and done */
    long interval_ms;
    struct endpoint ep[MAX_URLS];
    int n_ep;
    struct pt_trace_file file;
    struct pt_u64_map series;     /* hash of the series text → its string id */
    uint32_t next_id;
    uint64_t samples, left_out;
    uint64_t round_ts;            /* the current round's time: every sample of it carries it */
    int quiet;                    /* the last round: endpoints gone by then are not said */
};

static uint64_t monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int put_text(struct pt_scraper *s, uint16_t kind, uint32_t id_or_attr, const char *text, size_t n)
{
    _Alignas(8) char buf[sizeof(struct pt_rec_attr) + MAX_SERIES_BYTES + 8];
    size_t head = kind == PT_REC_STRING ? sizeof(struct pt_rec_string) : sizeof(struct pt_rec_attr);
    size_t size = PT_REC_BYTES(head, n);
    memset(buf, 0, size);
    struct pt_rec_hdr *h = (void *)buf;
    *h = (struct pt_rec_hdr){kind, (uint16_t)size, (uint32_t)getpid()};
    uint32_t *words = (uint32_t *)(buf + sizeof *h); /* id/attr, then the length */
    words[0] = id_or_attr;
    words[1] = (uint32_t)n;
    memcpy(buf + head, text, n);
    return pt_trace_file_put(&s->file, buf, size);
}

/* The string id of a series, written on first sight; 0 when there is no room for more. */
static uint32_t series_id(struct pt_scraper *s, const char *text, size_t n)
{
    uint64_t key = pt_text_hash(text, n), id;
    if (pt_u64_map_get(&s->series, key, &id))
        return (uint32_t)id;
    if (s->next_id >= MAX_SERIES || put_text(s, PT_REC_STRING, s->next_id + 1, text, n) != 0)
        return 0;
    id = ++s->next_id;
    pt_u64_map_put(&s->series, key, id);
    return (uint32_t)id;
}

static int take_sample(const struct pt_prom_sample *p, void *arg)
{
    struct pt_scraper *s = arg;
    if (pt_server_metric_of(p->name, p->name_len, NULL) < 0)
        return 0;
    char text[MAX_SERIES_BYTES];
    size_t n = pt_server_series_text(p, text, sizeof text);
    uint32_t id = n ? series_id(s, text, n) : 0;
    if (!id) {
        s->left_out++;
        return 0;
    }
    struct pt_rec_metric m = {.hdr = {PT_REC_METRIC, sizeof m, (uint32_t)getpid()},
                              .ts_ns = s->round_ts, .value = p->value, .series_id = id,
                              .type = (uint8_t)p->type};
    if (pt_trace_file_put(&s->file, &m, sizeof m) == 0)
        s->samples++;
    return 0;
}

static void scrape_round(struct pt_scraper *s)
{
    s->round_ts = monotonic_ns();
    long timeout = s->interval_ms < 100 ? 100 : s->interval_ms > 5000 ? 5000 : s->interval_ms;
    for (int i = 0; i < s->n_ep; i++) {
        struct endpoint *e = &s->ep[i];
        char err[512] = "";
        int rc = pt_server_scrape(e->url, (int)timeout, take_sample, s, err, sizeof err);
        if (rc == 0) {
            if (e->failing && !s->quiet)
                pt_error("metrics: %s answers again", e->url);
            e->failing = 0;
        } else {
            if (!e->failing && !s->quiet) {
                if (rc == -2)
                    pt_error("warning: metrics: %s: not Prometheus text: %s", e->url, err);
                else
                    pt_error("warning: metrics: %s (will keep trying)", err);
            }
            e->failing = 1;
        }
    }
    pt_trace_file_flush(&s->file);
}

static struct timespec after_ms(long ms)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    t.tv_sec += ms / 1000;
    t.tv_nsec += (ms % 1000) * 1000000L;
    if (t.tv_nsec >= 1000000000L)
        t.tv_sec++, t.tv_nsec -= 1000000000L;
    return t;
}

static void *run(void *arg)
{
    struct pt_scraper *s = arg;
    pthread_mutex_lock(&s->lock);
    while (!s->stop) {
        uint64_t asked = s->asked;
        pthread_mutex_unlock(&s->lock);
        scrape_round(s);
        pthread_mutex_lock(&s->lock);
        s->served = asked;
        pthread_cond_broadcast(&s->done);
        struct timespec until = after_ms(s->interval_ms);
        while (!s->stop && s->asked == asked)
            if (pthread_cond_timedwait(&s->wake, &s->lock, &until) == ETIMEDOUT)
                break;
    }
    pthread_mutex_unlock(&s->lock);
    s->quiet = 1;
    scrape_round(s);
    return NULL;
}

struct pt_scraper *pt_scraper_start(const char *urls, long interval_ms, const char *run_dir,
                                    char *err, size_t errlen)
{
    struct pt_scraper *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->interval_ms = interval_ms;
    for (const char *u = urls; *u && s->n_ep < MAX_URLS;) {
        size_t n = strcspn(u, ",");
        char host[256], port[16], path[1024];
        snprintf(s->ep[s->n_ep].url, sizeof s->ep[0].url, "%.*s", (int)n, u);
        if (pt_http_url_parse(s->ep[s->n_ep].url, host, sizeof host, port, sizeof port, path,
                              sizeof path, err, errlen) != 0) {
            free(s);
            return NULL;
        }
        s->n_ep++;
        u += n + (u[n] == ',');
    }
    if (!s->n_ep) {
        snprintf(err, errlen, "no URL given");
        free(s);
        return NULL;
    }
    char host[PT_HOST_MAX] = "", path[4096];
    gethostname(host, sizeof host - 1);
    host[strcspn(host, ".")] = 0;
    snprintf(path, sizeof path, "%s/%s-%d.metrics%s", run_dir, host, (int)getpid(), PT_FILE_SUFFIX);
    struct pt_file_header h;
    pt_file_header_init(&h);
    h.pid = (uint32_t)getpid();
    h.ppid = (uint32_t)getppid();
    struct timespec rt, mt;
    clock_gettime(CLOCK_REALTIME, &rt);
    clock_gettime(CLOCK_MONOTONIC, &mt);
    h.start_realtime_ns = (uint64_t)rt.tv_sec * 1000000000ull + (uint64_t)rt.tv_nsec;
    h.start_monotonic_ns = (uint64_t)mt.tv_sec * 1000000000ull + (uint64_t)mt.tv_nsec;
    snprintf(h.host, sizeof h.host, "%s", host);
    if (pt_trace_file_create(&s->file, path, &h, 0, 256 << 10, err, errlen) != 0) {
        free(s);
        return NULL;
    }
    char cmd[1200];
    int n = snprintf(cmd, sizeof cmd, "partrace record --metrics %s", urls);
    for (int i = 0; i < n && i < (int)sizeof cmd; i++)
        if (cmd[i] == ' ')
            cmd[i] = 0; /* argv joined by NUL, as the recorder writes a command line */
    put_text(s, PT_REC_ATTR, PT_ATTR_CMDLINE, cmd, (size_t)(n < (int)sizeof cmd ? n : (int)sizeof cmd - 1));
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->wake, NULL);
    pthread_cond_init(&s->done, NULL);
    if (pthread_create(&s->thread, NULL, run, s) != 0) {
        snprintf(err, errlen, "cannot start the scraping thread");
        pt_trace_file_close(&s->file);
        free(s);
        return NULL;
    }
    return s;
}

void pt_scraper_scrape_now(struct pt_scraper *s)
{
    pthread_mutex_lock(&s->lock);
    uint64_t mine = ++s->asked;
    pthread_cond_signal(&s->wake);
    /* Bounded: a hanging endpoint costs its timeout per round, and the job waits for nothing
     * longer than this. */
    struct timespec until = after_ms(12000);
    while (s->served < mine && !s->stop)
        if (pthread_cond_timedwait(&s->done, &s->lock, &until) == ETIMEDOUT)
            break;
    pthread_mutex_unlock(&s->lock);
}

uint64_t pt_scraper_stop(struct pt_scraper *s)
{
    pthread_mutex_lock(&s->lock);
    s->stop = 1;
    pthread_cond_signal(&s->wake);
    pthread_mutex_unlock(&s->lock);
    pthread_join(s->thread, NULL);
    struct pt_rec_end e = {.hdr = {PT_REC_END, sizeof e, (uint32_t)getpid()}, .ts_ns = monotonic_ns(),
                           .records_total = s->samples + s->next_id, .how = PT_END_EXIT};
    pt_trace_file_put(&s->file, &e, sizeof e);
    if (pt_trace_file_close(&s->file) != 0)
        pt_error("warning: metrics: the metrics file could not be written whole");
    if (s->left_out)
        pt_error("warning: metrics: %" PRIu64 " samples of series past the first %u left out",
                 s->left_out, MAX_SERIES);
    uint64_t n = s->samples;
    pt_u64_map_free(&s->series);
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->wake);
    pthread_cond_destroy(&s->done);
    free(s);
    return n;
}
