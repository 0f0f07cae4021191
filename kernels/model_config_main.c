/* pt_model_config PRESET: the engine's model preset as a Hugging Face config.json on standard
 * output, for `partrace whatif --model-config` (built everywhere: no GPU needed). */
#include <stdio.h>
#include <string.h>

#include "model_config.h"

int main(int argc, char **argv)
{
    struct pt_model_config c;
    if (argc != 2 || !strcmp(argv[1], "--help")) {
        fprintf(argc == 2 ? stdout : stderr, "usage: pt_model_config PRESET   (%s)\n", pt_model_presets());
        return argc == 2 ? 0 : 2;
    }
    if (pt_model_preset(argv[1], &c) != 0) {
        fprintf(stderr, "pt_model_config: no preset '%s' (%s)\n", argv[1], pt_model_presets());
        return 2;
    }
    return pt_model_config_json(&c, stdout) || fflush(stdout) ? 1 : 0;
}
