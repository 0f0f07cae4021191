/* Physical memory of the CUDA virtual memory API (cuMemCreate/cuMemRelease), which PyTorch's
 * expandable segments and vLLM's KV cache use: recorded as memory records with pool type
 * PT_POOL_VMM, from CUPTI's driver callbacks of those two functions. */
#ifndef PT_VMM_MEMORY_H
#define PT_VMM_MEMORY_H

#include <cupti.h>

/* A driver callback of cuMemCreate (at exit) or cuMemRelease (at entry); others are ignored. */
void pt_vmm_callback(CUpti_CallbackId cbid, const CUpti_CallbackData *cb);

#endif
