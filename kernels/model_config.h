/* The engine's model: a decoder-only transformer (RMSNorm, RoPE, grouped-query attention,
 * SwiGLU MLP, optionally MoE layers of E experts with a top-k router), its shapes from a named
 * preset, and its weights drawn from a seed (nothing is downloaded). */
#ifndef PT_MODEL_CONFIG_H
#define PT_MODEL_CONFIG_H

#include <stdint.h>
#include <stdio.h>

struct pt_model_config {
    char name[32];
    uint32_t vocab, d_model, n_layers;
    uint32_t n_heads, n_kv_heads, head_dim;
    uint32_t d_ff;              /* dense MLP width */
    uint32_t n_experts, top_k;  /* 0 experts: a dense model; else every layer's MLP is MoE */
    uint32_t expert_d_ff;       /* one expert's MLP width */
    float rope_theta, norm_eps;
    uint64_t seed;              /* weights */
};

/* Fills c with a preset: tiny, small, 8b (Llama-3-8B's shapes), moe-tiny, moe-small.
 * Returns 0, -1 for an unknown name. */
int pt_model_preset(const char *name, struct pt_model_config *c);
/* The preset names, comma-separated, for messages. */
const char *pt_model_presets(void);
/* Parameters of the whole model (all experts). */
uint64_t pt_model_params(const struct pt_model_config *c);
/* Writes the preset as a Hugging Face config.json (the keys `partrace whatif --model-config`
 * reads): returns 0, -1 when the write failed. */
int pt_model_config_json(const struct pt_model_config *c, FILE *out);

#endif
