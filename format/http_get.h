/* A plain HTTP/1.1 GET of a server on this machine or the network (what a Prometheus endpoint
 * needs): one connection per request (Connection: close), the whole exchange within a deadline,
 * bodies by Content-Length, chunked or until the server closes. No TLS, no redirects. */
#ifndef PT_HTTP_GET_H
#define PT_HTTP_GET_H

#include <stddef.h>

/* Splits "http://HOST[:PORT][/PATH]" (port 80 and path "/" by default). Returns 0, or -1 with
 * the reason in err. */
int pt_http_url_parse(const char *url, char *host, size_t host_cap, char *port, size_t port_cap,
                      char *path, size_t path_cap, char *err, size_t errlen);

/* GETs url within timeout_ms. Returns the body (malloc'd, NUL-terminated; *len its length), or
 * NULL with the reason in err: no connection, a timeout, a status other than 200, a body over
 * max_bytes, a reply that is not HTTP. */
char *pt_http_get(const char *url, int timeout_ms, size_t max_bytes, size_t *len, char *err,
                  size_t errlen);

#endif
