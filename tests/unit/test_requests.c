/* Serving metrics from NVTX marks (requests.h): a request marked by several processes counts
 * once, with the marks of the process that marked it first in time (ties: the lower file), in
 * whatever order the files' marks are fed (the report may take files in turns). */
#include <string.h>

#include "check.h"
#include "analyses/requests.h"

struct mark {
    uint32_t file;
    uint64_t ts;
    const char *text;
};

/* Request 7 on three files: file 2 marks it first (arrive at 100), file 0 at the same times
 * plus 50, file 1 at the same time as file 2 (a tie that file 1 wins by its lower index); file
 * 0 alone marks request 8. Each file's marks are in time order. */
static const struct mark marks[] = {
    {0, 150, "req 7 arrive"}, {0, 1150, "req 7 token"}, {0, 2150, "req 7 token"},
    {0, 500, "req 8 arrive"}, {0, 900, "req 8 token"},
    {1, 100, "req 7 arrive"}, {1, 1300, "req 7 token"}, {1, 1400, "req 7 token"}, {1, 1500, "req 7 token"},
    {2, 100, "req 7 arrive"}, {2, 1000, "req 7 token"},
};
#define N_MARKS (sizeof marks / sizeof marks[0])

/* Feeds the marks with the files in the order given (each file's marks in its order). */
static struct pt_request_stats feed(const uint32_t *file_order, size_t n_files)
{
    struct pt_requests q;
    pt_requests_init(&q);
    for (size_t f = 0; f < n_files; f++)
        for (size_t i = 0; i < N_MARKS; i++)
            if (marks[i].file == file_order[f])
                pt_requests_mark(&q, marks[i].file, marks[i].text, strlen(marks[i].text), marks[i].ts);
    struct pt_request_stats s;
    CHECK(pt_requests_stats(&q, &s));
    pt_requests_free(&q);
    return s;
}

int main(void)
{
    static const uint32_t orders[][3] = {{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};
    for (size_t o = 0; o < sizeof orders / sizeof orders[0]; o++) {
        struct pt_request_stats s = feed(orders[o], 3);
        CHECK_EQ_U64(s.requests, 2);
        /* request 7 is file 1's (3 tokens from 1300: TTFT 1.2 us, TPOT 0.1 us), request 8
         * file 0's (1 token: TTFT 0.4 us) */
        CHECK_EQ_U64(s.tokens, 4);
        CHECK_EQ_U64(s.with_ttft, 2);
        CHECK_EQ_U64(s.with_tpot, 1);
        CHECK(s.ttft_ms[0] > 0.00039 && s.ttft_ms[0] < 0.00041); /* p50 of {0.4, 1.2} us */
        CHECK(s.ttft_ms[2] > 0.00119 && s.ttft_ms[2] < 0.00121);
        CHECK(s.tpot_ms[0] > 0.000099 && s.tpot_ms[0] < 0.000101);
    }
    /* Prefix-cache hits: the tokens of every request's prompt found in the cache, over all. */
    struct pt_requests q;
    pt_requests_init(&q);
    static const char *const prefix[] = {"req 1 arrive", "req 1 prefix 10 40", "req 1 token",
                                         "req 2 arrive", "req 2 prefix 30 40", "req 2 token",
                                         "req 3 arrive", "req 3 token", "req 4 prefix 50 40",
                                         "req 5 prefix 1 2 3"};
    for (size_t i = 0; i < sizeof prefix / sizeof *prefix; i++)
        pt_requests_mark(&q, 0, prefix[i], strlen(prefix[i]), 10 * (i + 1));
    struct pt_request_stats p;
    CHECK(pt_requests_stats(&q, &p));
    CHECK_EQ_U64(p.with_prefix, 2);
    CHECK(p.kv_hit_rate == 0.5); /* 40 of 80; request 3 has no mark */
    CHECK_EQ_U64(q.bad_marks, 2);  /* more hits than prompt tokens; a third number */
    pt_requests_free(&q);
    printf("requests: a request marked by 3 files counts once, the earliest file's marks, in all 6 "
           "orders of the files\n");
    return 0;
}
