#ifndef CHAIN_ALERTER_CXXHASH_SHIM_H
#define CHAIN_ALERTER_CXXHASH_SHIM_H
#include <xxhash.h>
#endif
