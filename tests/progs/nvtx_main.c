/* NVTX as an inference engine uses it: request ranges (start/end; the second starts before the
 * first ends), prefill and decode phases (push/pop, one in a named domain, one with a
 * registered string), a mark, with an NCCL call inside each phase. NVTX here is the header-only nvtx3 from the CUDA toolkit.
 * `nvtx_main TEXT`: one more phase, named TEXT, around one more call (hostile names in tests). */
#include <nccl.h>
#include <nvtx3/nvToolsExt.h>
#include <stdio.h>

int main(int argc, char **argv)
{
    ncclUniqueId id;
    ncclComm_t comm;
    static float buf[64];
    if (ncclGetUniqueId(&id) || ncclCommInitRank(&comm, 1, id, 0))
        return 1;
    nvtxRangeId_t request = nvtxRangeStartA("request 7");
    nvtxRangePushA("prefill");
    ncclAllReduce(buf, buf, 64, ncclFloat32, ncclSum, comm, NULL);
    nvtxRangePop();
    nvtxMarkA("first token");
    nvtxRangeId_t next = nvtxRangeStartA("request 8");
    nvtxDomainHandle_t engine = nvtxDomainCreateA("engine");
    nvtxStringHandle_t decode = nvtxDomainRegisterStringA(engine, "decode");
    nvtxEventAttributes_t attr = {0};
    attr.version = NVTX_VERSION;
    attr.size = NVTX_EVENT_ATTRIB_STRUCT_SIZE;
    attr.colorType = NVTX_COLOR_ARGB;
    attr.color = 0xff00ff00;
    attr.messageType = NVTX_MESSAGE_TYPE_REGISTERED;
    attr.message.registered = decode;
    nvtxDomainRangePushEx(engine, &attr);
    ncclAllReduce(buf, buf, 64, ncclFloat32, ncclSum, comm, NULL);
    nvtxDomainRangePop(engine);
    nvtxRangeEnd(request);
    nvtxRangeEnd(next);
    if (argc > 1) {
        nvtxRangePushA(argv[1]);
        ncclAllReduce(buf, buf, 64, ncclFloat32, ncclSum, comm, NULL);
        nvtxRangePop();
    }
    return ncclCommDestroy(comm) != ncclSuccess;
}
