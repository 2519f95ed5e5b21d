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
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

/* Every watched pidfd of a Node environment is in one epoll set of angel's, and that set is the one fd watched
 * in the environment's loop (a uv_poll): watching a child costs one epoll_ctl. A uv_poll per pidfd cost four
 * system calls on every spawn's path (uv_poll_init's probe, an epoll_ctl add and a delete, its FIONBIO ioctl,
 * and uv_poll_start's delete) and an async resource made and destroyed per child: 15 us a spawn on the
 * benchmarks' VM, where a system call costs 1.2 us. */
struct exit_watcher {
  uv_poll_t poll;
  napi_env env;
  int epfd;
  /* one async resource, "angel:exit", for every exit callback */
  napi_async_context context;
  /* children watched: the poll keeps the loop alive while there is one, as a uv_poll each did */
  unsigned watching;
};

struct exit_watch {
  napi_ref function;
  int pidfd;
};

static void free_watcher(uv_handle_t *handle) {
  struct exit_watcher *watcher = handle->data;
  close(watcher->epfd);
  free(watcher);
}

/* The environment's end: its loop closes the poll (the watches left, of children that outlive it, are not
 * called back). */
static void end_watcher(napi_env env, void *data, void *hint) {
  struct exit_watcher *watcher = data;
  (void)hint;
  napi_async_destroy(env, watcher->context);
  uv_close((uv_handle_t *)&watcher->poll, free_watcher);
}

/* Reaps the child of `watch` if it has ended and calls its callback (code|null, signal|null, coreDumped). */
static void check_exit(struct exit_watcher *watcher, struct exit_watch *watch) {
  siginfo_t info;
  memset(&info, 0, sizeof info);
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
  epoll_ctl(watcher->epfd, EPOLL_CTL_DEL, watch->pidfd, NULL);
  if (--watcher->watching == 0) uv_unref((uv_handle_t *)&watcher->poll);

  napi_env env = watcher->env;
  struct js_callback callback = {watch->function, watcher->context};
  free(watch);
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) {
    napi_delete_reference(env, callback.function);
    return;
  }
  int code = -1, sig = 0, core = 0;
  if (info.si_code == CLD_EXITED) {
    code = info.si_status;
  } else {
    sig = info.si_status;
    core = info.si_code == CLD_DUMPED;
  }
  napi_value argv[3];
  napi_value null_value;
  napi_get_null(env, &null_value);
  if (code >= 0) napi_create_int32(env, code, &argv[0]); else argv[0] = null_value;
  if (sig > 0) napi_create_int32(env, sig, &argv[1]); else argv[1] = null_value;
  napi_get_boolean(env, core, &argv[2]);
  js_call_back(env, &callback, 3, argv);
  napi_delete_reference(env, callback.function);
  napi_close_handle_scope(env, scope);
}

static void on_exits(uv_poll_t *poll, int status, int events) {
  struct exit_watcher *watcher = poll->data;
  (void)status;
  (void)events;
  struct epoll_event ready[16];
  int count;
  /* a callback may watch a new child (a restart): it is in the set for the next turn, not in `ready` */
  do {
    count = epoll_wait(watcher->epfd, ready, 16, 0);
    for (int i = 0; i < count; i++) check_exit(watcher, ready[i].data.ptr);
  } while (count == 16 || (count < 0 && errno == EINTR));
}

/* The environment's watcher, made at its first watch; NULL with an exception pending when it cannot be. */
static struct exit_watcher *watcher_of(napi_env env) {
  struct exit_watcher *watcher = NULL;
  if (napi_get_instance_data(env, (void **)&watcher) == napi_ok && watcher) return watcher;
  uv_loop_t *loop;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok) {
    js_throw_status(env, "napi_get_uv_event_loop");
    return NULL;
  }
  watcher = calloc(1, sizeof *watcher);
  if (!watcher) {
    js_throw_errno(env, "watchExit", ENOMEM);
    return NULL;
  }
  watcher->env = env;
  watcher->epfd = epoll_create1(EPOLL_CLOEXEC);
  if (watcher->epfd < 0) {
    int err = errno;
    free(watcher);
    js_throw_errno(env, "epoll_create1", err);
    return NULL;
  }
  int rc = uv_poll_init(loop, &watcher->poll, watcher->epfd);
  if (rc != 0) {
    close(watcher->epfd);
    free(watcher);
    js_throw_errno(env, "watchExit", -rc);
    return NULL;
  }
  watcher->poll.data = watcher;
  rc = uv_poll_start(&watcher->poll, UV_READABLE, on_exits);
  if (rc != 0) {
    js_throw_errno(env, "watchExit", -rc);
    uv_close((uv_handle_t *)&watcher->poll, free_watcher);
    return NULL;
  }
  if (!js_async_context(env, "angel:exit", &watcher->context)) {
    uv_close((uv_handle_t *)&watcher->poll, free_watcher);
    return NULL;
  }
  uv_unref((uv_handle_t *)&watcher->poll);
  if (napi_set_instance_data(env, watcher, end_watcher, NULL) != napi_ok) {
    napi_async_destroy(env, watcher->context);
    uv_close((uv_handle_t *)&watcher->poll, free_watcher);
    js_throw_status(env, "napi_set_instance_data");
    return NULL;
  }
  return watcher;
}

/* watchExit(pidfd, callback(code|null, signal|null, coreDumped)): the loop is kept alive until the exit */
napi_value angel_watch_exit(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t pidfd;
  if (!js_get_int32(env, argv[0], "watchExit: pidfd", &pidfd)) return NULL;
  if (!js_check_function(env, argv[1], "watchExit: callback")) return NULL;
  struct exit_watcher *watcher = watcher_of(env);
  if (!watcher) return NULL;
  struct exit_watch *watch = calloc(1, sizeof *watch);
  if (!watch) return js_throw_errno(env, "watchExit", ENOMEM);
  watch->pidfd = pidfd;
  if (napi_create_reference(env, argv[1], 1, &watch->function) != napi_ok) {
    free(watch);
    return js_throw_status(env, "napi_create_reference");
  }
  struct epoll_event event = {.events = EPOLLIN, .data.ptr = watch};
  if (epoll_ctl(watcher->epfd, EPOLL_CTL_ADD, pidfd, &event) != 0) {
    int err = errno;
    napi_delete_reference(env, watch->function);
    free(watch);
    return js_throw_errno(env, "epoll_ctl", err);
  }
  if (watcher->watching++ == 0) uv_ref((uv_handle_t *)&watcher->poll);
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
