#ifndef CHAIN_ALERTER_CHAIN_CURL_H
#define CHAIN_ALERTER_CHAIN_CURL_H
/*
 * libcurl, loaded on first use. Only the notifier talks HTTP, and libcurl brings about thirty shared
 * libraries with it (OpenSSL, GnuTLS, Kerberos, LDAP, SSH...) that cost every process that maps them
 * several megabytes of resident memory. So no binary links libcurl: `chain_curl_load` dlopens
 * libcurl.so.4 the first time a process needs HTTP, resolves the functions below and runs
 * curl_global_init once. Types and constants come from the libcurl4-openssl-dev headers.
 */
#include <curl/curl.h>

/* Loads libcurl once per process (thread-safe). NULL when it is ready, else why it is not (no secrets). */
const char *chain_curl_load(void);

/* The libcurl functions chain-alerter uses. Call only after chain_curl_load() returned NULL. */
CURL *chain_curl_easy_init(void);
void chain_curl_easy_cleanup(CURL *handle);
void chain_curl_easy_reset(CURL *handle);
CURLcode chain_curl_easy_perform(CURL *handle);
const char *chain_curl_easy_strerror(CURLcode code);
struct curl_slist *chain_curl_slist_append(struct curl_slist *list, const char *line);
void chain_curl_slist_free_all(struct curl_slist *list);

/* curl_easy_setopt and curl_easy_getinfo are variadic; Swift cannot call them, so typed wrappers. */
CURLcode chain_curl_setopt_long(CURL *handle, CURLoption option, long value);
CURLcode chain_curl_setopt_ptr(CURL *handle, CURLoption option, const void *value);
CURLcode chain_curl_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value);
CURLcode chain_curl_setopt_write(CURL *handle, size_t (*function)(char *, size_t, size_t, void *));
CURLcode chain_curl_setopt_header(CURL *handle, size_t (*function)(char *, size_t, size_t, void *));
CURLcode chain_curl_getinfo_long(CURL *handle, CURLINFO info, long *value);

#endif
