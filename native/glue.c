/* The N-API surface: a few flat functions taking primitives and arrays. Each checks its arguments and throws
 * one TypeError line; system failures throw an Error with code (the errno name), errno and syscall. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "glue.h"
#include "generated/lock.h"
#include "sockets.h"
#include "spawn.h"
#include "watch.h"

#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <uv.h>

#define MAX_FDS 1024
#define MAX_RLIMITS 32
#define MAX_GROUPS 65536
#define LISTEN_PID_DIGITS 24

napi_value glue_throw_status(napi_env env, const char *what) {
  const napi_extended_error_info *info = NULL;
  napi_get_last_error_info(env, &info);
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (!pending) {
    char message[256];
    snprintf(message, sizeof message, "angel addon: %s failed: %s", what,
             info && info->error_message ? info->error_message : "unknown N-API error");
    napi_throw_error(env, NULL, message);
  }
  return NULL;
}

napi_value glue_throw_usage(napi_env env, const char *message) {
  napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", message);
  return NULL;
}

static napi_value make_errno_error(napi_env env, const char *syscall_name, int err) {
  const char *code = uv_err_name(-err);
  char message[256];
  snprintf(message, sizeof message, "%s: %s (%s)", syscall_name, code, strerror(err));
  napi_value code_value, message_value, error, errno_value, syscall_value;
  if (napi_create_string_utf8(env, code, NAPI_AUTO_LENGTH, &code_value) != napi_ok ||
      napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &message_value) != napi_ok ||
      napi_create_error(env, code_value, message_value, &error) != napi_ok ||
      napi_create_int32(env, err, &errno_value) != napi_ok ||
      napi_create_string_utf8(env, syscall_name, NAPI_AUTO_LENGTH, &syscall_value) != napi_ok ||
      napi_set_named_property(env, error, "errno", errno_value) != napi_ok ||
      napi_set_named_property(env, error, "syscall", syscall_value) != napi_ok) {
    return NULL;
  }
  return error;
}

napi_value glue_throw_errno(napi_env env, const char *syscall_name, int err) {
  napi_value error = make_errno_error(env, syscall_name, err);
  if (error) napi_throw(env, error);
  else glue_throw_status(env, "creating an error");
  return NULL;
}

napi_value glue_bool(napi_env env, bool value) {
  napi_value result;
  if (napi_get_boolean(env, value, &result) != napi_ok) return glue_throw_status(env, "napi_get_boolean");
  return result;
}

bool glue_get_int32(napi_env env, napi_value value, const char *what, int32_t *out) {
  napi_valuetype type;
  if (napi_typeof(env, value, &type) != napi_ok || type != napi_number ||
      napi_get_value_int32(env, value, out) != napi_ok) {
    char message[160];
    snprintf(message, sizeof message, "%s: expected an integer", what);
    glue_throw_usage(env, message);
    return false;
  }
  return true;
}

static bool get_double(napi_env env, napi_value value, const char *what, double *out) {
  napi_valuetype type;
  if (napi_typeof(env, value, &type) != napi_ok || type != napi_number ||
      napi_get_value_double(env, value, out) != napi_ok) {
    char message[160];
    snprintf(message, sizeof message, "%s: expected a number", what);
    glue_throw_usage(env, message);
    return false;
  }
  return true;
}

bool glue_check_function(napi_env env, napi_value value, const char *what) {
  napi_valuetype type;
  if (napi_typeof(env, value, &type) != napi_ok || type != napi_function) {
    char message[160];
    snprintf(message, sizeof message, "%s: expected a function", what);
    glue_throw_usage(env, message);
    return false;
  }
  return true;
}

/* Copies a JS string into malloc'd memory, with `extra` spare bytes after it (the LISTEN_PID slot). */
static char *get_string(napi_env env, napi_value value, const char *what, size_t extra) {
  size_t length;
  if (napi_get_value_string_utf8(env, value, NULL, 0, &length) != napi_ok) {
    char message[160];
    snprintf(message, sizeof message, "%s: expected a string", what);
    glue_throw_usage(env, message);
    return NULL;
  }
  char *buffer = malloc(length + 1 + extra);
  if (!buffer) {
    glue_throw_errno(env, "malloc", ENOMEM);
    return NULL;
  }
  napi_get_value_string_utf8(env, value, buffer, length + 1, &length);
  if (strlen(buffer) != length) {
    free(buffer);
    char message[160];
    snprintf(message, sizeof message, "%s: contains a NUL byte", what);
    glue_throw_usage(env, message);
    return NULL;
  }
  return buffer;
}

