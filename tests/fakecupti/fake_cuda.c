/* A test double of the CUDA driver (libcuda.so.1) for CPU-only machines: only the entry points
 * partrace looks up in an already-loaded driver — a kernel graph node's function and its name
 * (how a graph node is known to be a NCCL kernel), and a device's identity. The test CUPTI
 * knows which kernel each fake graph node runs; it is asked through fake_cupti_node_name. */
#include <cuda.h>
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

typedef const char *(*node_name_fn)(uint64_t node);

static const char *name_of_node(uint64_t node)
{
    node_name_fn f = (node_name_fn)dlsym(RTLD_DEFAULT, "fake_cupti_node_name");
    return f ? f(node) : NULL;
}

/* The node's function is the node itself; its name comes from the test CUPTI. */
CUresult cuGraphKernelNodeGetParams_v2(CUgraphNode node, CUDA_KERNEL_NODE_PARAMS *p)
{
    if (!p || !name_of_node((uint64_t)(uintptr_t)node))
        return CUDA_ERROR_INVALID_VALUE;
    memset(p, 0, sizeof *p);
    p->func = (CUfunction)node;
    return CUDA_SUCCESS;
}

CUresult cuFuncGetName(const char **name, CUfunction f)
{
    const char *n = name_of_node((uint64_t)(uintptr_t)f);
    if (!name || !n)
        return CUDA_ERROR_INVALID_VALUE;
    *name = n;
    return CUDA_SUCCESS;
}

CUresult cuDeviceGet(CUdevice *d, int ordinal)
{
    *d = ordinal;
    return CUDA_SUCCESS;
}

CUresult cuDeviceGetName(char *name, int len, CUdevice d)
{
    snprintf(name, (size_t)len, "Fake GPU %d", d);
    return CUDA_SUCCESS;
}

CUresult cuDeviceTotalMem_v2(size_t *bytes, CUdevice d)
{
    (void)d;
    *bytes = (size_t)80 << 30;
    return CUDA_SUCCESS;
}
