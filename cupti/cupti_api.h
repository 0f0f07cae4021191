/* CUPTI, loaded at run time (never linked): the application's own copy when it has one
 * (RTLD_NOLOAD), else the one beside its libcudart, else the CUDA toolkit's. The prototypes come
 * from CUPTI's headers; the functions from the library found. */
#ifndef PT_CUPTI_API_H
#define PT_CUPTI_API_H

#include <cupti.h>

#define PT_CUPTI_FUNCS(X)                                                                       \
    X(cuptiSubscribe) X(cuptiUnsubscribe) X(cuptiEnableCallback) X(cuptiActivityEnable)         \
    X(cuptiActivityDisable) X(cuptiActivityRegisterCallbacks)                                   \
    X(cuptiActivityRegisterTimestampCallback) X(cuptiActivityFlushAll)                          \
    X(cuptiActivityGetNextRecord) X(cuptiActivityPushExternalCorrelationId)                     \
    X(cuptiActivityPopExternalCorrelationId) X(cuptiGetGraphNodeId) X(cuptiGetGraphId)          \
    X(cuptiGetDeviceId) X(cuptiGetResultString) X(cuptiGetCallbackName)        \
    X(cuptiGetStreamIdEx) X(cuptiGetContextId) X(cuptiActivitySetAttribute)

struct pt_cupti_api {
#define PT_X(name) __typeof__(&name) name;
    PT_CUPTI_FUNCS(PT_X)
#undef PT_X
    char path[512];
};

extern struct pt_cupti_api pt_cupti;

/* Finds and binds CUPTI. Returns 0, or -1 with the reason in why. */
int pt_cupti_load(char *why, size_t why_len);

#endif
