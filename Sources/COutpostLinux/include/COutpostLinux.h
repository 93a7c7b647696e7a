// Linux calls that the Glibc module does not export: epoll, and pidfd_open (through syscall,
// which is variadic and so not callable from Swift).
#ifndef COUTPOST_LINUX_H
#define COUTPOST_LINUX_H

#ifdef __linux__
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

/// A descriptor that becomes readable when `pid` ends (Linux 5.3); -1 with errno otherwise.
static inline int outpost_pidfd_open(pid_t pid) {
#ifdef SYS_pidfd_open
    return (int)syscall(SYS_pidfd_open, pid, 0);
#else
    return (int)syscall(434, pid, 0);
#endif
}
#endif

#endif
