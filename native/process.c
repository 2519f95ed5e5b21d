/* The entries that start and shape processes: spawn (the spec's fields as arguments, the fork path of spawn.c, [pid,
 * pidfd] out), getgrouplist (for initgroups-like supplementary groups; the posix package lacks it) and the child
 * subreaper flag. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "process.h"
#include "js.h"
#include "spawn.h"

#include <errno.h>
#include <grp.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_FDS 1024
#define MAX_RLIMITS 32
#define MAX_GROUPS 65536
#define MAX_STRINGS (1u << 20)
#define LISTEN_PID_DIGITS 24

/* The '=' of string `index` of envp, when that string is one of the copies (the child writes its pid after
 * it; a prepared list's strings are shared by every spawn); NULL otherwise. */
static char *slot_of(char **envp, char **copies, int index) {
  for (int i = 0; envp[i]; i++) {
    if (i != index) continue;
    for (char **copy = copies; *copy; copy++) {
      if (*copy == envp[i]) return strchr(envp[i], '=');
    }
    return NULL;
  }
  return NULL;
}

/* This process's pid, asked once: glibc's getpid is a system call each time, and this one is on every spawn's
 * path; a Node process never forks into a copy of itself that would call this. */
static pid_t own_pid(void) {
  static pid_t pid = 0;
  if (pid == 0) pid = getpid();
  return pid;
}

static unsigned long long to_rlim(double value) {
  return value < 0 ? RLIM_INFINITY : (unsigned long long)value;
}

/* spawn's arguments, in order, named as struct angel_spawn_spec names them (spawn.h). */
enum spec_field {
  F_PATH, F_ARGV, F_ENVP, F_LISTEN_PID_INDEX, F_CWD, F_FDS, F_RLIMITS, F_UID, F_GID, F_GROUPS, F_NO_NEW_PRIVS,
  F_EXEC_FD, F_EXEC_FD_INHERIT, F_PARENT_DEATH_SIGNAL, F_WATCHDOG_PID_INDEX, F_CGROUP_FD, F_CGROUP_PROCS_FD, F_SPAWNED,
  F_COUNT
};

/* spawn(path, argv, envp, listenPidIndex, cwd|null, fds, rlimits[resource, soft, hard, ...], uid, gid, groups|null,
 *       noNewPrivs, execFd, execFdInherit, parentDeathSignal, watchdogPidIndex, cgroupFd, cgroupProcsFd, spawned):
 *       the spec's fields as arguments, in enum spec_field's order (kernel/syscalls.ts passes them so), and an
 *       Int32Array `spawned` that gets [pid, pidfd]: the result is written where the caller keeps it, as an array
 *       made here took four N-API calls right after the child's exec, on every restart's path.
 *       Read from one object, each field cost a named-property lookup on every spawn, 6-7 us of the restart's path
 *       here; arguments come in one call. envp's items are strings and prepared lists (prepareStrings), whose
 *       strings take their place. A limit of -1 is RLIM_INFINITY; a parentDeathSignal of 0 sets none. The envp
 *       string at watchdogPidIndex (-1: none) brings its own room for the pid: NAME= and at least 20 placeholder
 *       bytes. A cgroup fd of -1 is none (cgroupFd: a v2 directory, cgroupProcsFd: a v1 cgroup.procs open for
 *       writing). Every field is required: the TypeScript side fills what the caller left out. */
