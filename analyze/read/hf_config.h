/* A model's shapes from its Hugging Face `config.json`: the numbers `partrace whatif` needs to
 * split the model over GPUs (docs/WHATIF.md, "The model's shapes"). Only top-level keys are
 * read, and those of a "text_config" object, which multimodal models keep their decoder's in. */
#ifndef PT_HF_CONFIG_H
#define PT_HF_CONFIG_H

#include <stddef.h>
#include <stdint.h>

struct pt_model_shape {
    uint32_t layers, hidden, heads, kv_heads, head_dim;
    uint32_t intermediate;          /* dense MLP width (0 for an MoE model's layers) */
    uint32_t experts, top_k;        /* 0 experts: dense */
    uint32_t expert_intermediate;   /* one expert's width */
    uint32_t vocab;
    uint32_t dtype_bytes;           /* of the weights: 2 for bf16/fp16, 4 for fp32, 1 for fp8 */
};

/* Reads path. Returns 0, or -1 with one line in err naming the file and what is wrong (not
 * JSON, a key missing or not a positive whole number). */
int pt_hf_config_read(const char *path, struct pt_model_shape *s, char *err, size_t errlen);
/* The same from text in memory (name is what messages call it). */
int pt_hf_config_parse(const char *text, size_t len, const char *name, struct pt_model_shape *s,
                       char *err, size_t errlen);

/* Parameters per layer (attention and MLP, all experts) and outside the layers (embedding and
 * output head, counted twice unless tied: the config's tie_word_embeddings is not read, so
 * both are counted). */
double pt_model_layer_params(const struct pt_model_shape *s);
double pt_model_other_params(const struct pt_model_shape *s);

#endif
