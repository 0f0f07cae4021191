/* Printable names for the codes stored in traces (expanded from format.h's tables). */
#ifndef PT_NAMES_H
#define PT_NAMES_H

#include <stdint.h>

const char *pt_kind_name(uint16_t kind);     /* "nccl", "comm_init", ... or "unknown" */
const char *pt_op_name(uint16_t op);         /* "AllReduce", ... or "unknown" */
const char *pt_dtype_name(uint8_t dtype);    /* "float32", ..., "none" */
const char *pt_redop_name(uint8_t redop);    /* "sum", ..., "custom", "none" */
const char *pt_attr_name(uint32_t attr);
const char *pt_comm_how_name(uint16_t how);
const char *pt_flush_reason_name(uint32_t reason);
const char *pt_end_how_name(uint32_t how);
const char *pt_copy_kind_name(uint8_t kind);      /* CUPTI memcpy kind: "HtoD", "DtoD", "PtoP"... */
const char *pt_memory_kind_name(uint8_t kind);    /* CUPTI memory kind: "device", "pinned"... */
const char *pt_sync_type_name(uint32_t type);
const char *pt_pool_type_name(uint8_t type);      /* "none", "local", "imported", "vmm" */
const char *pt_nvtx_event_name(uint16_t event);   /* "push", "pop", "start", "end", "mark" */
const char *pt_cuda_state_name(uint32_t state);   /* "active", "no CUPTI", ... */
const char *pt_cuda_level_name(uint32_t level);   /* "off", "kernels", "launches" */
const char *pt_metric_type_name(uint8_t type);    /* "untyped", "counter", "gauge", ... */

#endif
