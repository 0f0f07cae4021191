/* Which kernels are communication, by name: NCCL's own, and those of custom all-reduce,
 * symmetric memory, DeepEP, pplx, TensorRT-LLM. Users add their own with
 * PARTRACE_COMM_KERNELS="substring=class,substring=class". */
#ifndef PT_KERNEL_CLASS_H
#define PT_KERNEL_CLASS_H

/* The communication class of a kernel name ("nccl", "custom_allreduce", ...), or NULL. */
const char *pt_kernel_comm_class(const char *name);
/* The role ("TP", "EP") of a class's kernels that run outside NCCL, NULL when the class has none
 * of its own ("nccl", whose calls' communicators say, and classes users named). A user entry
 * that names a built-in class ("myreduce=custom_allreduce") takes that class's role. */
const char *pt_comm_class_role(const char *cls);

#endif
