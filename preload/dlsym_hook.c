/* Our dlsym: programs that bind NCCL through dlopen + dlsym (ctypes, as vLLM's and SGLang's
 * pynccl do) never reach a plain preloaded definition, so lookups of NCCL names on a library
 * handle are answered with our wrapper.
 *
 * RTLD_NEXT and RTLD_DEFAULT lookups depend on which object calls dlsym (glibc reads the
 * return address). They must reach glibc as if we were not there, so dlsym is a small
 * assembly trampoline that tail-jumps to the real dlsym for those two handles, keeping the
 * caller's return address, and calls the C hook only for real library handles. */
#include <dlfcn.h>
#include <stddef.h>
#include <string.h>

#include "preload/libc_real.h"
#include "preload/nccl_resolve.h"
#include "preload/runtime.h"

__attribute__((visibility("hidden"))) void *pt_dlsym_hook(void *handle, const char *name)
{
    void *p = pt_real_dlsym(handle, name);
    if (!p || !name || strncmp(name, "nccl", 4) != 0 || atomic_load(&pt_state) == PT_OFF)
        return p;
    return pt_nccl_offer(name, p);
}

#if defined(__x86_64__)
__asm__(".text\n"
        ".globl dlsym\n"
        ".type dlsym, @function\n"
        "dlsym:\n"
        "    cmpq $-1, %rdi\n"             /* RTLD_NEXT */
        "    je 1f\n"
        "    testq %rdi, %rdi\n"           /* RTLD_DEFAULT */
        "    je 1f\n"
        "    jmp pt_dlsym_hook\n"
        "1:  movq pt_dlsym_real_ptr(%rip), %rax\n"
        "    testq %rax, %rax\n"
        "    je 2f\n"
        "    jmp *%rax\n"
        "2:  pushq %rdi\n"                 /* first use: resolve, keeping the arguments */
        "    pushq %rsi\n"
        "    subq $8, %rsp\n"
        "    call pt_dlsym_resolve_real\n"
        "    addq $8, %rsp\n"
        "    popq %rsi\n"
        "    popq %rdi\n"
        "    jmp *%rax\n"
        ".size dlsym, .-dlsym\n");
#else
/* Elsewhere the special handles are forwarded from here; RTLD_NEXT then resolves relative to
 * libpartrace.so instead of the caller (documented limitation). */
__attribute__((visibility("default"))) void *dlsym(void *handle, const char *name)
{
    if (handle == RTLD_NEXT || handle == RTLD_DEFAULT)
        return pt_real_dlsym(handle, name);
    return pt_dlsym_hook(handle, name);
}
#endif
