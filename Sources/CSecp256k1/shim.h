#ifndef CHAIN_ALERTER_CSECP256K1_SHIM_H
#define CHAIN_ALERTER_CSECP256K1_SHIM_H
// libsecp256k1 from Debian (libsecp256k1-dev): ECDSA and its recovery module, used to recover the signer's
// public key from an alert-system compact signature.
#include <secp256k1.h>
#include <secp256k1_recovery.h>
#endif
