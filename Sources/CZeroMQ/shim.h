#ifndef CHAIN_ALERTER_CZEROMQ_SHIM_H
#define CHAIN_ALERTER_CZEROMQ_SHIM_H
#include <zmq.h>
#include <errno.h>

/* errno is a macro over a thread-local; Swift cannot read it portably through the overlay in all contexts. */
static inline int chain_alerter_zmq_errno(void) { return zmq_errno(); }
#endif
