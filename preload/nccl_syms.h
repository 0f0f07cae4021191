/* Every NCCL entry point partrace wraps, once. X(name) is the name without the "nccl" prefix.
 * Expanded into the resolver's slots and the dlsym hook's table. */
#ifndef PT_NCCL_SYMS_H
#define PT_NCCL_SYMS_H

#define PT_NCCL_SYMS(X)                                                                  \
    X(AllReduce) X(Broadcast) X(Bcast) X(Reduce) X(AllGather) X(ReduceScatter) X(AlltoAll) \
    X(Gather) X(Scatter) X(Send) X(Recv) X(GroupStart) X(GroupEnd) X(GroupSimulateEnd)   \
    X(CommInitRank) X(CommInitRankConfig) X(CommInitAll) X(CommInitRankScalable)         \
    X(CommSplit) X(CommShrink) X(CommFinalize) X(CommDestroy) X(CommAbort) X(CommRevoke)  \
    X(CommCount) X(CommCuDevice) X(CommUserRank) X(CommRegister) X(CommDeregister)       \
    X(CommWindowRegister) X(CommWindowDeregister) X(MemAlloc) X(MemFree)

enum pt_nccl_sym {
#define PT_X(name) PT_SYM_##name,
    PT_NCCL_SYMS(PT_X)
#undef PT_X
    PT_SYM_COUNT
};

#endif
