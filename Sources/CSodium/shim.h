#ifndef CHAIN_ALERTER_CSODIUM_SHIM_H
#define CHAIN_ALERTER_CSODIUM_SHIM_H
#include <sodium.h>
#endif