static bool get_array(napi_env env, napi_value value, const char *what, uint32_t max, uint32_t *length) {
  bool is_array = false;
  if (napi_is_array(env, value, &is_array) != napi_ok || !is_array ||
      napi_get_array_length(env, value, length) != napi_ok || *length > max) {
    char message[160];
    snprintf(message, sizeof message, "%s: expected an array of at most %u items", what, max);
    glue_throw_usage(env, message);
    return false;
  }
  return true;
}

/* A NULL-terminated vector of strings; string `slot_index` gets LISTEN_PID_DIGITS spare bytes. */
static char **get_string_vector(napi_env env, napi_value array, const char *what, int slot_index) {
  uint32_t length;
  if (!get_array(env, array, what, 1u << 20, &length)) return NULL;
  char **vector = calloc(length + 1, sizeof *vector);
  if (!vector) {
    glue_throw_errno(env, "malloc", ENOMEM);
    return NULL;
  }
  for (uint32_t i = 0; i < length; i++) {
    napi_value item;
    if (napi_get_element(env, array, i, &item) != napi_ok ||
        !(vector[i] = get_string(env, item, what, (int)i == slot_index ? LISTEN_PID_DIGITS : 0))) {
      for (uint32_t j = 0; j < i; j++) free(vector[j]);
      free(vector);
      return NULL;
    }
  }
  return vector;
}

static void free_string_vector(char **vector) {
  if (!vector) return;
  for (char **item = vector; *item; item++) free(*item);
  free(vector);
}

static bool is_nullish(napi_env env, napi_value value) {
  napi_valuetype type;
  return napi_typeof(env, value, &type) == napi_ok && (type == napi_null || type == napi_undefined);
}

static unsigned long long to_rlim(double value) {
  return value < 0 ? RLIM_INFINITY : (unsigned long long)value;
}

/* spawn(path, argv, envp, listenPidIndex, cwd|null, fds, rlimits[resource, soft, hard, ...], uid, gid,
 *       groups|null, noNewPrivs, execFd, execFdInherit) -> [pid, pidfd]. A limit of -1 is RLIM_INFINITY. */
