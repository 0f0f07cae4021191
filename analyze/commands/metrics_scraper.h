/* `partrace record --metrics URL[,URL...]`: a thread of the record command that scrapes the
 * servers' Prometheus endpoints while the job runs and writes the samples of the families the
 * report reads (format/server_metrics.h) into a trace file of its own in the run
 * (<host>-<pid>.metrics.ptrace; docs/FORMAT.md, "metric"). An endpoint that is not up yet, goes
 * away, hangs or answers something else costs one warning line (again only after it answered
 * in between), never the job. */
#ifndef PT_METRICS_SCRAPER_H
#define PT_METRICS_SCRAPER_H

#include <stddef.h>
#include <stdint.h>

struct pt_scraper;

/* Starts scraping the comma-separated urls every interval_ms. Returns NULL with the reason in
 * err when a URL is not http://HOST[:PORT][/PATH] or the file cannot be made. */
struct pt_scraper *pt_scraper_start(const char *urls, long interval_ms, const char *run_dir,
                                    char *err, size_t errlen);

/* Scrapes once more now and waits for that round (at most 12 s): the job is about to be
 * stopped, and its servers with it. */
void pt_scraper_scrape_now(struct pt_scraper *s);

/* Stops the thread after one last scrape (quiet when the endpoints are gone by then) and closes
 * the file. Returns the samples written. */
uint64_t pt_scraper_stop(struct pt_scraper *s);

#endif
