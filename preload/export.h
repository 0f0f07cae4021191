/* Symbols the host process sees. Everything else in libpartrace.so is hidden. */
#ifndef PT_EXPORT_H
#define PT_EXPORT_H
#define PT_EXPORT __attribute__((visibility("default")))
#endif
