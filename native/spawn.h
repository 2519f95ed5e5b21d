/* The fork path: everything the child does between clone and exec. No N-API here, no policy. */
#ifndef ANGEL_SPAWN_H
#define ANGEL_SPAWN_H

#include <sys/types.h>

struct angel_rlimit {
  int resource;
  unsigned long long soft, hard; /* RLIM_INFINITY = ~0ULL */
};

struct angel_spawn_spec {
  const char *path;         /* absolute, resolved by the caller */
  char *const *argv;        /* NULL-terminated */
  char *const *envp;        /* NULL-terminated */
  char *listen_pid_slot;    /* points into one envp string: the child writes its pid here, or NULL */
  char *watchdog_pid_slot;  /* the same for WATCHDOG_PID= (sd_watchdog_enabled(3)), or NULL */
  const char *cwd;          /* or NULL */
  const int *fds;           /* fds[i] becomes fd i in the child; -1 leaves fd i closed */
  int nfds;
  const struct angel_rlimit *rlimits;
  int nrlimits;
  long uid, gid;            /* -1 = keep */
  const gid_t *groups;      /* used when ngroups >= 0 */
  int ngroups;              /* -1 = keep */
  int no_new_privs;
  int exec_fd;              /* >= 0: execveat(exec_fd, "", AT_EMPTY_PATH) instead of execve(path) */
  int exec_fd_inherit;      /* the exec fd stays open across exec: a #! script's interpreter reads /dev/fd/N */
  int parent_death_signal;  /* > 0: PR_SET_PDEATHSIG, after the identity change (which clears it) */
  pid_t parent_pid;         /* the caller: if it is already gone when the signal is armed, the child ends */
  int cgroup_fd;            /* >= 0: a cgroup v2 directory the child starts in (clone3 CLONE_INTO_CGROUP) */
  int cgroup_procs_fd;      /* >= 0: a cgroup v1 cgroup.procs the child writes itself into, first thing */
};

/* The step that failed in the child, and its errno. */
struct angel_spawn_failure {
  int step;
  int err;
};

enum angel_spawn_step {
  STEP_NONE = 0,
  STEP_SETSID,
  STEP_DUP,
  STEP_CLOEXEC,
  STEP_SETRLIMIT,
  STEP_NO_NEW_PRIVS,
  STEP_SETGROUPS,
  STEP_SETGID,
  STEP_SETUID,
  STEP_PDEATHSIG,
  STEP_CHDIR,
  STEP_EXECVE,
  STEP_PARENT_CLONE,  /* failures in the parent, before or at the clone */
  STEP_CGROUP,        /* the v1 cgroup.procs write */
  STEP_PARENT_CLONE3, /* clone3(CLONE_INTO_CGROUP) refused */
};

const char *angel_step_name(int step);

/* What a spawn gives back once the exec is confirmed. */
struct angel_spawned {
  pid_t pid;
  int pidfd;          /* close-on-exec, owned by the caller */
  long long exec_ns;  /* CLOCK_MONOTONIC, read by the child just before its execve: the program starts no earlier */
};

/* Starts the child and returns once it has exec'd (0, *spawned set) or failed (-1, *failure set; the child is
 * reaped). */
int angel_spawn(const struct angel_spawn_spec *spec, struct angel_spawned *spawned, struct angel_spawn_failure *failure);

#endif
