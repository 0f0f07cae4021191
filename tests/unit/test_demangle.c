/* Kernel names as the exports show them: the function's qualified name from a mangled name. */
#include <string.h>

#include "check.h"
#include "util/demangle.h"

static void expect(const char *mangled, const char *want)
{
    char out[256];
    const char *got = pt_demangle_name(mangled, out, sizeof out);
    if (strcmp(got, want) != 0) {
        fprintf(stderr, "pt_demangle_name(\"%s\") = \"%s\", expected \"%s\"\n", mangled, got, want);
        exit(1);
    }
}

int main(void)
{
    expect("_Z40ncclDevKernel_AllReduce_Sum_bf16_RING_LL24ncclDevKernelArgsStorageILm4096EE",
           "ncclDevKernel_AllReduce_Sum_bf16_RING_LL");
    expect("_ZN2at6native29vectorized_elementwise_kernelILi8EZNS0_23gelu_kernel_implEvEEvi",
           "at::native::vectorized_elementwise_kernel");
    expect("_ZNK3foo3barEv", "foo::bar");
    /* Not mangled, or not understood: as it is. */
    expect("nvjet_sm90_tst_128x64_64x8_1x2_h_bz_NNT", "nvjet_sm90_tst_128x64_64x8_1x2_h_bz_NNT");
    expect("_Z", "_Z");
    expect("_Z99short", "_Z99short");
    expect("_ZNE", "_ZNE");
    expect("", "");
    /* A small buffer cuts, never overflows. */
    char small[10];
    pt_demangle_name("_Z40ncclDevKernel_AllReduce_Sum_bf16_RING_LL", small, sizeof small);
    CHECK(strcmp(small, "ncclDevKe") == 0);
    return 0;
}
