/* The entries that start and shape processes: prepareProgram and spawn (a program converted once, started by the
 * fork path of spawn.c with each spawn's environment, fds and cgroup; its pid, pidfd and exec time out),
 * getgrouplist (for initgroups-like supplementary groups; the posix package lacks it) and the child subreaper
 * flag. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "process.h"
#include "js.h"
#include "spawn.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
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

/* What stays the same from one spawn of a launch to the next, converted for C once (prepareProgram): the
 * supervisor spawns each generation with the same program, arguments, directory, limits and identity, and
 * converting them through N-API on every restart's path cost more than the clone's own extra steps. */
struct program {
  char *path;
  char **argv;
  char *cwd;
  struct angel_rlimit rlimits[MAX_RLIMITS];
  int nrlimits;
  gid_t *groups;
  int ngroups; /* -1: angel's kept */
  int32_t uid, gid, exec_fd, parent_death_signal;
  bool no_new_privs, exec_fd_inherit;
};

/* Tags a prepared program, so that no other handle is ever read as one. */
static const napi_type_tag PROGRAM_TAG = {0x616e67656c2d7072ULL, 0x6f6772616d2d7631ULL};

static void free_program(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  struct program *program = data;
  free(program->path);
  js_free_string_vector(program->argv);
  free(program->cwd);
  free(program->groups);
  free(program);
}

/* The named property `name` of `object`, or false with an exception pending. */
static bool field_of(napi_env env, napi_value object, const char *name, napi_value *value) {
  if (napi_get_named_property(env, object, name, value) == napi_ok) return true;
  js_throw_status(env, "reading the program's fields");
  return false;
}

static bool program_numbers(napi_env env, napi_value object, struct program *program) {
  static const struct { const char *name; size_t offset; } INTS[] = {
      {"uid", offsetof(struct program, uid)},
      {"gid", offsetof(struct program, gid)},
      {"execFd", offsetof(struct program, exec_fd)},
      {"parentDeathSignal", offsetof(struct program, parent_death_signal)},
  };
  char what[64];
  napi_value value;
  for (size_t i = 0; i < sizeof INTS / sizeof *INTS; i++) {
    snprintf(what, sizeof what, "prepareProgram: %s", INTS[i].name);
    if (!field_of(env, object, INTS[i].name, &value) ||
        !js_get_int32(env, value, what, (int32_t *)((char *)program + INTS[i].offset))) return false;
  }
  static const struct { const char *name; size_t offset; } BOOLS[] = {
      {"noNewPrivs", offsetof(struct program, no_new_privs)},
      {"execFdInherit", offsetof(struct program, exec_fd_inherit)},
  };
  for (size_t i = 0; i < sizeof BOOLS / sizeof *BOOLS; i++) {
    if (!field_of(env, object, BOOLS[i].name, &value)) return false;
    if (napi_get_value_bool(env, value, (bool *)((char *)program + BOOLS[i].offset)) != napi_ok) {
      snprintf(what, sizeof what, "prepareProgram: %s must be a boolean", BOOLS[i].name);
      js_throw_usage(env, what);
      return false;
    }
  }
  uint32_t nvalues;
  if (!field_of(env, object, "rlimits", &value) ||
      !js_get_array(env, value, "prepareProgram: rlimits", MAX_RLIMITS * 3, &nvalues)) return false;
  if (nvalues % 3) {
    js_throw_usage(env, "prepareProgram: rlimits must be a list of triples");
    return false;
  }
  for (uint32_t i = 0; i < nvalues / 3; i++) {
    double values[3];
    for (int k = 0; k < 3; k++) {
      napi_value item;
      if (napi_get_element(env, value, i * 3 + k, &item) != napi_ok ||
          !js_get_double(env, item, "prepareProgram: rlimits[i]", &values[k])) return false;
    }
    program->rlimits[i] = (struct angel_rlimit){(int)values[0], to_rlim(values[1]), to_rlim(values[2])};
  }
  program->nrlimits = (int)(nvalues / 3);
  return true;
}

static bool program_groups(napi_env env, napi_value object, struct program *program) {
  napi_value value;
  if (!field_of(env, object, "groups", &value)) return false;
  program->ngroups = -1;
  if (js_is_nullish(env, value)) return true;
  uint32_t ngroups;
  if (!js_get_array(env, value, "prepareProgram: groups", MAX_GROUPS, &ngroups)) return false;
  program->groups = calloc(ngroups ? ngroups : 1, sizeof *program->groups);
  if (!program->groups) {
    js_throw_errno(env, "malloc", ENOMEM);
    return false;
  }
  for (uint32_t i = 0; i < ngroups; i++) {
    napi_value item;
    int32_t group;
    if (napi_get_element(env, value, i, &item) != napi_ok ||
        !js_get_int32(env, item, "prepareProgram: groups[i]", &group)) return false;
    program->groups[i] = (gid_t)group;
  }
  program->ngroups = (int)ngroups;
  return true;
}

