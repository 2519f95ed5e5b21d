/* spawn-floor N [WARMUP [session]]: vfork + execve /bin/true, exec confirmed when vfork returns with no failure
 * written by the child (posix_spawn's way, and angel's), then waitpid; prints the spawn -> exec-confirmed time of each of the N iterations in ms, after WARMUP unprinted
 * ones (a fresh process faults its pages in on the first few). The floor angel's addon is held to: the
 * least any spawn that confirms its exec must pay. The child gets this process's environment, as angel's
 * children get angel's, so execve copies the same strings in both. With `session`, the child calls setsid()
 * before its execve, as angel's does: what a session of its own costs by itself (the kernel makes one a
 * scheduling autogroup where CONFIG_SCHED_AUTOGROUP is set). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "floor.h"

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 200;
  int warmup = argc > 2 ? atoi(argv[2]) : 0;
  int session = argc > 3 && strcmp(argv[3], "session") == 0;
  char *args[] = {"/bin/true", NULL};
  for (int i = 0; i < warmup + n; i++) {
    double start = now_ms();
    pid_t pid = vfork_exec_in(args, session);
    double confirmed = now_ms();
    if (pid < 0) return 1;
    int status;
    if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) return 1;
    if (i >= warmup) printf("%.4f\n", confirmed - start);
  }
  return 0;
}
