#include "format/http_get.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

int pt_http_url_parse(const char *url, char *host, size_t host_cap, char *port, size_t port_cap,
                      char *path, size_t path_cap, char *err, size_t errlen)
{
    if (strncmp(url, "http://", 7) != 0) {
        snprintf(err, errlen, "'%.200s' is not an http:// URL", url);
        return -1;
    }
    const char *h = url + 7, *slash = strchr(h, '/');
    size_t hp = slash ? (size_t)(slash - h) : strlen(h);
    const char *colon = memchr(h, ':', hp);
    size_t hl = colon ? (size_t)(colon - h) : hp;
    size_t pl = colon ? hp - hl - 1 : 2;
    if (!hl || hl >= host_cap || pl >= port_cap || (colon && !pl)) {
        snprintf(err, errlen, "'%.200s': no host, or a host or port too long", url);
        return -1;
    }
    memcpy(host, h, hl);
    host[hl] = 0;
    if (colon) {
        memcpy(port, colon + 1, pl);
        port[pl] = 0;
        for (const char *c = port; *c; c++)
            if (*c < '0' || *c > '9') {
                snprintf(err, errlen, "'%.200s': the port is not a number", url);
                return -1;
            }
    } else {
        snprintf(port, port_cap, "80");
    }
    const char *p = slash ? slash : "/";
    if (strlen(p) >= path_cap) {
        snprintf(err, errlen, "'%.200s': the path is too long", url);
        return -1;
    }
    strcpy(path, p);
    return 0;
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for events on fd until the deadline. Returns 1 when ready, 0 at the deadline, -1. */
static int wait_for(int fd, short events, long long deadline)
{
    for (;;) {
        long long left = deadline - now_ms();
        if (left <= 0)
            return 0;
        struct pollfd p = {fd, events, 0};
        int rc = poll(&p, 1, (int)(left > 1000000 ? 1000000 : left));
        if (rc > 0)
            return 1;
        if (rc < 0 && errno != EINTR)
            return -1;
    }
}

static int connect_to(const char *host, const char *port, long long deadline, char *err, size_t errlen)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *ai = NULL;
    int rc = getaddrinfo(host, port, &hints, &ai);
    if (rc != 0) {
        snprintf(err, errlen, "%s: %s", host, gai_strerror(rc));
        return -1;
    }
    int fd = -1;
    snprintf(err, errlen, "%s:%s: no address", host, port);
    for (struct addrinfo *a = ai; a; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
        if (fd < 0)
            continue;
        int so = 0;
        socklen_t sl = sizeof so;
        if (connect(fd, a->ai_addr, a->ai_addrlen) == 0 ||
            (errno == EINPROGRESS && wait_for(fd, POLLOUT, deadline) == 1 &&
             getsockopt(fd, SOL_SOCKET, SO_ERROR, &so, &sl) == 0 && so == 0))
            break;
        snprintf(err, errlen, "%s:%s: %s", host, port,
                 so ? strerror(so) : errno == EINPROGRESS ? "connection timed out" : strerror(errno));
        close(fd);
        fd = -1;
    }
    freeaddrinfo(ai);
    return fd;
}

/* The header's value (case-insensitive name) into out; 1 when present. */
static int header(const char *head, size_t n, const char *name, char *out, size_t cap)
{
    size_t k = strlen(name);
    for (const char *l = head; l && l < head + n;) {
        const char *e = memmem(l, (size_t)(head + n - l), "\r\n", 2);
        if (!e)
            e = head + n;
        if ((size_t)(e - l) > k && l[k] == ':' && !strncasecmp(l, name, k)) {
            const char *v = l + k + 1;
            while (v < e && *v == ' ')
                v++;
            snprintf(out, cap, "%.*s", (int)(e - v), v);
            return 1;
        }
        l = e + 2;
    }
    return 0;
}

/* Decodes a chunked body in place. Returns its length, or -1 when it is not chunked coding. */
static long dechunk(char *b, size_t n, int *complete)
{
    size_t in = 0, out = 0;
    *complete = 0;
    while (in < n) {
        char *end;
        unsigned long size = strtoul(b + in, &end, 16);
        if (end == b + in)
            return -1;
        char *crlf = memmem(end, n - (size_t)(end - b), "\r\n", 2);
        if (!crlf)
            return (long)out; /* cut in a chunk header: what came so far */
        in = (size_t)(crlf - b) + 2;
        if (size == 0) {
            *complete = 1;
            return (long)out;
        }
        size_t take = size <= n - in ? size : n - in;
        memmove(b + out, b + in, take);
        out += take, in += take + 2;
    }
    return (long)out;
}

