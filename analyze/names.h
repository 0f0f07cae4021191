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

#endif
