/* libFuzzer target: a model's config.json as `partrace whatif --model-config` reads it
 * (read/hf_config.c), on fuzzed text: any input gives shapes or one error line, never a crash. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "read/hf_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct pt_model_shape s;
    char err[256];
    if (pt_hf_config_parse((const char *)data, size, "fuzz", &s, err, sizeof err) == 0) {
        /* what whatif computes from the shapes */
        (void)pt_model_layer_params(&s);
        (void)pt_model_other_params(&s);
    } else if (!memchr(err, 0, sizeof err)) {
        __builtin_trap();
    }
    return 0;
}
