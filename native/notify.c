/* sd_notify's datagrams, both ways (sd_notify(3)): a bound SOCK_DGRAM with SO_PASSCRED that each generation
 * gets as NOTIFY_SOCKET, read by a libuv poll handle as watch.c reads a pidfd; and one datagram sent to
 * angel's own manager. Node has no unix datagram sockets. Mechanism only: what a message says, and whether
 * its sender may say it, is decided in TypeScript from the text and the kernel's SCM_CREDENTIALS. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "notify.h"
#include "js.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <uv.h>

/* systemd reads at most this much of a notification (NOTIFY_BUFFER_MAX, PIPE_BUF) */
#define NOTIFY_MAX 4096
/* a wakeup reads at most this many datagrams, so a flood cannot hold the loop; the poll fires again */
#define NOTIFY_BATCH 64
#define NOTIFY_MAX_FDS 253 /* SCM_MAX_FD */

/* A path, or '@' for the abstract namespace (unix(7)); *size is the address length to pass. */
static bool unix_address(const char *text, struct sockaddr_un *address, socklen_t *size) {
  size_t length = strlen(text);
  memset(address, 0, sizeof *address);
  address->sun_family = AF_UNIX;
  if (length == 0 || length >= sizeof address->sun_path) return false;
  memcpy(address->sun_path, text, length);
  if (text[0] == '@') address->sun_path[0] = '\0';
  *size = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + length + (text[0] == '@' ? 0 : 1));
  return true;
}

/* notifySocket(path|@abstract, mode) -> fd: bound, non-blocking, close-on-exec, SO_PASSCRED on. The caller
 * removes a stale file first and the socket file when done: that is policy. */
napi_value angel_notify_socket(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t mode;
  if (argc != 2 || !js_get_int32(env, argv[1], "notifySocket: mode", &mode)) return NULL;
  char *path = js_get_string(env, argv[0], "notifySocket: path", 0);
  if (!path) return NULL;
  struct sockaddr_un address;
  socklen_t size;
  if (!unix_address(path, &address, &size)) {
    free(path);
    return js_throw_usage(env, "notifySocket: expected a path or @name of 1-107 bytes");
  }
  int one = 1, err = 0;
  const char *step = NULL;
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) step = "socket";
  else if (setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof one) < 0) step = "setsockopt(SO_PASSCRED)";
  else if (bind(fd, (struct sockaddr *)&address, size) < 0) step = "bind";
  else if (path[0] != '@' && chmod(path, (mode_t)mode) < 0) step = "chmod";
  if (step) err = errno;
  free(path);
  if (step) {
    if (fd >= 0) close(fd);
    return js_throw_errno(env, step, err);
  }
  napi_value result;
  NAPI_CALL(env, napi_create_int32(env, fd, &result));
  return result;
}

/* Lives until both libuv has closed the handle and JS has dropped the external that names it. */
struct notify_watch {
  uv_poll_t poll;
  napi_env env;
  struct js_callback callback;
  int fd;
  bool closing, handle_closed, collected;
};

static void free_if_done(struct notify_watch *watch) {
  if (watch->handle_closed && watch->collected) free(watch);
}

static void on_notify_closed(uv_handle_t *handle) {
  struct notify_watch *watch = handle->data;
  close(watch->fd);
  watch->handle_closed = true;
  free_if_done(watch);
}

static void on_external_collected(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  struct notify_watch *watch = data;
  watch->collected = true;
  free_if_done(watch);
}

static void stop_watch(struct notify_watch *watch) {
  if (watch->closing) return;
  watch->closing = true;
  uv_poll_stop(&watch->poll);
  js_release_callback(watch->env, &watch->callback);
  uv_close((uv_handle_t *)&watch->poll, on_notify_closed);
}

/* Calls back with (text, pid, uid, truncated); pid 0 when the sender's credentials did not come. */
static void deliver(struct notify_watch *watch, const char *text, size_t length, const struct ucred *cred, bool truncated) {
  napi_env env = watch->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value argv[4];
  if (napi_create_string_utf8(env, text, length, &argv[0]) == napi_ok &&
      napi_create_int32(env, cred ? cred->pid : 0, &argv[1]) == napi_ok &&
      napi_create_int64(env, cred ? (int64_t)cred->uid : -1, &argv[2]) == napi_ok &&
      napi_get_boolean(env, truncated, &argv[3]) == napi_ok) {
    js_call_back(env, &watch->callback, 4, argv);
  }
  napi_close_handle_scope(env, scope);
}