napi_value angel_spawn_entry(napi_env env, napi_callback_info info) {
  size_t argc = F_COUNT;
  napi_value field[F_COUNT];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, field, NULL, NULL));
  if (argc != F_COUNT) return js_throw_usage(env, "spawn: expected the spec's 17 fields, in spawn.h's order, and an Int32Array");
  napi_typedarray_type spawned_type;
  size_t spawned_length = 0;
  void *spawned_data = NULL;
  bool is_typedarray = false;
  if (napi_is_typedarray(env, field[F_SPAWNED], &is_typedarray) != napi_ok || !is_typedarray ||
      napi_get_typedarray_info(env, field[F_SPAWNED], &spawned_type, &spawned_length, &spawned_data, NULL, NULL) != napi_ok ||
      spawned_type != napi_int32_array || spawned_length < 2) {
    return js_throw_usage(env, "spawn: spawned must be an Int32Array of 2");
  }

  struct angel_spawn_spec spec;
  memset(&spec, 0, sizeof spec);
  int32_t listen_pid_index, uid, gid, exec_fd, parent_death_signal, watchdog_pid_index, cgroup_fd, cgroup_procs_fd;
  bool no_new_privs, exec_fd_inherit;
  uint32_t nfds, nrlimit_values, ngroups = 0;
  int fds[MAX_FDS];
  struct angel_rlimit rlimits[MAX_RLIMITS];
  gid_t *groups = NULL;
  char *path = NULL, *cwd = NULL, **child_argv = NULL, **envp = NULL, **env_copies = NULL;
  napi_value result = NULL;

  if (!js_get_int32(env, field[F_LISTEN_PID_INDEX], "spawn: listenPidIndex", &listen_pid_index) ||
      !js_get_int32(env, field[F_UID], "spawn: uid", &uid) ||
      !js_get_int32(env, field[F_GID], "spawn: gid", &gid) ||
      !js_get_int32(env, field[F_EXEC_FD], "spawn: execFd", &exec_fd) ||
      !js_get_int32(env, field[F_PARENT_DEATH_SIGNAL], "spawn: parentDeathSignal", &parent_death_signal) ||
      !js_get_int32(env, field[F_WATCHDOG_PID_INDEX], "spawn: watchdogPidIndex", &watchdog_pid_index) ||
      !js_get_int32(env, field[F_CGROUP_FD], "spawn: cgroupFd", &cgroup_fd) ||
      !js_get_int32(env, field[F_CGROUP_PROCS_FD], "spawn: cgroupProcsFd", &cgroup_procs_fd) ||
      napi_get_value_bool(env, field[F_NO_NEW_PRIVS], &no_new_privs) != napi_ok ||
      napi_get_value_bool(env, field[F_EXEC_FD_INHERIT], &exec_fd_inherit) != napi_ok ||
      !js_get_array(env, field[F_FDS], "spawn: fds", MAX_FDS, &nfds) ||
      !js_get_array(env, field[F_RLIMITS], "spawn: rlimits", MAX_RLIMITS * 3, &nrlimit_values) || nrlimit_values % 3) {
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (!pending) js_throw_usage(env, "spawn: noNewPrivs and execFdInherit must be booleans, rlimits a list of triples");
    return NULL;
  }
  for (uint32_t i = 0; i < nfds; i++) {
    napi_value item;
    if (napi_get_element(env, field[F_FDS], i, &item) != napi_ok ||
        !js_get_int32(env, item, "spawn: fds[i]", &fds[i])) return NULL;
  }
  for (uint32_t i = 0; i < nrlimit_values / 3; i++) {
    double values[3];
    for (int k = 0; k < 3; k++) {
      napi_value item;
      if (napi_get_element(env, field[F_RLIMITS], i * 3 + k, &item) != napi_ok ||
          !js_get_double(env, item, "spawn: rlimits[i]", &values[k])) return NULL;
    }
    rlimits[i] = (struct angel_rlimit){(int)values[0], to_rlim(values[1]), to_rlim(values[2])};
  }

  if (!js_is_nullish(env, field[F_GROUPS])) {
    if (!js_get_array(env, field[F_GROUPS], "spawn: groups", MAX_GROUPS, &ngroups)) return NULL;
    groups = calloc(ngroups ? ngroups : 1, sizeof *groups);
    if (!groups) return js_throw_errno(env, "malloc", ENOMEM);
    for (uint32_t i = 0; i < ngroups; i++) {
      napi_value item;
      int32_t group;
      if (napi_get_element(env, field[F_GROUPS], i, &item) != napi_ok ||
          !js_get_int32(env, item, "spawn: groups[i]", &group)) goto done;
      groups[i] = (gid_t)group;
    }
  }

  if (!(path = js_get_string(env, field[F_PATH], "spawn: path", 0))) goto done;
  if (!(child_argv = js_get_string_vector(env, field[F_ARGV], "spawn: argv", MAX_STRINGS, -1, 0))) goto done;
  if (!(envp = js_get_string_list(env, field[F_ENVP], "spawn: envp", MAX_STRINGS, listen_pid_index, LISTEN_PID_DIGITS, &env_copies))) goto done;
  if (!js_is_nullish(env, field[F_CWD]) && !(cwd = js_get_string(env, field[F_CWD], "spawn: cwd", 0))) goto done;
  if (!child_argv[0]) {
    js_throw_usage(env, "spawn: argv must hold at least the program name");
    goto done;
  }

  spec.path = path;
  spec.argv = child_argv;
  spec.envp = envp;
  if (listen_pid_index >= 0) {
    char *slot = slot_of(envp, env_copies, listen_pid_index);
    if (!slot) {
      js_throw_usage(env, "spawn: listenPidIndex must point at a NAME= string of envp, not of a prepared list");
      goto done;
    }
    spec.listen_pid_slot = slot + 1;
  }
  if (watchdog_pid_index >= 0) {
    char *slot = watchdog_pid_index == listen_pid_index ? NULL : slot_of(envp, env_copies, watchdog_pid_index);
    if (!slot || strlen(slot + 1) < 20) {
      js_throw_usage(env, "spawn: watchdogPidIndex must point at a NAME= string of envp with 20 bytes of room");
      goto done;
    }
    spec.watchdog_pid_slot = slot + 1;
  }
  spec.cwd = cwd;
  spec.fds = fds;
  spec.nfds = (int)nfds;
  spec.rlimits = rlimits;
  spec.nrlimits = (int)(nrlimit_values / 3);
  spec.uid = uid;
  spec.gid = gid;
  spec.groups = groups;
  spec.ngroups = groups ? (int)ngroups : -1;
  spec.no_new_privs = no_new_privs;
  spec.exec_fd = exec_fd;
  spec.exec_fd_inherit = exec_fd_inherit;
  spec.parent_death_signal = parent_death_signal;
  spec.parent_pid = own_pid();
  spec.cgroup_fd = cgroup_fd;
  spec.cgroup_procs_fd = cgroup_procs_fd;

  pid_t pid;
  int pidfd;
  struct angel_spawn_failure failure;
  if (angel_spawn(&spec, &pid, &pidfd, &failure) < 0) {
    napi_value error = js_errno_error(env, angel_step_name(failure.step), failure.err);
    if (error && (failure.step & 0xff) == STEP_SETRLIMIT) {
      napi_value resource;
      if (napi_create_int32(env, failure.step >> 8, &resource) == napi_ok) {
        napi_set_named_property(env, error, "resource", resource);
      }
    }
    if (error) napi_throw(env, error);
    goto done;
  }
  ((int32_t *)spawned_data)[0] = pid;
  ((int32_t *)spawned_data)[1] = pidfd;
  napi_get_undefined(env, &result);