static bool program_strings(napi_env env, napi_value object, struct program *program) {
  napi_value value;
  if (!field_of(env, object, "path", &value) || !(program->path = js_get_string(env, value, "prepareProgram: path", 0))) return false;
  if (!field_of(env, object, "argv", &value) ||
      !(program->argv = js_get_string_vector(env, value, "prepareProgram: argv", MAX_STRINGS, -1, 0))) return false;
  if (!program->argv[0]) {
    js_throw_usage(env, "prepareProgram: argv must hold at least the program name");
    return false;
  }
  if (!field_of(env, object, "cwd", &value)) return false;
  return js_is_nullish(env, value) || (program->cwd = js_get_string(env, value, "prepareProgram: cwd", 0));
}

/* prepareProgram({path, argv, cwd|null, rlimits[resource, soft, hard, ...], uid, gid, groups|null, noNewPrivs,
 * execFd, execFdInherit, parentDeathSignal}) -> a handle spawn takes: the program converted once. Read by name:
 * it is made once per launch. A limit of -1 is RLIM_INFINITY, a uid, gid or execFd of -1 none, a
 * parentDeathSignal of 0 none; every field is required (the TypeScript side fills what the caller left out). */
napi_value angel_prepare_program(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value object;
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, &object, NULL, NULL));
  napi_valuetype type;
  if (argc != 1 || napi_typeof(env, object, &type) != napi_ok || type != napi_object) {
    return js_throw_usage(env, "prepareProgram: expected the program's fields, one object");
  }
  struct program *program = calloc(1, sizeof *program);
  if (!program) return js_throw_errno(env, "malloc", ENOMEM);
  program->ngroups = -1;
  if (!program_numbers(env, object, program) || !program_groups(env, object, program) || !program_strings(env, object, program)) {
    free_program(env, program, NULL);
    return NULL;
  }
  return js_tagged_external(env, program, free_program, &PROGRAM_TAG);
}

/* The prepared program `value` is, or NULL with a TypeError thrown. */
static struct program *as_program(napi_env env, napi_value value) {
  struct program *program = js_tagged_data(env, value, &PROGRAM_TAG);
  if (!program) js_throw_usage(env, "spawn: program must be a handle from prepareProgram");
  return program;
}

/* Where spawn's numbers sit in its `layout` (an Int32Array the caller keeps and fills before each spawn, read in
 * place: one N-API call for all of them, where each number and fd of its own cost some 0.4 us of the restart's
 * path). kernel/syscalls.ts fills it by the same names. */
enum spawn_layout {
  L_ENV_COUNT,          /* the strings of `env` */
  L_LISTEN_PID_INDEX,   /* one of them (-1: none), NAME= and 20 bytes of room: the child writes its pid there */
  L_WATCHDOG_PID_INDEX, /* the same for WATCHDOG_PID= */
  L_CGROUP_FD,          /* a cgroup v2 directory the child starts in (-1: none) */
  L_CGROUP_PROCS_FD,    /* a cgroup v1 cgroup.procs the child writes itself into (-1: none) */
  L_PID,                /* out: the child's pid */
  L_PIDFD,              /* out: its pidfd */
  L_EXEC_SECONDS,       /* out: CLOCK_MONOTONIC as the child read it just before its execve: seconds */
  L_EXEC_NANOSECONDS,   /*   and nanoseconds */
  L_NFDS,               /* the fds that follow: fds[i] becomes the child's fd i (-1: closed) */
  L_FDS,
};

/* The room a pid slot brings after its '=': a pid is at most 7 digits; 20 bytes are reserved. */
#define PID_SLOT_ROOM 20

/* The environment: the base's strings (borrowed), then the `count` strings of `joined`, each ended by a NUL
 * byte (copied). The vector and the copy are one allocation, for free(); the strings of `joined` are also
 * returned in *own (the first of them), for the pid slots. NULL with a TypeError when `joined` does not hold
 * exactly `count` strings: a string with a NUL byte in it would have made two. */
static char **spawn_envp(napi_env env, napi_value joined, char *const *base, uint32_t nbase, uint32_t count, char ***own) {
  size_t length;
  if (napi_get_value_string_utf8(env, joined, NULL, 0, &length) != napi_ok) {
    js_throw_usage(env, "spawn: env: expected a string");
    return NULL;
  }
  if ((uint64_t)nbase + count > MAX_STRINGS) {
    js_throw_usage(env, "spawn: envp: too many strings");
    return NULL;
  }
  size_t slots = (size_t)nbase + count + 1;
  char **vector = malloc(slots * sizeof *vector + length + 1);
  if (!vector) {
    js_throw_errno(env, "malloc", ENOMEM);
    return NULL;
  }
  char *text = (char *)(vector + slots);
  napi_get_value_string_utf8(env, joined, text, length + 1, &length);
  if (nbase) memcpy(vector, base, nbase * sizeof *vector);
  uint32_t at = nbase;
  char *cursor = text, *end = text + length;
  while (cursor < end && at < nbase + count) {
    vector[at++] = cursor;
    cursor += strlen(cursor) + 1;
  }
  if (at != nbase + count || cursor != end) {
    free(vector);
    js_throw_usage(env, "spawn: env: expected its count of strings, each ended by a NUL byte (a string holds a NUL byte)");
    return NULL;
  }
  vector[at] = NULL;
  *own = vector + nbase;
  return vector;
}

