/* Prometheus's text exposition format (version 0.0.4), as vLLM, SGLang and every
 * prometheus_client server publish it on /metrics: "# TYPE name type" lines, then samples
 * `name{label="value",...} value [timestamp]`. Parsing keeps pointers into the text; nothing is
 * allocated. */
#ifndef PT_PROM_TEXT_H
#define PT_PROM_TEXT_H

#include <stddef.h>

/* Metric types, as "# TYPE" names them. */
enum pt_prom_type {
    PT_PROM_UNTYPED = 0,
    PT_PROM_COUNTER = 1,
    PT_PROM_GAUGE = 2,
    PT_PROM_HISTOGRAM = 3,
    PT_PROM_SUMMARY = 4,
};

struct pt_prom_sample {
    const char *name;       /* the sample's own name: vllm:time_to_first_token_seconds_bucket */
    size_t name_len;
    const char *labels;     /* between the braces, as written (escapes kept); "" when none */
    size_t labels_len;
    double value;           /* NaN and ±Inf as written */
    enum pt_prom_type type; /* from the "# TYPE" of its family (name less _total, _bucket, _sum,
                             * _count, _created), else untyped */
};

/* Calls fn for every sample of text[0..len). Returns 0, or -1 at the first line that is not the
 * format, with "line N: what" in err (fn has then seen the samples before it). fn returns 0 to go
 * on, non-zero to stop (returned as is). */
int pt_prom_parse(const char *text, size_t len,
                  int (*fn)(const struct pt_prom_sample *s, void *arg), void *arg, char *err,
                  size_t errlen);

/* The value of label `key` in labels (as in a sample) into out, unescaped. Returns 1 when the
 * label is there, 0 when not. */
int pt_prom_label(const char *labels, size_t len, const char *key, char *out, size_t cap);

/* Parses a sample value ("1.5e-3", "+Inf", "NaN"). Returns 0, or -1. */
int pt_prom_value(const char *s, size_t len, double *out);

#endif
