#include "metrics_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static double bound(int k) { return 1e-4 * pow(1.03, k); }

/* The first bucket whose bound v does not pass (PT_HIST_BUCKETS: +Inf). From the logarithm, then
 * a step either way where rounding put it one off: a few pow() calls a token, not hundreds. */
static int bucket_of(double v)
{
    if (!(v > bound(0)))
        return 0;
    double at = ceil(log(v / 1e-4) / log(1.03));
    int k = at > PT_HIST_BUCKETS ? PT_HIST_BUCKETS : (int)at;
    while (k > 0 && v <= bound(k - 1))
        k--;
    while (k < PT_HIST_BUCKETS && v > bound(k))
        k++;
    return k;
}

static void observe(struct pt_hist *h, double v)
{
    int k = bucket_of(v);
    h->counts[k]++;
    h->count++;
    h->sum += v;
}

void pt_metrics_arrive(struct pt_metrics *m)
{
    pthread_mutex_lock(&m->lock);
    m->waiting++;
    pthread_mutex_unlock(&m->lock);
}

void pt_metrics_first_token(struct pt_metrics *m, double ttft_s, uint32_t prompt_tokens, uint32_t cached_tokens)
{
    pthread_mutex_lock(&m->lock);
    m->waiting--, m->running++;
    observe(&m->ttft, ttft_s);
    m->prompt_tokens += prompt_tokens;
    m->prefix_queries += prompt_tokens;
    m->prefix_hits += cached_tokens;
    m->generation_tokens++;
    pthread_mutex_unlock(&m->lock);
}

void pt_metrics_token(struct pt_metrics *m, double since_last_s)
{
    pthread_mutex_lock(&m->lock);
    observe(&m->itl, since_last_s);
    m->generation_tokens++;
    pthread_mutex_unlock(&m->lock);
}

void pt_metrics_finish(struct pt_metrics *m, double e2e_s)
{
    pthread_mutex_lock(&m->lock);
    m->running--;
    m->requests++;
    observe(&m->e2e, e2e_s);
    pthread_mutex_unlock(&m->lock);
}

void pt_metrics_kv_usage(struct pt_metrics *m, double used_share)
{
    pthread_mutex_lock(&m->lock);
    m->kv_usage = used_share;
    pthread_mutex_unlock(&m->lock);
}

struct text {
    char *s;
    size_t len, cap;
    int bad;
};

__attribute__((format(printf, 2, 3))) static void put(struct text *t, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = t->bad ? 0 : vsnprintf(t->s + t->len, t->cap - t->len, fmt, ap);
        va_end(ap);
        if (t->bad || (size_t)n < t->cap - t->len) {
            t->len += (size_t)n;
            return;
        }
        char *more = realloc(t->s, t->cap * 2);
        if (!more) {
            t->bad = 1;
            return;
        }
        t->s = more, t->cap *= 2;
    }
}