/* The room after the '=' of own string `index` (-1: none, NULL returned), or NULL with a TypeError `what` when it
 * is no such string: the child writes its pid there. */
static bool pid_slot(napi_env env, char **own, uint32_t count, int32_t index, const char *what, char **slot) {
  *slot = NULL;
  if (index < 0) return true;
  char *equals = (uint32_t)index < count ? strchr(own[index], '=') : NULL;
  if (!equals || strlen(equals + 1) < PID_SLOT_ROOM) {
    js_throw_usage(env, what);
    return false;
  }
  *slot = equals + 1;
  return true;
}

/* spawn(program, envBase, env, layout): the prepared program started with this spawn's environment, fds and
 * cgroup; its pid, pidfd and exec time written into layout. The environment is envBase's strings (a prepared list, or
 * null) and then env's: L_ENV_COUNT strings in one, each ended by a NUL byte (one conversion, where a list cost
 * two calls and a copy per string). */
napi_value angel_spawn_entry(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value arg[4];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, arg, NULL, NULL));
  if (argc != 4) return js_throw_usage(env, "spawn: expected (program, envBase, env, layout)");
  struct program *program = as_program(env, arg[0]);
  if (!program) return NULL;
  char *const *base = NULL;
  uint32_t nbase = 0;
  if (!js_is_nullish(env, arg[1]) && !js_get_prepared(env, arg[1], "spawn: envBase", &base, &nbase)) return NULL;
  int32_t *layout;
  size_t nlayout;
  if (!js_get_int32s(env, arg[3], "spawn: layout", &layout, &nlayout)) return NULL;
  if (nlayout < L_FDS || layout[L_NFDS] < 0 || layout[L_NFDS] > MAX_FDS || nlayout < (size_t)L_FDS + (size_t)layout[L_NFDS] ||
      layout[L_ENV_COUNT] < 0) {
    return js_throw_usage(env, "spawn: layout must hold the spawn's numbers and then its fds");
  }

  char **own;
  char **envp = spawn_envp(env, arg[2], base, nbase, (uint32_t)layout[L_ENV_COUNT], &own);
  if (!envp) return NULL;

  struct angel_spawn_spec spec;
  memset(&spec, 0, sizeof spec);
  spec.path = program->path;
  spec.argv = program->argv;
  spec.envp = envp;
  spec.cwd = program->cwd;
  spec.fds = layout + L_FDS;
  spec.nfds = layout[L_NFDS];
  spec.rlimits = program->rlimits;
  spec.nrlimits = program->nrlimits;
  spec.uid = program->uid;
  spec.gid = program->gid;
  spec.groups = program->groups;
  spec.ngroups = program->ngroups;
  spec.no_new_privs = program->no_new_privs;
  spec.exec_fd = program->exec_fd;
  spec.exec_fd_inherit = program->exec_fd_inherit;
  spec.parent_death_signal = program->parent_death_signal;
  spec.parent_pid = own_pid();
  spec.cgroup_fd = layout[L_CGROUP_FD];
  spec.cgroup_procs_fd = layout[L_CGROUP_PROCS_FD];
  uint32_t count = (uint32_t)layout[L_ENV_COUNT];
  if (!pid_slot(env, own, count, layout[L_LISTEN_PID_INDEX],
                "spawn: listenPidIndex must point at a NAME= string of env with 20 bytes of room", &spec.listen_pid_slot) ||
      !pid_slot(env, own, count, layout[L_WATCHDOG_PID_INDEX],
                "spawn: watchdogPidIndex must point at a NAME= string of env with 20 bytes of room", &spec.watchdog_pid_slot)) {
    goto done;
  }
  if (spec.listen_pid_slot && spec.listen_pid_slot == spec.watchdog_pid_slot) {
    js_throw_usage(env, "spawn: listenPidIndex and watchdogPidIndex must be two strings");
    goto done;
  }

  struct angel_spawned spawned;
  struct angel_spawn_failure failure;
  if (angel_spawn(&spec, &spawned, &failure) < 0) {
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
  layout[L_PID] = spawned.pid;
  layout[L_PIDFD] = spawned.pidfd;
  layout[L_EXEC_SECONDS] = (int32_t)(spawned.exec_ns / 1000000000LL);
  layout[L_EXEC_NANOSECONDS] = (int32_t)(spawned.exec_ns % 1000000000LL);

done:
  free(envp);
  return NULL;
}

/* prepareStrings(strings) -> a handle spawn takes as its environment's base: converted once, for an
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
