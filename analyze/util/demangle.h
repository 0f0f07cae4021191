/* Readable kernel names: the qualified function name at the front of an Itanium-mangled name
 * (`_Z40ncclDevKernel_AllReduce_Sum_bf16_RING_LL24ncclDevKernelArgs…` →
 * `ncclDevKernel_AllReduce_Sum_bf16_RING_LL`, `_ZN2at6native18elementwise_kernelILi128E…` →
 * `at::native::elementwise_kernel`), without argument or template lists. Names that are not
 * mangled, or not in a form this understands, come back as they are. */
#ifndef PT_DEMANGLE_H
#define PT_DEMANGLE_H

#include <stddef.h>

/* Writes the readable name into out (cap bytes) and returns out. */
const char *pt_demangle_name(const char *name, char *out, size_t cap);

#endif
