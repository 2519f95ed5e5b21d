/* What the C floors share: a monotonic clock in ms, and the least a spawn that confirms its exec can do
 * (vfork + execve: posix_spawn's way, and angel's). Header-only: each floor is one small program. */
#ifndef ANGEL_FLOOR_H
#define ANGEL_FLOOR_H

#include <errno.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static inline double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Starts argv[0] with this process's environment; returns the pid once the exec is confirmed (vfork returned
 * and the child, which shares this memory until then, wrote no failure), or -1 with errno set. With `session`,
 * the child calls setsid() before its execve, as angel's does. */
static inline pid_t vfork_exec_in(char **argv, int session) {
  volatile int failed = 0;
  pid_t pid = vfork();
  if (pid < 0) return -1;
  if (pid == 0) {
    if (!session || setsid() >= 0) execve(argv[0], argv, environ);
    failed = errno;
    _exit(127);
  }
  if (failed) {
    errno = failed;
    return -1;
  }
  return pid;
}

static inline pid_t vfork_exec(char **argv) {
  return vfork_exec_in(argv, 0);
}

#endif
