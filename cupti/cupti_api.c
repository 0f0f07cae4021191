#include "cupti/cupti_api.h"

#include <dlfcn.h>
#include <link.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "preload/config.h"

struct pt_cupti_api pt_cupti;

static const char *const sonames[] = {"libcupti.so.13", "libcupti.so.12", "libcupti.so"};

struct cudart_dir {
    char dir[PATH_MAX];
};

static int find_cudart(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    struct cudart_dir *d = arg;
    const char *name = info->dlpi_name ? info->dlpi_name : "";
    const char *slash = strrchr(name, '/');
    if (!slash || strncmp(slash + 1, "libcudart.so", 12) != 0 ||
        (size_t)(slash - name) >= sizeof d->dir)
        return 0;
    memcpy(d->dir, name, (size_t)(slash - name));
    d->dir[slash - name] = '\0';
    return 1;
}

static void *open_in(const char *dir)
{
    char path[PATH_MAX + 32];
    for (size_t i = 0; i < sizeof sonames / sizeof *sonames; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, sonames[i]);
        void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
        if (h)
            return h;
    }
    return NULL;
}

static void *find_library(void)
{
    const char *explicit_path = pt_cfg.cupti_lib;
    if (*explicit_path)
        return dlopen(explicit_path, RTLD_NOW | RTLD_LOCAL); /* this one or none */
    for (size_t i = 0; i < sizeof sonames / sizeof *sonames; i++) {
        void *h = dlopen(sonames[i], RTLD_NOW | RTLD_NOLOAD);
        if (h)
            return h;
    }
    struct cudart_dir d = {{0}};
    void *h = NULL;
    if (dl_iterate_phdr(find_cudart, &d) && (h = open_in(d.dir)))
        return h;
    const char *home = getenv("CUDA_HOME");
    const char *dirs[] = {home, "/usr/local/cuda/lib64", "/usr/local/cuda/targets/x86_64-linux/lib",
                          "/usr/local/cuda/extras/CUPTI/lib64"};
    for (size_t i = 0; i < sizeof dirs / sizeof *dirs; i++) {
        char dir[PATH_MAX];
        if (!dirs[i])
            continue;
        snprintf(dir, sizeof dir, "%s%s", dirs[i], i == 0 ? "/lib64" : "");
        if ((h = open_in(dir)))
            return h;
    }
    for (size_t i = 0; i < sizeof sonames / sizeof *sonames; i++)
        if ((h = dlopen(sonames[i], RTLD_NOW | RTLD_LOCAL)))
            return h;
    return NULL;
}

int pt_cupti_load(char *why, size_t why_len)
{
    void *h = find_library();
    if (!h) {
        snprintf(why, why_len, "no CUPTI library found (set PARTRACE_CUPTI_LIB)");
        return -1;
    }
    struct link_map *map = NULL;
    if (dlinfo(h, RTLD_DI_LINKMAP, &map) == 0 && map && map->l_name)
        snprintf(pt_cupti.path, sizeof pt_cupti.path, "%s", map->l_name);
#define PT_X(name)                                                                  \
    if (!(pt_cupti.name = (__typeof__(&name))dlsym(h, #name))) {                    \
        snprintf(why, why_len, "CUPTI at %s lacks %s", pt_cupti.path, #name);       \
        return -1;                                                                  \
    }
    PT_CUPTI_FUNCS(PT_X)
#undef PT_X
    return 0;
}
