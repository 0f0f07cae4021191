/* libFuzzer: fuzz bytes as the records of a trace file (every record kind, any size and
 * content), or (first byte odd) as a whole file; partrace report or one of the exporters (the
 * first byte chooses) reads it.
 * Nothing may crash, hang or leak; bad input only ends in messages (scripts/fuzz.sh runs it with
 * -close_fd_mask=2: those messages are by design). */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "export_chrome.h"
#include "export_perfetto.h"
#include "fuzz_input.h"
#include "report_build.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!size)
        return 0;
    struct pt_fuzz_file f = {-1, ""};
    int raw = data[0] & 1, what = (data[0] >> 1) % 3; /* one reader of three per input: faster */
    if ((raw ? pt_fuzz_file_raw(&f, data + 1, size - 1) : pt_fuzz_file_records(&f, data + 1, size - 1)) == 0) {
        struct pt_report r;
        struct pt_report_opts o = {.window = {.from_s = 0, .to_s = -1}, .quiet = 1};
        struct pt_export_opts e = {.run = f.path, .out = "/dev/null", .force = 1,
                                   .window = {.from_s = 0, .to_s = -1}};
        struct pt_export_stats st;
        if (what == 0 && pt_report_build(f.path, &o, &r) == 0)
            pt_report_free(&r);
        else if (what == 1)
            pt_export_perfetto(&e, &st);
        else if (what == 2)
            pt_export_chrome(&e, &st);
    }
    pt_fuzz_file_close(&f);
    return 0;
}
