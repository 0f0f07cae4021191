#include "outputs/output.h"

#include <string.h>

static const struct pt_output *const outputs[] = {
    &pt_output_text, &pt_output_markdown, &pt_output_json,
    &pt_output_html, &pt_output_perfetto, &pt_output_chrome,
};

const struct pt_output *pt_output_find(const char *name)
{
    for (size_t i = 0; i < sizeof outputs / sizeof *outputs; i++)
        if (!strcmp(outputs[i]->name, name))
            return outputs[i];
    return NULL;
}