done:
  free(path);
  free(cwd);
  free(groups);
  js_free_string_vector(child_argv);
  free(envp);
  js_free_string_vector(env_copies);
  return result;
}

/* prepareStrings(strings) -> a handle spawn's envp takes in place of those strings: converted once, for an
 * environment that is spawned with again and again (a large one, npm's, costs its conversion at every spawn). */
napi_value angel_prepare_strings(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 1) return js_throw_usage(env, "prepareStrings: expected 1 argument");
  return js_prepare_strings(env, argv[0], "prepareStrings: strings", MAX_STRINGS);
}

/* getgrouplist(user, gid) -> gids: the supplementary groups initgroups(3) would set. */
napi_value angel_getgrouplist(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t gid;
  if (!js_get_int32(env, argv[1], "getgrouplist: gid", &gid)) return NULL;
  char *user = js_get_string(env, argv[0], "getgrouplist: user", 0);
  if (!user) return NULL;
  int count = 64;
  gid_t *groups = NULL;
  for (;;) {
    gid_t *grown = realloc(groups, (size_t)count * sizeof *groups);
    if (!grown) {
      free(groups);
      free(user);
      return js_throw_errno(env, "getgrouplist", ENOMEM);
    }
    groups = grown;
    int wanted = count;
    if (getgrouplist(user, (gid_t)gid, groups, &wanted) >= 0) {
      count = wanted;
      break;
    }
    if (wanted <= count) wanted = count * 2; /* glibc may not report the size it needs */
    count = wanted;
  }
  free(user);
  napi_value array = NULL;
  if (napi_create_array_with_length(env, (size_t)count, &array) == napi_ok) {
    for (int i = 0; i < count; i++) {
      napi_value item;
      if (napi_create_uint32(env, groups[i], &item) != napi_ok || napi_set_element(env, array, i, item) != napi_ok) {
        array = NULL;
        break;
      }
    }
  }
  free(groups);
  if (!array) return js_throw_status(env, "building the group list");
  return array;
}

