/* spawn-path N [WARMUP]: angel's fork path (native/spawn.c's angel_spawn, linked in) called from a small C
 * process, with the arguments spawnChild gives it for /bin/true: this environment, fds [0, 1, 2], no limits.
 * Between the C floor and the addon called from Node, this row says which part of the gap is the fork path's
 * own steps and which is the Node process around it. Prints per-iteration ms, like spawn-floor. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "floor.h"
#include "spawn.h"

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 200;
  int warmup = argc > 2 ? atoi(argv[2]) : 0;
  /* Node ignores these two, so the addon's child resets them; do the same work here. */
  signal(SIGPIPE, SIG_IGN);
  signal(SIGXFSZ, SIG_IGN);
  char *args[] = {"/bin/true", NULL};
  int fds[] = {0, 1, 2};
  struct angel_spawn_spec spec = {
      .path = "/bin/true", .argv = args, .envp = environ, .fds = fds, .nfds = 3,
      .uid = -1, .gid = -1, .ngroups = -1, .exec_fd = -1, .cgroup_fd = -1, .cgroup_procs_fd = -1,
  };
  for (int i = 0; i < warmup + n; i++) {
    struct angel_spawned spawned;
    struct angel_spawn_failure failure;
    double start = now_ms();
    if (angel_spawn(&spec, &spawned, &failure) < 0) {
      fprintf(stderr, "angel_spawn: %s: errno %d\n", angel_step_name(failure.step), failure.err);
      return 1;
    }
    double confirmed = now_ms();
    siginfo_t info;
    if (waitid(P_PIDFD, spawned.pidfd, &info, WEXITED) < 0 || info.si_code != CLD_EXITED || info.si_status != 0) return 1;
    close(spawned.pidfd);
    if (i >= warmup) printf("%.4f\n", confirmed - start);
  }
  return 0;
}
