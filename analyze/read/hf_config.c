/* config.json's numbers (hf_config.h): a small JSON scanner that keeps the top-level numbers and
 * strings it needs and steps over every other value, nested or not. */
#include "read/hf_config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CONFIG_BYTES (16u << 20)

struct scan {
    const char *p, *end;
};

static void skip_ws(struct scan *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
        s->p++;
}

/* A string at s->p: its raw bytes (escapes left as they are) in [*from, *to). */
static int scan_string(struct scan *s, const char **from, const char **to)
{
    if (s->p >= s->end || *s->p != '"')
        return -1;
    *from = ++s->p;
    while (s->p < s->end && *s->p != '"')
        s->p += *s->p == '\\' ? 2 : 1;
    if (s->p >= s->end)
        return -1;
    *to = s->p++;
    return 0;
}

/* An object member's key and the colon after it: the key's raw bytes in [*from, *to). */
static int scan_key(struct scan *s, const char **from, const char **to)
{
    skip_ws(s);
    if (scan_string(s, from, to) != 0)
        return -1;
    skip_ws(s);
    return s->p < s->end && *s->p++ == ':' ? 0 : -1;
}

/* After a member or element: 1 at the closing bracket (stepped over), 0 after a comma, -1 else. */
static int after_item(struct scan *s, char close)
{
    skip_ws(s);
    if (s->p >= s->end)
        return -1;
    if (*s->p == close)
        return s->p++, 1;
    return *s->p++ == ',' ? 0 : -1;
}

/* An opening bracket: 1 when the object or array is empty (closed too), 0 when items follow. */
static int open_bracket(struct scan *s, char close)
{
    s->p++;
    skip_ws(s);
    if (s->p < s->end && *s->p == close)
        return s->p++, 1;
    return 0;
}

/* Steps over one value of any kind. Nesting is bounded, so that no input runs the stack out. */
static int skip_value(struct scan *s, int depth)
{
    skip_ws(s);
    if (s->p >= s->end || depth > 64)
        return -1;
    const char *a, *b;
    if (*s->p == '"')
        return scan_string(s, &a, &b);
    if (*s->p == '{' || *s->p == '[') {
        char close = *s->p == '{' ? '}' : ']';
        if (open_bracket(s, close))
            return 0;
        for (;;) {
            if ((close == '}' && scan_key(s, &a, &b) != 0) || skip_value(s, depth + 1) != 0)
                return -1;
            int end = after_item(s, close);
            if (end)
                return end > 0 ? 0 : -1;
        }
    }
    const char *start = s->p; /* number or literal */
    while (s->p < s->end && *s->p && strchr("+-.0123456789eEtruefalsn", *s->p))
        s->p++;
    return s->p > start ? 0 : -1;
}

/* The keys read, each with the field it fills; several spellings of one field are tried in
 * order (the first present wins). */
enum field { F_LAYERS, F_HIDDEN, F_HEADS, F_KV_HEADS, F_HEAD_DIM, F_INTER, F_EXPERTS, F_TOP_K,
             F_EXPERT_INTER, F_VOCAB, F_COUNT };
static const struct {
    const char *key;
    enum field f;
} keys[] = {
    {"num_hidden_layers", F_LAYERS}, {"n_layer", F_LAYERS}, {"num_layers", F_LAYERS},
    {"hidden_size", F_HIDDEN}, {"n_embd", F_HIDDEN}, {"d_model", F_HIDDEN},
    {"num_attention_heads", F_HEADS}, {"n_head", F_HEADS},
    {"num_key_value_heads", F_KV_HEADS},
    {"head_dim", F_HEAD_DIM},
    {"intermediate_size", F_INTER}, {"ffn_dim", F_INTER}, {"n_inner", F_INTER},
    {"num_local_experts", F_EXPERTS}, {"num_experts", F_EXPERTS}, {"n_routed_experts", F_EXPERTS},
    {"num_experts_per_tok", F_TOP_K}, {"moe_topk", F_TOP_K},
    {"moe_intermediate_size", F_EXPERT_INTER},
    {"vocab_size", F_VOCAB},
};

struct found {
    double v[sizeof keys / sizeof keys[0]];
    int has[sizeof keys / sizeof keys[0]];
    uint32_t dtype_bytes;
};

static void take(struct found *f, const char *k, size_t klen, struct scan *s, int *nested)
{
    skip_ws(s);
    if (klen == 11 && !memcmp(k, "text_config", 11) && s->p < s->end && *s->p == '{') {
        *nested = 1; /* read by the caller as an object of its own */
        return;
    }
    if ((klen == 11 && !memcmp(k, "torch_dtype", 11)) || (klen == 5 && !memcmp(k, "dtype", 5))) {
        const char *a, *b;
        struct scan t = *s;
        if (scan_string(&t, &a, &b) == 0) {
            size_t n = (size_t)(b - a);
            f->dtype_bytes = (n == 7 && !memcmp(a, "float32", 7)) ? 4 : (n >= 5 && !memcmp(a, "float8", 6 < n ? 6 : n)) ? 1 : 2;
        }
        return;
    }
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (strlen(keys[i].key) == klen && !memcmp(keys[i].key, k, klen)) {
            char num[64], *end;
            size_t n = 0; /* the text is not NUL-terminated: strtod reads a copy */
            while (s->p + n < s->end && n < sizeof num - 1 && s->p[n] && strchr("+-.0123456789eE", s->p[n]))
                n++;
            memcpy(num, s->p, n);
            num[n] = 0;
            errno = 0;
            double v = strtod(num, &end);
            if (n && !*end && !errno) {
                f->v[i] = v;
                f->has[i] = 1;
            } else {
                f->v[i] = NAN; /* present, not a number: said as not a whole number */
                f->has[i] = 1;
            }
        }
}