char *pt_http_get(const char *url, int timeout_ms, size_t max_bytes, size_t *len, char *err,
                  size_t errlen)
{
    char host[256], port[16], path[1024];
    if (pt_http_url_parse(url, host, sizeof host, port, sizeof port, path, sizeof path, err, errlen))
        return NULL;
    long long deadline = now_ms() + timeout_ms;
    int fd = connect_to(host, port, deadline, err, errlen);
    if (fd < 0)
        return NULL;
    char req[1400];
    int n = snprintf(req, sizeof req,
                     "GET %s HTTP/1.1\r\nHost: %s:%s\r\nAccept: text/plain\r\n"
                     "User-Agent: partrace\r\nConnection: close\r\n\r\n",
                     path, host, port);
    for (int sent = 0; sent < n;) {
        ssize_t w = send(fd, req + sent, (size_t)(n - sent), MSG_NOSIGNAL);
        if (w > 0) {
            sent += (int)w;
        } else if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
            if (wait_for(fd, POLLOUT, deadline) != 1) {
                snprintf(err, errlen, "%s: timed out sending the request", url);
                close(fd);
                return NULL;
            }
        } else {
            snprintf(err, errlen, "%s: %s", url, strerror(errno));
            close(fd);
            return NULL;
        }
    }
    size_t cap = 65536, got = 0, limit = max_bytes + 65536; /* the body and its headers */
    char *buf = malloc(cap + 1);
    const char *why = NULL;
    while (buf) {
        if (got == cap) {
            if (cap >= limit) {
                why = "the reply is larger than allowed";
                break;
            }
            cap = cap * 2 < limit ? cap * 2 : limit;
            char *more = realloc(buf, cap + 1);
            if (!more) {
                why = "out of memory";
                break;
            }
            buf = more;
        }
        ssize_t r = recv(fd, buf + got, cap - got, 0);
        if (r > 0) {
            got += (size_t)r;
        } else if (r == 0) {
            break;
        } else if (errno == EAGAIN || errno == EINTR) {
            if (wait_for(fd, POLLIN, deadline) != 1) {
                why = "timed out waiting for the reply";
                break;
            }
        } else {
            why = strerror(errno);
            break;
        }
    }
    close(fd);
    if (!buf || why) {
        snprintf(err, errlen, "%s: %s", url, buf ? why : "out of memory");
        free(buf);
        return NULL;
    }
    buf[got] = 0;
    char *body = memmem(buf, got, "\r\n\r\n", 4);
    int status = 0;
    if (strncmp(buf, "HTTP/1.", 7) != 0 || !body || sscanf(buf + 8, " %d", &status) != 1) {
        snprintf(err, errlen, "%s: the reply is not HTTP", url);
        free(buf);
        return NULL;
    }
    if (status != 200) {
        snprintf(err, errlen, "%s: HTTP status %d", url, status);
        free(buf);
        return NULL;
    }
    size_t head = (size_t)(body - buf) + 4, blen = got - head;
    char value[64];
    if (header(buf, head, "Transfer-Encoding", value, sizeof value) && strcasestr(value, "chunked")) {
        int complete;
        long d = dechunk(buf + head, blen, &complete);
        if (d < 0 || !complete) {
            snprintf(err, errlen, "%s: the chunked reply was cut", url);
            free(buf);
            return NULL;
        }
        blen = (size_t)d;
    } else if (header(buf, head, "Content-Length", value, sizeof value)) {
        unsigned long want = strtoul(value, NULL, 10);
        if (want > blen) {
            snprintf(err, errlen, "%s: the reply was cut (%zu of %lu bytes)", url, blen, want);
            free(buf);
            return NULL;
        }
        blen = want;
    }
    if (blen > max_bytes) {
        snprintf(err, errlen, "%s: the reply is larger than allowed", url);
        free(buf);
        return NULL;
    }
    memmove(buf, buf + head, blen);
    buf[blen] = 0;
    *len = blen;
    return buf;
}