static void histogram(struct text *t, const char *name, const char *help, const struct pt_hist *h,
                      const char *model)
{
    put(t, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
    uint64_t cum = 0;
    for (int k = 0; k < PT_HIST_BUCKETS; k++) {
        cum += h->counts[k];
        put(t, "%s_bucket{le=\"%.6g\",model_name=\"%s\"} %llu\n", name, bound(k), model, (unsigned long long)cum);
    }
    cum += h->counts[PT_HIST_BUCKETS];
    put(t, "%s_bucket{le=\"+Inf\",model_name=\"%s\"} %llu\n", name, model, (unsigned long long)cum);
    put(t, "%s_count{model_name=\"%s\"} %llu\n%s_sum{model_name=\"%s\"} %.9g\n", name, model,
        (unsigned long long)h->count, name, model, h->sum);
}

static void counter(struct text *t, const char *name, const char *help, uint64_t v, const char *model)
{
    put(t, "# HELP %s %s\n# TYPE %s counter\n%s_total{model_name=\"%s\"} %llu\n", name, help, name, name,
        model, (unsigned long long)v);
}

static void gauge(struct text *t, const char *name, const char *help, double v, const char *model)
{
    put(t, "# HELP %s %s\n# TYPE %s gauge\n%s{model_name=\"%s\"} %.9g\n", name, help, name, name, model, v);
}

char *pt_metrics_render(struct pt_metrics *m, size_t *len)
{
    struct text t = {malloc(1 << 16), 0, 1 << 16, 0};
    if (!t.s)
        return NULL;
    pthread_mutex_lock(&m->lock);
    const char *md = m->model;
    histogram(&t, "vllm:time_to_first_token_seconds", "Time to first token.", &m->ttft, md);
    histogram(&t, "vllm:inter_token_latency_seconds", "Time between two tokens of a request.", &m->itl, md);
    histogram(&t, "vllm:e2e_request_latency_seconds", "Arrival to last token.", &m->e2e, md);
    counter(&t, "vllm:prompt_tokens", "Prompt tokens.", m->prompt_tokens, md);
    counter(&t, "vllm:generation_tokens", "Generated tokens.", m->generation_tokens, md);
    counter(&t, "vllm:prefix_cache_queries", "Prompt tokens looked up in the prefix cache.", m->prefix_queries, md);
    counter(&t, "vllm:prefix_cache_hits", "Prompt tokens found in the prefix cache.", m->prefix_hits, md);
    counter(&t, "vllm:request_success", "Finished requests.", m->requests, md);
    gauge(&t, "vllm:num_requests_running", "Requests producing tokens.", m->running, md);
    gauge(&t, "vllm:num_requests_waiting", "Requests waiting for their first token.", m->waiting, md);
    gauge(&t, "vllm:kv_cache_usage_perc", "Share of the KV-cache blocks in use (0..1).", m->kv_usage, md);
    pthread_mutex_unlock(&m->lock);
    if (t.bad) {
        free(t.s);
        return NULL;
    }
    *len = t.len;
    return t.s;
}

/* Reads a request's head (bounded in size and time), then answers with the metrics. */
static void answer(struct pt_metrics *m, int fd)
{
    char req[8192];
    size_t got = 0;
    while (got < sizeof req - 1) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 1000) != 1)
            return;
        ssize_t r = recv(fd, req + got, sizeof req - 1 - got, 0);
        if (r <= 0)
            return;
        got += (size_t)r;
        req[got] = 0;
        if (strstr(req, "\r\n\r\n"))
            break;
    }
    size_t len = 0;
    char *body = pt_metrics_render(m, &len);
    char head[256];
    int n = body ? snprintf(head, sizeof head,
                            "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\n"
                            "Content-Length: %zu\r\nConnection: close\r\n\r\n", len)
                 : snprintf(head, sizeof head, "HTTP/1.1 500 Out of memory\r\nContent-Length: 0\r\n\r\n");
    send(fd, head, (size_t)n, MSG_NOSIGNAL);
    for (size_t sent = 0; body && sent < len;) {
        ssize_t w = send(fd, body + sent, len - sent, MSG_NOSIGNAL);
        if (w <= 0)
            break;
        sent += (size_t)w;
    }
    free(body);
}

static void *serve(void *arg)
{
    struct pt_metrics *m = arg;
    for (;;) {
        pthread_mutex_lock(&m->lock);
        int stop = m->stop;
        pthread_mutex_unlock(&m->lock);
        if (stop)
            return NULL;
        struct pollfd p = {m->fd, POLLIN, 0};
        if (poll(&p, 1, 100) != 1)
            continue;
        int c = accept4(m->fd, NULL, NULL, SOCK_CLOEXEC);
        if (c >= 0) {
            answer(m, c);
            close(c);
        }
    }
}

int pt_metrics_start(struct pt_metrics *m, int port, const char *model, char *err, size_t errlen)
{
    memset(m, 0, sizeof *m);
    m->fd = -1;
    snprintf(m->model, sizeof m->model, "%s", model);
    pthread_mutex_init(&m->lock, NULL);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                            .sin_addr = {htonl(INADDR_LOOPBACK)}};
    socklen_t al = sizeof a;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 16) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &al) != 0) {
        snprintf(err, errlen, "metrics port %d: %s", port, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    m->fd = fd;
    m->port = ntohs(a.sin_port);
    if (pthread_create(&m->thread, NULL, serve, m) != 0) {
        snprintf(err, errlen, "metrics port %d: no thread", port);
        close(fd);
        m->fd = -1;
        return -1;
    }
    return 0;
}

void pt_metrics_stop(struct pt_metrics *m)
{
    if (m->fd < 0)
        return;
    pthread_mutex_lock(&m->lock);
    m->stop = 1;
    pthread_mutex_unlock(&m->lock);
    pthread_join(m->thread, NULL);
    close(m->fd);
    m->fd = -1;
    pthread_mutex_destroy(&m->lock);
}