static void on_notify_readable(uv_poll_t *poll, int status, int events) {
  (void)events;
  struct notify_watch *watch = poll->data;
  if (status < 0) return;
  static char text[NOTIFY_MAX];
  static char control[CMSG_SPACE(sizeof(struct ucred)) + CMSG_SPACE(sizeof(int) * NOTIFY_MAX_FDS)];
  for (int n = 0; n < NOTIFY_BATCH && !watch->closing; n++) {
    struct iovec iov = {text, sizeof text};
    struct msghdr message = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control};
    ssize_t length = recvmsg(watch->fd, &message, MSG_DONTWAIT | MSG_CMSG_CLOEXEC | MSG_TRUNC);
    if (length < 0) return; /* EAGAIN: drained; anything else: the next wakeup tries again */
    const struct ucred *cred = NULL;
    int *fds = NULL;
    size_t nfds = 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&message); c; c = CMSG_NXTHDR(&message, c)) {
      if (c->cmsg_level != SOL_SOCKET) continue;
      if (c->cmsg_type == SCM_CREDENTIALS && c->cmsg_len == CMSG_LEN(sizeof(struct ucred))) cred = (const struct ucred *)CMSG_DATA(c);
      if (c->cmsg_type == SCM_RIGHTS) {
        fds = (int *)CMSG_DATA(c);
        nfds = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      }
    }
    size_t kept = (size_t)length < sizeof text ? (size_t)length : sizeof text;
    deliver(watch, text, kept, cred, (size_t)length > sizeof text || (message.msg_flags & MSG_TRUNC));
    /* fds sent along (sd_notify_barrier's pipe, FDSTORE=1) are not kept: closing them after the message
     * was handled is what tells a BARRIER=1 sender it was */
    for (size_t i = 0; i < nfds; i++) close(fds[i]);
  }
}

static void on_notify_error(napi_env env, struct notify_watch *watch) {
  js_release_callback(env, &watch->callback);
  free(watch);
}

/* notifyWatch(fd, callback(text, pid, uid, truncated)) -> handle. The watch owns the fd from here on; it
 * does not keep the loop alive. */
napi_value angel_notify_watch(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t fd;
  if (argc != 2 || !js_get_int32(env, argv[0], "notifyWatch: fd", &fd)) return NULL;
  if (!js_check_function(env, argv[1], "notifyWatch: callback")) return NULL;
  uv_loop_t *loop;
  NAPI_CALL(env, napi_get_uv_event_loop(env, &loop));
  struct notify_watch *watch = calloc(1, sizeof *watch);
  if (!watch) return js_throw_errno(env, "notifyWatch", ENOMEM);
  watch->env = env;
  watch->fd = fd;
  if (!js_hold_callback(env, argv[1], "angel:notify", &watch->callback)) {
    free(watch);
    return NULL;
  }
  int rc = uv_poll_init(loop, &watch->poll, fd);
  if (rc != 0) {
    on_notify_error(env, watch);
    return js_throw_errno(env, "notifyWatch", -rc);
  }
  watch->poll.data = watch;
  uv_unref((uv_handle_t *)&watch->poll);
  napi_value handle;
  if (napi_create_external(env, watch, on_external_collected, NULL, &handle) != napi_ok) {
    watch->collected = true; /* no external will ever be collected: the close alone frees it */
    stop_watch(watch);
    return js_throw_status(env, "notifyWatch: napi_create_external");
  }
  rc = uv_poll_start(&watch->poll, UV_READABLE, on_notify_readable);
  if (rc != 0) {
    stop_watch(watch);
    return js_throw_errno(env, "notifyWatch", -rc);
  }
  return handle;
}

/* notifyClose(handle): stops reading and closes the socket; a second call does nothing. */
napi_value angel_notify_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  void *data;
  if (!js_get_handle(env, argc, argv, "notifyClose: expected a handle from notifyWatch", &data)) return NULL;
  stop_watch(data);
  return NULL;
}

/* notifySend(path|@abstract, text): one datagram, as sd_notify(3) sends it; never blocks (a full queue is
 * EAGAIN for the caller to report). */
napi_value angel_notify_send(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 2) return js_throw_usage(env, "notifySend: expected an address and a message");
  char *path = js_get_string(env, argv[0], "notifySend: address", 0);
  if (!path) return NULL;
  char *text = js_get_string(env, argv[1], "notifySend: message", 0);
  struct sockaddr_un address;
  socklen_t size;
  bool valid = text && unix_address(path, &address, &size);
  free(path);
  if (!valid) {
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    free(text);
    return pending ? NULL : js_throw_usage(env, "notifySend: expected a path or @name of 1-107 bytes");
  }
  const char *step = NULL;
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0), err = 0;
  if (fd < 0) step = "socket";
  else if (sendto(fd, text, strlen(text), MSG_NOSIGNAL | MSG_DONTWAIT, (struct sockaddr *)&address, size) < 0) step = "sendto";
  if (step) err = errno;
  if (fd >= 0) close(fd);
  free(text);
  if (step) return js_throw_errno(env, step, err);
  return NULL;
}
