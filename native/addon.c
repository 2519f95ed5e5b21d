/* The addon's exports: a few flat functions taking primitives and arrays (the entries of process.c, watch.c,
 * fds.c, events.c and notify.c), the rlimit resource numbers, and the one program of a locked build. Mechanism only: no
 * timers, no policy, no logging; everything it is told was decided in TypeScript. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "accounts.h"
#include "events.h"
#include "fds.h"
#include "generated/lock.h"
#include "js.h"
#include "notify.h"
#include "process.h"
#include "watch.h"

#include <sys/resource.h>
#include <unistd.h>

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
    {"prepareProgram", NULL, angel_prepare_program, NULL, NULL, NULL, napi_enumerable, NULL},
    {"spawn", NULL, angel_spawn_entry, NULL, NULL, NULL, napi_enumerable, NULL},
    {"prepareStrings", NULL, angel_prepare_strings, NULL, NULL, NULL, napi_enumerable, NULL},
    {"watchExit", NULL, angel_watch_exit, NULL, NULL, NULL, napi_enumerable, NULL},
    {"sendSignal", NULL, angel_send_signal, NULL, NULL, NULL, napi_enumerable, NULL},
    {"signalGroup", NULL, angel_signal_group, NULL, NULL, NULL, napi_enumerable, NULL},
    {"getgrouplist", NULL, angel_getgrouplist, NULL, NULL, NULL, napi_enumerable, NULL},
    {"lookupUser", NULL, angel_lookup_user, NULL, NULL, NULL, napi_enumerable, NULL},
    {"lookupGroup", NULL, angel_lookup_group, NULL, NULL, NULL, napi_enumerable, NULL},
    {"setChildSubreaper", NULL, angel_set_child_subreaper, NULL, NULL, NULL, napi_enumerable, NULL},
    {"reapPid", NULL, angel_reap_pid, NULL, NULL, NULL, napi_enumerable, NULL},
    {"reapEnded", NULL, angel_reap_ended, NULL, NULL, NULL, napi_enumerable, NULL},
    {"yieldProcessor", NULL, angel_yield_processor, NULL, NULL, NULL, napi_enumerable, NULL},
    {"listenInet", NULL, angel_listen_inet, NULL, NULL, NULL, napi_enumerable, NULL},
    {"listenUnix", NULL, angel_listen_unix, NULL, NULL, NULL, napi_enumerable, NULL},
    {"pipe", NULL, angel_pipe, NULL, NULL, NULL, napi_enumerable, NULL},
    {"acceptSend", NULL, angel_accept_send, NULL, NULL, NULL, napi_enumerable, NULL},
    {"lockFd", NULL, angel_lock_fd, NULL, NULL, NULL, napi_enumerable, NULL},
    {"openAt", NULL, angel_open_at, NULL, NULL, NULL, napi_enumerable, NULL},
    {"lstatAt", NULL, angel_lstat_at, NULL, NULL, NULL, napi_enumerable, NULL},
    {"unlinkAt", NULL, angel_unlink_at, NULL, NULL, NULL, napi_enumerable, NULL},
    {"renameAt", NULL, angel_rename_at, NULL, NULL, NULL, napi_enumerable, NULL},
    {"accessAt", NULL, angel_access_at, NULL, NULL, NULL, napi_enumerable, NULL},
    {"readAt", NULL, angel_read_at, NULL, NULL, NULL, napi_enumerable, NULL},
    {"linkCount", NULL, angel_link_count, NULL, NULL, NULL, napi_enumerable, NULL},
    {"eventfd", NULL, angel_eventfd, NULL, NULL, NULL, napi_enumerable, NULL},
    {"watchFd", NULL, angel_watch_fd, NULL, NULL, NULL, napi_enumerable, NULL},
    {"unwatchFd", NULL, angel_unwatch_fd, NULL, NULL, NULL, napi_enumerable, NULL},
    {"notifySocket", NULL, angel_notify_socket, NULL, NULL, NULL, napi_enumerable, NULL},
    {"notifyWatch", NULL, angel_notify_watch, NULL, NULL, NULL, napi_enumerable, NULL},
    {"notifyClose", NULL, angel_notify_close, NULL, NULL, NULL, napi_enumerable, NULL},
    {"notifySend", NULL, angel_notify_send, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  NAPI_CALL(env, napi_define_properties(env, exports, sizeof functions / sizeof functions[0], functions));
  /* the one program a locked build may start, or null */
  napi_value locked;
  if (ANGEL_LOCK_PROGRAM[0] == '\0') NAPI_CALL(env, napi_get_null(env, &locked));
  else NAPI_CALL(env, napi_create_string_utf8(env, ANGEL_LOCK_PROGRAM, NAPI_AUTO_LENGTH, &locked));
  NAPI_CALL(env, napi_set_named_property(env, exports, "lockedProgram", locked));
  napi_value rlimits = make_rlimit_table(env);
  if (!rlimits) return js_throw_status(env, "building the rlimit table");
  NAPI_CALL(env, napi_set_named_property(env, exports, "rlimitResources", rlimits));
  /* the unit of /proc/<pid>/statm's counts */
  napi_value page_size;
  NAPI_CALL(env, napi_create_int32(env, (int32_t)sysconf(_SC_PAGESIZE), &page_size));
  NAPI_CALL(env, napi_set_named_property(env, exports, "pageSize", page_size));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
