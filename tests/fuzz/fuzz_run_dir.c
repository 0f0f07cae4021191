/* libFuzzer: fuzz bytes as a whole run directory of several files, some bad, as a crash or a
 * hostile user leaves one: the input is cut at each "PTFZ" into up to 8 entries, each one's first
 * byte choosing what it becomes: a trace file of its bytes as they are, or of its bytes as the
 * records of one valid frame (plain, or packed as 2.x or 3.x writes them), an empty file, a
 * directory, a dangling link or a FIFO, all named *.ptrace. The input's first byte chooses the
 * reader: partrace report (text, JSON), info, dump, or an exporter.
 * Nothing may crash, hang or leak; bad entries only end in one warning line. */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <partrace/format.h>

#include "commands/cli.h"
#include "outputs/output.h"
#include "fuzz_input.h"

#define MAX_ENTRIES 8

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[] = "/tmp/pt-fuzz-run-XXXXXX";

/* Empties the run directory (made once per process). */
static int reset_dir(void)
{
    static int made;
    if (!made) {
        if (!mkdtemp(dir))
            return -1;
        made = 1;
    }
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    struct dirent *e;
    char path[512];
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (unlink(path) != 0)
            rmdir(path);
    }
    closedir(d);
    return 0;
}

/* Entry i from bytes p[0..n): p[0] says what it becomes. */
static void make_entry(int i, const uint8_t *p, size_t n)
{
    char path[512];
    snprintf(path, sizeof path, "%s/e%d%s", dir, i, PT_FILE_SUFFIX);
    unsigned how = n ? p[0] % 8 : 0;
    const uint8_t *body = n ? p + 1 : p;
    size_t len = n ? n - 1 : 0;
    static const unsigned majors[] = {PT_VERSION_MAJOR_PLAIN, PT_VERSION_MAJOR_ONE_BASE,
                                      PT_VERSION_MAJOR};
    if (how == 5) {
        mkdir(path, 0700);
        return;
    }
    if (how == 6) {
        (void)!symlink("/nonexistent/partrace-fuzz", path);
        return;
    }
    if (how == 7) {
        mkfifo(path, 0600);
        return;
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return;
    if (how == 0)
        pt_fuzz_write_raw(fd, body, len);
    else if (how <= 3)
        pt_fuzz_write_records(fd, body, len, majors[how - 1]);
    /* how 4: left empty, as a process killed before its header leaves it */
    close(fd);
}

static const uint8_t *find_cut(const uint8_t *p, const uint8_t *end)
{
    for (; p + 4 <= end; p++)
        if (!memcmp(p, "PTFZ", 4))
            return p;
    return end;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!size || reset_dir() != 0)
        return 0;
    const uint8_t *p = data + 1, *end = data + size;
    for (int i = 0; i < MAX_ENTRIES && p <= end; i++) {
        const uint8_t *cut = find_cut(p, end);
        make_entry(i, p, (size_t)(cut - p));
        p = cut + 4;
    }
    static char report[] = "report", info[] = "info", dump[] = "dump", json[] = "--json";
    char *argv[4] = {NULL, NULL, NULL, NULL};
    struct pt_output_opts e = {.run = dir, .out = "/dev/null", .force = 1,
                               .window = {.from_s = 0, .to_s = -1}};
    struct pt_export_stats st;
    switch (data[0] % 6) {
    case 0: argv[0] = report, argv[1] = dir; cmd_report(2, argv); break;
    case 1: argv[0] = report, argv[1] = json, argv[2] = dir; cmd_report(3, argv); break;
    case 2: argv[0] = info, argv[1] = dir; cmd_info(2, argv); break;
    case 3: argv[0] = dump, argv[1] = json, argv[2] = dir; cmd_dump(3, argv); break;
    case 4: pt_output_perfetto.trace(&e, &st); break;
    case 5: pt_output_chrome.trace(&e, &st); break;
    }
    return 0;
}