static napi_value angel_spawn_entry(napi_env env, napi_callback_info info) {
  size_t argc = 13;
  napi_value argv[13];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 13) return glue_throw_usage(env, "spawn: expected 13 arguments");

  struct angel_spawn_spec spec;
  memset(&spec, 0, sizeof spec);
  int32_t listen_pid_index, uid, gid, exec_fd;
  bool no_new_privs, exec_fd_inherit;
  uint32_t nfds, nrlimit_values, ngroups = 0;
  int fds[MAX_FDS];
  struct angel_rlimit rlimits[MAX_RLIMITS];
  gid_t *groups = NULL;
  char *path = NULL, *cwd = NULL, **child_argv = NULL, **envp = NULL;
  napi_value result = NULL;

  if (!glue_get_int32(env, argv[3], "spawn: listenPidIndex", &listen_pid_index) ||
      !glue_get_int32(env, argv[7], "spawn: uid", &uid) ||
      !glue_get_int32(env, argv[8], "spawn: gid", &gid) ||
      !glue_get_int32(env, argv[11], "spawn: execFd", &exec_fd) ||
      napi_get_value_bool(env, argv[10], &no_new_privs) != napi_ok ||
      napi_get_value_bool(env, argv[12], &exec_fd_inherit) != napi_ok ||
      !get_array(env, argv[5], "spawn: fds", MAX_FDS, &nfds) ||
      !get_array(env, argv[6], "spawn: rlimits", MAX_RLIMITS * 3, &nrlimit_values) || nrlimit_values % 3) {
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (!pending) glue_throw_usage(env, "spawn: noNewPrivs and execFdInherit must be booleans, rlimits a list of triples");
    return NULL;
  }
  for (uint32_t i = 0; i < nfds; i++) {
    napi_value item;
    if (napi_get_element(env, argv[5], i, &item) != napi_ok ||
        !glue_get_int32(env, item, "spawn: fds[i]", &fds[i])) return NULL;
  }
  for (uint32_t i = 0; i < nrlimit_values / 3; i++) {
    double values[3];
    for (int k = 0; k < 3; k++) {
      napi_value item;
      if (napi_get_element(env, argv[6], i * 3 + k, &item) != napi_ok ||
          !get_double(env, item, "spawn: rlimits[i]", &values[k])) return NULL;
    }
    rlimits[i] = (struct angel_rlimit){(int)values[0], to_rlim(values[1]), to_rlim(values[2])};
  }

  if (!is_nullish(env, argv[9])) {
    if (!get_array(env, argv[9], "spawn: groups", MAX_GROUPS, &ngroups)) return NULL;
    groups = calloc(ngroups ? ngroups : 1, sizeof *groups);
    if (!groups) return glue_throw_errno(env, "malloc", ENOMEM);
    for (uint32_t i = 0; i < ngroups; i++) {
      napi_value item;
      int32_t group;
      if (napi_get_element(env, argv[9], i, &item) != napi_ok ||
          !glue_get_int32(env, item, "spawn: groups[i]", &group)) goto done;
      groups[i] = (gid_t)group;
    }
  }

  if (!(path = get_string(env, argv[0], "spawn: path", 0))) goto done;
  if (!(child_argv = get_string_vector(env, argv[1], "spawn: argv", -1))) goto done;
  if (!(envp = get_string_vector(env, argv[2], "spawn: envp", listen_pid_index))) goto done;
  if (!is_nullish(env, argv[4]) && !(cwd = get_string(env, argv[4], "spawn: cwd", 0))) goto done;
  if (!child_argv[0]) {
    glue_throw_usage(env, "spawn: argv must hold at least the program name");
    goto done;
  }

  spec.path = path;
  spec.argv = child_argv;
  spec.envp = envp;
  if (listen_pid_index >= 0) {
    char *slot = NULL;
    for (int i = 0; envp[i]; i++) {
      if (i == listen_pid_index) slot = strchr(envp[i], '=');
    }
    if (!slot) {
      glue_throw_usage(env, "spawn: listenPidIndex must point at a NAME= string of envp");
      goto done;
    }
    spec.listen_pid_slot = slot + 1;
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

  pid_t pid;
  int pidfd;
  struct angel_spawn_failure failure;
  if (angel_spawn(&spec, &pid, &pidfd, &failure) < 0) {
    napi_value error = make_errno_error(env, angel_step_name(failure.step), failure.err);
    if (error && (failure.step & 0xff) == STEP_SETRLIMIT) {
      napi_value resource;
      if (napi_create_int32(env, failure.step >> 8, &resource) == napi_ok) {
        napi_set_named_property(env, error, "resource", resource);
      }
    }
    if (error) napi_throw(env, error);
    goto done;
  }
  napi_value pair, pid_value, pidfd_value;
  if (napi_create_array_with_length(env, 2, &pair) != napi_ok ||
      napi_create_int32(env, pid, &pid_value) != napi_ok ||
      napi_create_int32(env, pidfd, &pidfd_value) != napi_ok ||
      napi_set_element(env, pair, 0, pid_value) != napi_ok ||
      napi_set_element(env, pair, 1, pidfd_value) != napi_ok) {
    glue_throw_status(env, "building the spawn result");
    goto done;
  }
  result = pair;

done:
  free(path);
  free(cwd);
  free(groups);
  free_string_vector(child_argv);
  free_string_vector(envp);
  return result;
}