/* setChildSubreaper(on): orphans of the child's tree reparent to angel instead of init (prctl(2)). */
napi_value angel_set_child_subreaper(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  bool on;
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1 || napi_get_value_bool(env, argv[0], &on) != napi_ok) {
    return js_throw_usage(env, "setChildSubreaper: expected a boolean");
  }
  if (prctl(PR_SET_CHILD_SUBREAPER, on ? 1 : 0, 0, 0, 0) < 0) return js_throw_errno(env, "prctl", errno);
  return NULL;
}


/* reapPid(pid) -> true when that one child had ended and is now reaped; false when it runs on, or is not a
 * child of ours (ECHILD). By pid, never waitpid(-1): libuv waits for its own children by pid, and a status taken
 * here would be one child_process never reports. */
napi_value angel_reap_pid(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t pid;
  if (argc < 1 || !js_get_int32(env, argv[0], "reapPid: pid", &pid)) return NULL;
  if (pid <= 0) return js_throw_usage(env, "reapPid: pid must be > 0");
  siginfo_t info_out;
  memset(&info_out, 0, sizeof info_out);
  for (;;) {
    if (waitid(P_PID, (id_t)pid, &info_out, WEXITED | WNOHANG) == 0) return js_bool(env, info_out.si_pid == pid);
    if (errno == EINTR) continue;
    if (errno == ECHILD) return js_bool(env, false);
    return js_throw_errno(env, "waitid", errno);
  }
}

/* reapEnded(keep) -> [kept, ...reaped]: reaps every child that has ended, as waitid names them (WNOWAIT: named
 * first, then reaped by pid), until none is left or the next one named is in `keep` (an Int32Array of the pids
 * someone else waits for: a pidfd's watch, libuv); `kept` is that one's pid, 0 when none stopped the loop. One
 * call for a storm of orphans: two system calls an orphan, none of them a crossing into JavaScript. Never
 * waitpid(-1): a status taken here would be one its owner never reports. */
napi_value angel_reap_ended(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t *keep;
  size_t nkeep;
  if (argc < 1 || !js_get_int32s(env, argv[0], "reapEnded: keep", &keep, &nkeep)) return NULL;
  size_t count = 0, room = 64;
  pid_t *reaped = malloc(room * sizeof *reaped);
  if (!reaped) return js_throw_errno(env, "malloc", ENOMEM);
  pid_t kept = 0;
  for (;;) {
    siginfo_t ended;
    memset(&ended, 0, sizeof ended);
    if (waitid(P_ALL, 0, &ended, WEXITED | WNOHANG | WNOWAIT) < 0) {
      if (errno == EINTR) continue;
      if (errno == ECHILD) break;
      free(reaped);
      return js_throw_errno(env, "waitid", errno);
    }
    pid_t pid = ended.si_pid;
    if (pid == 0) break;
    for (size_t i = 0; i < nkeep && kept == 0; i++) {
      if (keep[i] == pid) kept = pid;
    }
    if (kept) break;
    siginfo_t status;
    while (waitid(P_PID, (id_t)pid, &status, WEXITED | WNOHANG) < 0 && errno == EINTR) {}
    if (count == room) {
      pid_t *grown = realloc(reaped, (room *= 2) * sizeof *reaped);
      if (!grown) {
        free(reaped);
        return js_throw_errno(env, "malloc", ENOMEM);
      }
      reaped = grown;
    }
    reaped[count++] = pid;
  }
  napi_value result = NULL, item;
  if (napi_create_array_with_length(env, count + 1, &result) != napi_ok ||
      napi_create_int32(env, kept, &item) != napi_ok || napi_set_element(env, result, 0, item) != napi_ok) {
    result = NULL;
  }
  for (size_t i = 0; result && i < count; i++) {
    if (napi_create_int32(env, reaped[i], &item) != napi_ok || napi_set_element(env, result, (uint32_t)(i + 1), item) != napi_ok) {
      result = NULL;
    }
  }
  free(reaped);
  return result ? result : js_throw_status(env, "building the reaped list");
}

/* yieldProcessor(): sched_yield(2), so a child that shares this CPU runs before the caller goes on. */
napi_value angel_yield_processor(napi_env env, napi_callback_info info) {
  (void)env;
  (void)info;
  sched_yield();
  return NULL;
}
