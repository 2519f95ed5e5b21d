/* An eventfd, and a watch on any fd through a libuv poll handle: the callback runs on the loop each time the fd
 * is ready, until unwatchFd. Mechanism only: what the fd is and what its readiness means is TypeScript's, which
 * must consume it (read the eventfd, re-read the changed file) or be called again at once, as the poll is
 * level-triggered. The handle is unref'd: a watch never keeps angel alive on its own. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "events.h"
#include "js.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <uv.h>

struct fd_watch {
  uv_poll_t poll;
  napi_env env;
  struct js_callback callback;
};

/* What JS holds: the watch until it is unwatched, then NULL; freed when JS lets go of it. */
struct watch_box {
  struct fd_watch *watch;
};

/* eventfd() -> fd, close-on-exec and non-blocking. */
napi_value angel_eventfd(napi_env env, napi_callback_info info) {
  (void)info;
  int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (fd < 0) return js_throw_errno(env, "eventfd", errno);
  napi_value result;
  NAPI_CALL(env, napi_create_int32(env, fd, &result));
  return result;
}

static void on_ready(uv_poll_t *poll, int status, int events) {
  (void)status;
  (void)events;
  struct fd_watch *watch = poll->data;
  napi_env env = watch->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  js_call_back(env, &watch->callback, 0, NULL);
  napi_close_handle_scope(env, scope);
}

static void on_closed(uv_handle_t *handle) {
  free(handle->data);
}

static void stop_watch(struct watch_box *box) {
  struct fd_watch *watch = box->watch;
  if (!watch) return;
  box->watch = NULL;
  uv_poll_stop(&watch->poll);
  js_release_callback(watch->env, &watch->callback);
  uv_close((uv_handle_t *)&watch->poll, on_closed);
}

static void finalize_box(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  stop_watch(data);
  free(data);
}

/* watchFd(fd, priority, callback()) -> handle: calls back while the fd is readable (priority: has priority
 * data, POLLPRI, which is how kernfs reports a changed file). */
napi_value angel_watch_fd(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t fd;
  bool priority;
  if (!js_get_int32(env, argv[0], "watchFd: fd", &fd)) return NULL;
  if (napi_get_value_bool(env, argv[1], &priority) != napi_ok) return js_throw_usage(env, "watchFd: priority must be a boolean");
  if (!js_check_function(env, argv[2], "watchFd: callback")) return NULL;

  uv_loop_t *loop;
  NAPI_CALL(env, napi_get_uv_event_loop(env, &loop));
  struct fd_watch *watch = calloc(1, sizeof *watch);
  struct watch_box *box = calloc(1, sizeof *box);
  if (!watch || !box) {
    free(watch);
    free(box);
    return js_throw_errno(env, "watchFd", ENOMEM);
  }
  int rc = uv_poll_init(loop, &watch->poll, fd);
  if (rc != 0) {
    free(watch);
    free(box);
    return js_throw_errno(env, "watchFd", -rc);
  }
  watch->env = env;
  watch->poll.data = watch;
  box->watch = watch;
  napi_value handle;
  if (!js_hold_callback(env, argv[2], "angel:fd", &watch->callback)) {
    uv_close((uv_handle_t *)&watch->poll, on_closed);
    free(box);
    return NULL;
  }
  rc = uv_poll_start(&watch->poll, priority ? UV_PRIORITIZED : UV_READABLE, on_ready);
  if (rc == 0) uv_unref((uv_handle_t *)&watch->poll);
  if (rc != 0 || napi_create_external(env, box, finalize_box, NULL, &handle) != napi_ok) {
    stop_watch(box);
    free(box);
    return rc != 0 ? js_throw_errno(env, "watchFd", -rc) : js_throw_status(env, "watchFd: building the handle");
  }
  return handle;
}

/* unwatchFd(handle): no more callbacks; the fd stays open (it is the caller's). */
napi_value angel_unwatch_fd(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  void *box;
  if (!js_get_handle(env, argc, argv, "unwatchFd: expected a handle from watchFd", &box)) return NULL;
  stop_watch(box);
  return NULL;
}
