/* libFuzzer: fuzz bytes as the records of a trace file (every record kind, any size and
 * content; as they are, or packed as format 2.x or 3.x writes them), or (first byte odd) as a whole
 * file; partrace report (as text, JSON, Markdown or an HTML page) or one of the exporters
 * reads it, the first byte chooses.
 * Nothing may crash, hang or leak; bad input only ends in messages (scripts/fuzz.sh runs it with
 * -close_fd_mask=2: those messages are by design). */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "commands/cli.h"
#include "outputs/output.h"
#include "fuzz_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!size)
        return 0;
    struct pt_fuzz_file f = {-1, ""};
    /* Bit 0: raw file; bits 1-2: which reader (one per input: faster); bits 3-4: the report's
     * output; bit 5: the records are packed, as format 3.x packs them or (bit 6) as 2.x. */
    int raw = data[0] & 1, what = (data[0] >> 1) % 3, format = (data[0] >> 3) % 4;
    unsigned major = !(data[0] >> 5 & 1) ? PT_VERSION_MAJOR_PLAIN
                     : data[0] >> 6 & 1  ? PT_VERSION_MAJOR_ONE_BASE
                                         : PT_VERSION_MAJOR;
    if ((raw ? pt_fuzz_file_raw(&f, data + 1, size - 1)
             : pt_fuzz_file_records(&f, data + 1, size - 1, major)) == 0) {
        struct pt_output_opts e = {.run = f.path, .out = "/dev/null", .force = 1,
                                   .window = {.from_s = 0, .to_s = -1}};
        struct pt_export_stats st;
        static char name[] = "report", json[] = "--json", md[] = "--markdown", html[] = "--html",
                    null[] = "/dev/null";
        char *argv[][4] = {{name, f.path}, {name, json, f.path}, {name, md, f.path},
                           {name, html, null, f.path}};
        static const int argc[] = {2, 3, 3, 4};
        if (what == 0)
            cmd_report(argc[format], argv[format]);
        else if (what == 1)
            pt_output_perfetto.trace(&e, &st);
        else if (what == 2)
            pt_output_chrome.trace(&e, &st);
    }
    pt_fuzz_file_close(&f);
    return 0;
}
