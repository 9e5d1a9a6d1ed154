#include "chain_curl.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

static struct {
    CURLcode (*global_init)(long flags);
    CURL *(*easy_init)(void);
    void (*easy_cleanup)(CURL *);
    void (*easy_reset)(CURL *);
    CURLcode (*easy_perform)(CURL *);
    const char *(*easy_strerror)(CURLcode);
    CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
    CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
    struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
    void (*slist_free_all)(struct curl_slist *);
} curl;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int ready;
static char failure[512];

static int resolve(void *library, void **slot, const char *name) {
    *slot = dlsym(library, name);
    if (*slot == NULL) {
        snprintf(failure, sizeof failure, "libcurl.so.4 has no %s (libcurl too old?)", name);
        return 0;
    }
    return 1;
}

static void load(void) {
    void *library = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
    if (library == NULL) {
        const char *why = dlerror();
        snprintf(failure, sizeof failure, "cannot load libcurl.so.4 (install libcurl4): %s", why ? why : "unknown error");
        return;
    }
    if (!resolve(library, (void **)&curl.global_init, "curl_global_init")
        || !resolve(library, (void **)&curl.easy_init, "curl_easy_init")
        || !resolve(library, (void **)&curl.easy_cleanup, "curl_easy_cleanup")
        || !resolve(library, (void **)&curl.easy_reset, "curl_easy_reset")
        || !resolve(library, (void **)&curl.easy_perform, "curl_easy_perform")
        || !resolve(library, (void **)&curl.easy_strerror, "curl_easy_strerror")
        || !resolve(library, (void **)&curl.easy_setopt, "curl_easy_setopt")
        || !resolve(library, (void **)&curl.easy_getinfo, "curl_easy_getinfo")
        || !resolve(library, (void **)&curl.slist_append, "curl_slist_append")
        || !resolve(library, (void **)&curl.slist_free_all, "curl_slist_free_all")) {
        return;
    }
    CURLcode code = curl.global_init(CURL_GLOBAL_ALL);
    if (code != CURLE_OK) {
        snprintf(failure, sizeof failure, "curl_global_init failed: %s", curl.easy_strerror(code));
        return;
    }
    ready = 1;
}

const char *chain_curl_load(void) {
    pthread_once(&once, load);
    return ready ? NULL : failure;
}

CURL *chain_curl_easy_init(void) { return curl.easy_init(); }
void chain_curl_easy_cleanup(CURL *handle) { curl.easy_cleanup(handle); }
void chain_curl_easy_reset(CURL *handle) { curl.easy_reset(handle); }
CURLcode chain_curl_easy_perform(CURL *handle) { return curl.easy_perform(handle); }
const char *chain_curl_easy_strerror(CURLcode code) { return curl.easy_strerror(code); }
struct curl_slist *chain_curl_slist_append(struct curl_slist *list, const char *line) { return curl.slist_append(list, line); }
void chain_curl_slist_free_all(struct curl_slist *list) { curl.slist_free_all(list); }

CURLcode chain_curl_setopt_long(CURL *handle, CURLoption option, long value) { return curl.easy_setopt(handle, option, value); }
CURLcode chain_curl_setopt_ptr(CURL *handle, CURLoption option, const void *value) { return curl.easy_setopt(handle, option, value); }
CURLcode chain_curl_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value) { return curl.easy_setopt(handle, option, value); }
CURLcode chain_curl_setopt_write(CURL *handle, size_t (*function)(char *, size_t, size_t, void *)) {
    return curl.easy_setopt(handle, CURLOPT_WRITEFUNCTION, function);
}
CURLcode chain_curl_setopt_header(CURL *handle, size_t (*function)(char *, size_t, size_t, void *)) {
    return curl.easy_setopt(handle, CURLOPT_HEADERFUNCTION, function);
}
CURLcode chain_curl_getinfo_long(CURL *handle, CURLINFO info, long *value) { return curl.easy_getinfo(handle, info, value); }
