/* PARTRACE_METRICS_URL: the servers' Prometheus endpoints scraped from inside a traced job
 * started without `partrace record` (plain LD_PRELOAD), one scraper per run: the first traced
 * process to start recording claims the run directory's `.metrics-scraper` file and scrapes
 * from a thread of its own (all signals blocked), every PARTRACE_METRICS_INTERVAL_MS, into its
 * own trace file as metric records (docs/FORMAT.md, "metric"). What it keeps and how it fails
 * are as for `partrace record --metrics`: one warning line per endpoint, never the job. */
#ifndef PT_METRICS_SCRAPE_H
#define PT_METRICS_SCRAPE_H

/* Called once recording started; starts the thread when PARTRACE_METRICS_URL is set. */
void pt_metrics_scrape_start(void);

#endif