/* getgrouplist(user, gid) -> gids: the supplementary groups initgroups(3) would set. */
static napi_value angel_getgrouplist(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t gid;
  if (!glue_get_int32(env, argv[1], "getgrouplist: gid", &gid)) return NULL;
  char *user = get_string(env, argv[0], "getgrouplist: user", 0);
  if (!user) return NULL;
  int count = 64;
  gid_t *groups = NULL;
  for (;;) {
    gid_t *grown = realloc(groups, (size_t)count * sizeof *groups);
    if (!grown) {
      free(groups);
      free(user);
      return glue_throw_errno(env, "getgrouplist", ENOMEM);
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
  if (!array) return glue_throw_status(env, "building the group list");
  return array;
}

/* setChildSubreaper(on): orphans of the child's tree reparent to angel instead of init (prctl(2)). */
static napi_value angel_set_child_subreaper(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  bool on;
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1 || napi_get_value_bool(env, argv[0], &on) != napi_ok) {
    return glue_throw_usage(env, "setChildSubreaper: expected a boolean");
  }
  if (prctl(PR_SET_CHILD_SUBREAPER, on ? 1 : 0, 0, 0, 0) < 0) return glue_throw_errno(env, "prctl", errno);
  return NULL;
}

static bool add_int_property(napi_env env, napi_value object, const char *name, int value) {
  napi_value number;
  return napi_create_int32(env, value, &number) == napi_ok &&
         napi_set_named_property(env, object, name, number) == napi_ok;
}

/* The rlimit resource numbers of <sys/resource.h>, so the TypeScript side needs no table of its own. */
static napi_value make_rlimit_table(napi_env env) {
  static const struct { const char *name; int resource; } table[] = {
    {"as", RLIMIT_AS}, {"core", RLIMIT_CORE}, {"cpu", RLIMIT_CPU}, {"data", RLIMIT_DATA},
    {"fsize", RLIMIT_FSIZE}, {"locks", RLIMIT_LOCKS}, {"memlock", RLIMIT_MEMLOCK},
    {"msgqueue", RLIMIT_MSGQUEUE}, {"nice", RLIMIT_NICE}, {"nofile", RLIMIT_NOFILE},
    {"nproc", RLIMIT_NPROC}, {"rss", RLIMIT_RSS}, {"rtprio", RLIMIT_RTPRIO}, {"rttime", RLIMIT_RTTIME},
    {"sigpending", RLIMIT_SIGPENDING}, {"stack", RLIMIT_STACK},
  };
  napi_value object;
  if (napi_create_object(env, &object) != napi_ok) return NULL;
  for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
    if (!add_int_property(env, object, table[i].name, table[i].resource)) return NULL;
  }
  return object;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor functions[] = {
    {"spawn", NULL, angel_spawn_entry, NULL, NULL, NULL, napi_enumerable, NULL},
    {"watchExit", NULL, angel_watch_exit, NULL, NULL, NULL, napi_enumerable, NULL},
    {"sendSignal", NULL, angel_send_signal, NULL, NULL, NULL, napi_enumerable, NULL},
    {"signalGroup", NULL, angel_signal_group, NULL, NULL, NULL, napi_enumerable, NULL},
    {"getgrouplist", NULL, angel_getgrouplist, NULL, NULL, NULL, napi_enumerable, NULL},
    {"setChildSubreaper", NULL, angel_set_child_subreaper, NULL, NULL, NULL, napi_enumerable, NULL},
    {"listenInet", NULL, angel_listen_inet, NULL, NULL, NULL, napi_enumerable, NULL},
    {"listenUnix", NULL, angel_listen_unix, NULL, NULL, NULL, napi_enumerable, NULL},
    {"pipe", NULL, angel_pipe, NULL, NULL, NULL, napi_enumerable, NULL},
    {"openAt", NULL, angel_open_at, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  NAPI_CALL(env, napi_define_properties(env, exports, sizeof functions / sizeof functions[0], functions));
  /* the one program a locked build may start, or null */
  napi_value locked;
  if (ANGEL_LOCK_PROGRAM[0] == '\0') NAPI_CALL(env, napi_get_null(env, &locked));
  else NAPI_CALL(env, napi_create_string_utf8(env, ANGEL_LOCK_PROGRAM, NAPI_AUTO_LENGTH, &locked));
  NAPI_CALL(env, napi_set_named_property(env, exports, "lockedProgram", locked));
  napi_value rlimits = make_rlimit_table(env);
  if (!rlimits) return glue_throw_status(env, "building the rlimit table");
  NAPI_CALL(env, napi_set_named_property(env, exports, "rlimitResources", rlimits));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