/* Reads the object at s->p, its text_config object too (whose keys win: they are the decoder's). */
static int read_object(struct scan *s, struct found *f, int depth)
{
    skip_ws(s);
    if (s->p >= s->end || *s->p != '{')
        return -1;
    if (open_bracket(s, '}'))
        return 0;
    for (;;) {
        const char *a, *b;
        if (scan_key(s, &a, &b) != 0)
            return -1;
        int nested = 0;
        take(f, a, (size_t)(b - a), s, &nested);
        if (nested && depth == 0) {
            if (read_object(s, f, 1) != 0)
                return -1;
        } else if (skip_value(s, depth + 1) != 0) {
            return -1;
        }
        int end = after_item(s, '}');
        if (end)
            return end > 0 ? 0 : -1;
    }
}

/* The first present spelling of field; 0 when none. Returns -1 for a value that is not a
 * positive whole number below 2^31. */
static int field(const struct found *f, enum field want, uint32_t *out)
{
    *out = 0;
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (keys[i].f == want && f->has[i]) {
            double v = f->v[i];
            if (!(v >= 1 && v < 2147483648.0) || v != floor(v))
                return -1 - (int)i;
            *out = (uint32_t)v;
            return 0;
        }
    return 0;
}

int pt_hf_config_parse(const char *text, size_t len, const char *name, struct pt_model_shape *s,
                       char *err, size_t errlen)
{
    struct found f;
    memset(&f, 0, sizeof f);
    memset(s, 0, sizeof *s);
    struct scan sc = {text, text + len};
    if (read_object(&sc, &f, 0) != 0) {
        snprintf(err, errlen, "%s: not a JSON object (at byte %zu)", name, (size_t)(sc.p - text));
        return -1;
    }
    uint32_t *out[F_COUNT] = {&s->layers, &s->hidden, &s->heads, &s->kv_heads, &s->head_dim,
                              &s->intermediate, &s->experts, &s->top_k, &s->expert_intermediate,
                              &s->vocab};
    for (int i = 0; i < F_COUNT; i++) {
        int bad = field(&f, (enum field)i, out[i]);
        if (bad < 0) {
            snprintf(err, errlen, "%s: \"%s\" is not a positive whole number", name, keys[-1 - bad].key);
            return -1;
        }
    }
    static const struct {
        enum field f;
        const char *what;
    } needed[] = {{F_LAYERS, "num_hidden_layers"}, {F_HIDDEN, "hidden_size"},
                  {F_HEADS, "num_attention_heads"}, {F_VOCAB, "vocab_size"}};
    for (size_t i = 0; i < sizeof needed / sizeof needed[0]; i++)
        if (!*out[needed[i].f]) {
            snprintf(err, errlen, "%s: no \"%s\"", name, needed[i].what);
            return -1;
        }
    if (!s->kv_heads)
        s->kv_heads = s->heads;
    if (!s->head_dim)
        s->head_dim = s->hidden / s->heads;
    if (s->experts && !s->top_k) {
        snprintf(err, errlen, "%s: %u experts but no \"num_experts_per_tok\"", name, s->experts);
        return -1;
    }
    if (s->experts) {
        if (!s->expert_intermediate)
            s->expert_intermediate = s->intermediate;
        s->intermediate = 0;
    }
    if (!s->experts && !s->intermediate) {
        snprintf(err, errlen, "%s: no \"intermediate_size\"", name);
        return -1;
    }
    if (s->experts && !s->expert_intermediate) {
        snprintf(err, errlen, "%s: no \"moe_intermediate_size\" or \"intermediate_size\"", name);
        return -1;
    }
    if (s->top_k > s->experts || s->kv_heads > s->heads) {
        snprintf(err, errlen, "%s: %s", name, s->top_k > s->experts ? "more experts per token than experts"
                                                                    : "more KV heads than attention heads");
        return -1;
    }
    s->dtype_bytes = f.dtype_bytes ? f.dtype_bytes : 2;
    return 0;
}

int pt_hf_config_read(const char *path, struct pt_model_shape *s, char *err, size_t errlen)
{
    FILE *in = fopen(path, "rb");
    if (!in) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    char *text = malloc(MAX_CONFIG_BYTES);
    size_t n = text ? fread(text, 1, MAX_CONFIG_BYTES, in) : 0;
    int bad = !text || ferror(in), big = n == MAX_CONFIG_BYTES;
    fclose(in);
    int rc = -1;
    if (bad)
        snprintf(err, errlen, "%s: cannot read it", path);
    else if (big)
        snprintf(err, errlen, "%s: over %u MiB, not a model config", path, MAX_CONFIG_BYTES >> 20);
    else
        rc = pt_hf_config_parse(text, n, path, s, err, errlen);
    free(text);
    return rc;
}

double pt_model_layer_params(const struct pt_model_shape *s)
{
    double h = s->hidden, hd = s->head_dim;
    double attn = h * hd * (s->heads + 2.0 * s->kv_heads) + hd * s->heads * h;
    double mlp = s->experts ? s->experts * 3.0 * h * s->expert_intermediate + h * s->experts
                            : 3.0 * h * s->intermediate;
    return attn + mlp + 2.0 * h; /* two norms */
}

double pt_model_other_params(const struct pt_model_shape *s)
{
    return 2.0 * (double)s->vocab * s->hidden + s->hidden;
}
