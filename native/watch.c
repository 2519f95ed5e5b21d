/* Exit watching and signalling by pidfd.
 * waitid(P_PIDFD) reaps exactly our child, so libuv, which only waitpid()s the pids it spawned, never loses a
 * status to us and we never steal one of its (a waitpid(-1) here would: child_process 'exit' would never fire). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "watch.h"
#include "js.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

struct exit_watch {
  uv_poll_t poll;
  napi_env env;
  struct js_callback callback;
  int pidfd;
};

static void on_watch_closed(uv_handle_t *handle) {
  free(handle->data);
}

static void deliver_exit(struct exit_watch *watch, const siginfo_t *info) {
  napi_env env = watch->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;

  int code = -1, sig = 0, core = 0;
  if (info->si_code == CLD_EXITED) {
    code = info->si_status;
  } else {
    sig = info->si_status;
    core = info->si_code == CLD_DUMPED;
  }
  napi_value argv[3];
  napi_value null_value;
  napi_get_null(env, &null_value);
  if (code >= 0) napi_create_int32(env, code, &argv[0]); else argv[0] = null_value;
  if (sig > 0) napi_create_int32(env, sig, &argv[1]); else argv[1] = null_value;
  napi_get_boolean(env, core, &argv[2]);
  js_call_back(env, &watch->callback, 3, argv);
  js_release_callback(env, &watch->callback);
  napi_close_handle_scope(env, scope);
}

static void on_pidfd_readable(uv_poll_t *poll, int status, int events) {
  struct exit_watch *watch = poll->data;
  (void)events;
  siginfo_t info;
  memset(&info, 0, sizeof info);
  if (status == 0) {
    int rc;
    do {
      rc = waitid(P_PIDFD, watch->pidfd, &info, WEXITED | WNOHANG);
    } while (rc < 0 && errno == EINTR);
    if (rc == 0 && info.si_pid == 0) return; /* woken early: not exited yet */
    if (rc < 0) {
      /* ECHILD: someone else reaped it; report an unknown status rather than hang forever */
      info.si_code = CLD_KILLED;
      info.si_status = 0;
    }
  }
  uv_poll_stop(poll);
  uv_close((uv_handle_t *)poll, on_watch_closed);
  deliver_exit(watch, &info);
}

/* watchExit(pidfd, callback(code|null, signal|null, coreDumped)): the handle keeps the loop alive until the exit */
napi_value angel_watch_exit(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t pidfd;
  if (!js_get_int32(env, argv[0], "watchExit: pidfd", &pidfd)) return NULL;
  if (!js_check_function(env, argv[1], "watchExit: callback")) return NULL;

  uv_loop_t *loop;
  NAPI_CALL(env, napi_get_uv_event_loop(env, &loop));
  struct exit_watch *watch = calloc(1, sizeof *watch);
  if (!watch) return js_throw_errno(env, "watchExit", ENOMEM);
  watch->env = env;
  watch->pidfd = pidfd;
  if (!js_hold_callback(env, argv[1], "angel:exit", &watch->callback)) {
    free(watch);
    return NULL;
  }

  int rc = uv_poll_init(loop, &watch->poll, pidfd);
  if (rc == 0) {
    watch->poll.data = watch;
    rc = uv_poll_start(&watch->poll, UV_READABLE, on_pidfd_readable);
    if (rc != 0) uv_close((uv_handle_t *)&watch->poll, on_watch_closed);
  } else {
    js_release_callback(env, &watch->callback);
    free(watch);
  }
  if (rc != 0) return js_throw_errno(env, "watchExit", -rc);
  return NULL;
}

/* sendSignal(pidfd, sig) -> true, or false when the process is already gone (ESRCH) */
napi_value angel_send_signal(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t pidfd, sig;
  if (!js_get_int32(env, argv[0], "sendSignal: pidfd", &pidfd)) return NULL;
  if (!js_get_int32(env, argv[1], "sendSignal: signal", &sig)) return NULL;
  if (syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) == 0) return js_bool(env, true);
  if (errno == ESRCH) return js_bool(env, false);
  return js_throw_errno(env, "pidfd_send_signal", errno);
}

/* signalGroup(pgid, sig) -> true, or false when no process of the group is left (ESRCH) */
napi_value angel_signal_group(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t pgid, sig;
  if (!js_get_int32(env, argv[0], "signalGroup: pgid", &pgid)) return NULL;
  if (!js_get_int32(env, argv[1], "signalGroup: signal", &sig)) return NULL;
  if (pgid <= 1) return js_throw_usage(env, "signalGroup: pgid must be > 1");
  if (kill(-pgid, sig) == 0) return js_bool(env, true);
  if (errno == ESRCH) return js_bool(env, false);
  return js_throw_errno(env, "kill", errno);
}
