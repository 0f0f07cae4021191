/* libFuzzer: fuzz bytes as a Perfetto trace for partrace check. */
#include <stdint.h>
#include <stdio.h>

#include "fuzz_input.h"
#include "outputs/perfetto_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static FILE *sink;
    if (!sink)
        sink = fopen("/dev/null", "w");
    struct pt_fuzz_file f = {-1, ""};
    if (pt_fuzz_file_raw(&f, data, size) == 0) {
        struct pt_check_stats st;
        pt_perfetto_check(f.path, sink, &st);
    }
    pt_fuzz_file_close(&f);
    return 0;
}
