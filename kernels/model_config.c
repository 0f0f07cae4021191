#include "model_config.h"

#include <stdio.h>
#include <string.h>

static const struct pt_model_config presets[] = {
    /* name        vocab  d_model layers heads kv  hdim  d_ff  E  k  e_ff  theta     eps */
    {"tiny",       512,    256,   4,     8,    4,  32,   512,  0, 0, 0,    10000.f,  1e-5f, 1},
    {"small",      32000,  1024,  16,    16,   8,  64,   4096, 0, 0, 0,    500000.f, 1e-5f, 1},
    {"8b",         128256, 4096,  32,    32,   8,  128,  14336, 0, 0, 0,   500000.f, 1e-5f, 1},
    {"moe-tiny",   512,    256,   4,     8,    4,  32,   0,    8, 2, 256,  10000.f,  1e-5f, 1},
    {"moe-small",  32000,  1024,  16,    16,   8,  64,   0,    16, 2, 1024, 500000.f, 1e-5f, 1},
};

int pt_model_preset(const char *name, struct pt_model_config *c)
{
    for (size_t i = 0; i < sizeof presets / sizeof *presets; i++)
        if (strcmp(presets[i].name, name) == 0) {
            *c = presets[i];
            return 0;
        }
    return -1;
}

const char *pt_model_presets(void) { return "tiny, small, 8b, moe-tiny, moe-small"; }

uint64_t pt_model_params(const struct pt_model_config *c)
{
    uint64_t d = c->d_model, q = (uint64_t)c->n_heads * c->head_dim, kv = (uint64_t)c->n_kv_heads * c->head_dim;
    uint64_t attn = d * q + 2 * d * kv + q * d;
    uint64_t mlp = c->n_experts ? c->n_experts * 3 * d * c->expert_d_ff + d * c->n_experts : 3 * d * c->d_ff;
    return (uint64_t)c->vocab * d * 2 + c->n_layers * (attn + mlp + 2 * d) + d;
}

int pt_model_config_json(const struct pt_model_config *c, FILE *out)
{
    fprintf(out, "{\n  \"model_type\": \"%s\",\n  \"name_or_path\": \"pt_engine/%s\",\n",
            c->n_experts ? "mixtral" : "llama", c->name);
    fprintf(out, "  \"vocab_size\": %u,\n  \"hidden_size\": %u,\n  \"num_hidden_layers\": %u,\n"
                 "  \"num_attention_heads\": %u,\n  \"num_key_value_heads\": %u,\n  \"head_dim\": %u,\n",
            c->vocab, c->d_model, c->n_layers, c->n_heads, c->n_kv_heads, c->head_dim);
    if (c->n_experts)
        fprintf(out, "  \"intermediate_size\": %u,\n  \"num_local_experts\": %u,\n  \"num_experts_per_tok\": %u,\n",
                c->expert_d_ff, c->n_experts, c->top_k);
    else
        fprintf(out, "  \"intermediate_size\": %u,\n", c->d_ff);
    fprintf(out, "  \"rope_theta\": %.1f,\n  \"rms_norm_eps\": %g,\n  \"tie_word_embeddings\": false,\n"
                 "  \"torch_dtype\": \"bfloat16\"\n}\n",
            c->rope_theta, c->norm_eps);
    return ferror(out) ? -1 : 0;
}
