#ifndef CHAIN_ALERTER_CLINUXSHIMS_H
#define CHAIN_ALERTER_CLINUXSHIMS_H
/* Linux calls Swift cannot reach through Glibc: prctl is variadic, and sys/eventfd.h is not in the Glibc module. */
#include <signal.h>
#include <stdint.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/eventfd.h>
#include <sys/prctl.h>
#endif

/* Ask the kernel to send `signal` to this process when the thread that spawned it exits. 0 on success, -1 otherwise. */
static inline int chain_alerter_set_parent_death_signal(int signal) {
#ifdef __linux__
    return prctl(PR_SET_PDEATHSIG, (unsigned long)signal, 0, 0, 0);
#else
    (void)signal;
    return -1;
#endif
}

/* Names the calling thread (at most 15 characters show) for top, ps and perf. */
static inline void chain_alerter_set_thread_name(const char *name) {
#ifdef __linux__
    (void)prctl(PR_SET_NAME, (unsigned long)name, 0, 0, 0);
#else
    (void)name;
#endif
}

/* A non-blocking, close-on-exec eventfd used to wake a poll loop; -1 where eventfd does not exist. */
static inline int chain_alerter_eventfd(void) {
#ifdef __linux__
    return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
#else
    return -1;
#endif
}
#endif
