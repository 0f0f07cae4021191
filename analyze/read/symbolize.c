#include "read/symbolize.h"

#include <elf.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

struct sym {
    uint64_t value, size;
    const char *name; /* inside the mapped file */
};

struct module {
    uint64_t start, end, bias;
    char *path;
    int loaded;         /* symbols read (or tried) */
    void *map;          /* the ELF file, mapped */
    size_t map_len;
    struct sym *syms;   /* functions by address */
    size_t n_syms;
};

struct pt_symbolizer {
    struct module *mods;
    size_t n, cap;
};

struct pt_symbolizer *pt_symbolizer_new(void)
{
    return calloc(1, sizeof(struct pt_symbolizer));
}

void pt_symbolizer_free(struct pt_symbolizer *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++) {
        free(s->mods[i].path);
        free(s->mods[i].syms);
        if (s->mods[i].map)
            munmap(s->mods[i].map, s->mods[i].map_len);
    }
    free(s->mods);
    free(s);
}

void pt_symbolizer_add_module(struct pt_symbolizer *s, const struct pt_rec_module *m)
{
    size_t n = m->hdr.size - sizeof *m;
    for (size_t i = 0; i < s->n; i++)
        if (s->mods[i].start == m->start && s->mods[i].end == m->end)
            return; /* the writer re-sends all objects when any changed */
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        struct module *p = realloc(s->mods, cap * sizeof *p);
        if (!p)
            return;
        s->mods = p;
        s->cap = cap;
    }
    struct module *mod = &s->mods[s->n];
    memset(mod, 0, sizeof *mod);
    mod->path = strndup(m->path, n);
    if (!mod->path)
        return;
    mod->start = m->start;
    mod->end = m->end;
    mod->bias = m->load_bias;
    s->n++;
}

static int by_value(const void *a, const void *b)
{
    const struct sym *x = a, *y = b;
    return x->value < y->value ? -1 : x->value > y->value;
}

/* Reads the function symbols of a 64-bit ELF file, checking every offset against the file. */
static void load_symbols(struct module *m)
{
    m->loaded = 1;
    /* The path comes from the trace: it may name a FIFO or a device, which must not block us
     * or be mapped. Only a regular file is read. */
    int fd = open(m->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    struct stat st;
    if (fd < 0)
        return;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < (off_t)sizeof(Elf64_Ehdr)) {
        close(fd);
        return;
    }
    void *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED)
        return;
    m->map = map;
    m->map_len = (size_t)st.st_size;
    const unsigned char *base = map;
    const Elf64_Ehdr *eh = map;
    if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
        eh->e_shoff == 0 || eh->e_shentsize != sizeof(Elf64_Shdr) ||
        eh->e_shoff + (uint64_t)eh->e_shnum * sizeof(Elf64_Shdr) > m->map_len)
        return;
    const Elf64_Shdr *sh = (const void *)(base + eh->e_shoff);
    /* .symtab when the object was not stripped, else .dynsym. */
    static const Elf64_Word kinds[] = {SHT_SYMTAB, SHT_DYNSYM};
    for (size_t k_i = 0; k_i < 2 && !m->n_syms; k_i++) {
        const Elf64_Word want = kinds[k_i];
        for (int i = 0; i < eh->e_shnum; i++) {
            if (sh[i].sh_type != want || sh[i].sh_link >= eh->e_shnum)
                continue;
            const Elf64_Shdr *strs = &sh[sh[i].sh_link];
            if (sh[i].sh_offset + sh[i].sh_size > m->map_len ||
                strs->sh_offset + strs->sh_size > m->map_len || sh[i].sh_entsize != sizeof(Elf64_Sym))
                continue;
            size_t count = sh[i].sh_size / sizeof(Elf64_Sym);
            const Elf64_Sym *syms = (const void *)(base + sh[i].sh_offset);
            struct sym *out = malloc((count ? count : 1) * sizeof *out);
            if (!out)
                return;
            size_t n = 0;
            for (size_t k = 0; k < count; k++) {
                if (ELF64_ST_TYPE(syms[k].st_info) != STT_FUNC || !syms[k].st_value ||
                    syms[k].st_name >= strs->sh_size)
                    continue;
                const char *name = (const char *)base + strs->sh_offset + syms[k].st_name;
                if (!memchr(name, '\0', strs->sh_size - syms[k].st_name))
                    continue;
                out[n++] = (struct sym){syms[k].st_value, syms[k].st_size, name};
            }
            qsort(out, n, sizeof *out, by_value);
            m->syms = out;
            m->n_syms = n;
            break;
        }
    }
}

void pt_symbolize(struct pt_symbolizer *s, uint64_t pc, char *out, size_t cap)
{
    struct module *m = NULL;
    for (size_t i = 0; i < s->n && !m; i++)
        if (pc >= s->mods[i].start && pc < s->mods[i].end)
            m = &s->mods[i];
    if (!m) {
        snprintf(out, cap, "0x%llx", (unsigned long long)pc);
        return;
    }
    const char *obj = strrchr(m->path, '/') ? strrchr(m->path, '/') + 1 : m->path;
    uint64_t addr = pc - m->bias;
    if (!m->loaded)
        load_symbols(m);
    /* A return address points past the call: look up the byte before it. */
    size_t lo = 0, hi = m->n_syms;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (m->syms[mid].value <= addr - 1)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo > 0) {
        const struct sym *f = &m->syms[lo - 1];
        if (addr - 1 < f->value + (f->size ? f->size : 1u << 20)) {
            snprintf(out, cap, "%s+0x%llx (%s)", f->name, (unsigned long long)(addr - f->value), obj);
            return;
        }
    }
    snprintf(out, cap, "%s+0x%llx", obj, (unsigned long long)addr);
}
