/* Listening sockets, pipes and files opened by angel as plain fds that libuv never polls: a socket created
 * through Node's net module would be accepted on by Node itself beside the child. Addresses arrive numeric
 * (names are resolved in TypeScript); everything is close-on-exec, and spawn's fd map decides what a child
 * gets. openat is here because Node has none: a path given by another user is walked one directory fd at a
 * time, so what is checked is what is used. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "fds.h"
#include "js.h"
#include "rights.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h> /* renameat */
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

static napi_value fd_and_port(napi_env env, int fd, int port) {
  napi_value pair, fd_value, port_value;
  if (napi_create_array_with_length(env, 2, &pair) != napi_ok || napi_create_int32(env, fd, &fd_value) != napi_ok ||
      napi_create_int32(env, port, &port_value) != napi_ok || napi_set_element(env, pair, 0, fd_value) != napi_ok ||
      napi_set_element(env, pair, 1, port_value) != napi_ok) {
    close(fd);
    return js_throw_status(env, "building the socket result");
  }
  return pair;
}

static napi_value fail_closing(napi_env env, int fd, const char *step) {
  int err = errno;
  if (fd >= 0) close(fd);
  return js_throw_errno(env, step, err);
}

/* listenInet(family 4|6, numericAddress, port, backlog, v6only) -> [fd, boundPort]. An IPv6 socket with v6only
 * false takes IPv4 connections too, as IPv4-mapped addresses (ipv6(7)). */
napi_value angel_listen_inet(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t family, port, backlog;
  bool v6only;
  char address[INET6_ADDRSTRLEN + 1];
  size_t length;
  if (argc != 5 || !js_get_int32(env, argv[0], "listenInet: family", &family) ||
      !js_get_int32(env, argv[2], "listenInet: port", &port) ||
      !js_get_int32(env, argv[3], "listenInet: backlog", &backlog)) return NULL;
  if ((family != 4 && family != 6) || port < 0 || port > 65535 ||
      napi_get_value_string_utf8(env, argv[1], address, sizeof address, &length) != napi_ok ||
      napi_get_value_bool(env, argv[4], &v6only) != napi_ok) {
    return js_throw_usage(env, "listenInet: expected family 4|6, a numeric address, a port 0-65535, a backlog and v6only");
  }

  struct sockaddr_storage storage;
  memset(&storage, 0, sizeof storage);
  socklen_t size;
  if (family == 4) {
    struct sockaddr_in *in4 = (struct sockaddr_in *)&storage;
    in4->sin_family = AF_INET;
    in4->sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, address, &in4->sin_addr) != 1) return js_throw_usage(env, "listenInet: not an IPv4 address");
    size = sizeof *in4;
  } else {
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&storage;
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons((uint16_t)port);
    if (inet_pton(AF_INET6, address, &in6->sin6_addr) != 1) return js_throw_usage(env, "listenInet: not an IPv6 address");
    size = sizeof *in6;
  }

  int fd = socket(family == 4 ? AF_INET : AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return fail_closing(env, -1, "socket");
  int one = 1;
  /* SO_REUSEADDR: a restarted angel can bind again while old connections sit in TIME_WAIT */
  if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0) return fail_closing(env, fd, "setsockopt(SO_REUSEADDR)");
  /* set either way: the default is the sysctl net.ipv6.bindv6only, which the caller should not depend on */
  int only = v6only ? 1 : 0;
  if (family == 6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &only, sizeof only) < 0) {
    return fail_closing(env, fd, "setsockopt(IPV6_V6ONLY)");
  }
  if (bind(fd, (struct sockaddr *)&storage, size) < 0) return fail_closing(env, fd, "bind");
  if (listen(fd, backlog) < 0) return fail_closing(env, fd, "listen");
  socklen_t bound_size = sizeof storage;
  if (getsockname(fd, (struct sockaddr *)&storage, &bound_size) < 0) return fail_closing(env, fd, "getsockname");
  int bound = family == 4 ? ntohs(((struct sockaddr_in *)&storage)->sin_port)
                          : ntohs(((struct sockaddr_in6 *)&storage)->sin6_port);
  return fd_and_port(env, fd, bound);
}

/* A name of 1 to max-1 bytes without a NUL, into buffer; false with a TypeError thrown otherwise. */
static bool get_name(napi_env env, napi_value value, char *buffer, size_t max, const char *message) {
  size_t length;
  if (napi_get_value_string_utf8(env, value, buffer, max, &length) != napi_ok || length == 0 || length >= max - 1 ||
      strlen(buffer) != length) {
    js_throw_usage(env, message);
    return false;
  }
  return true;
}

/* listenUnix(path, backlog, mode, rights|null) -> fd. The socket file gets its mode from the umask at bind:
 * a chmod by name after it would act on whatever the name holds by then. With rights (rights.c), the bind is
 * made with that user's filesystem rights, and the file is that user's. The caller removes a stale socket
 * file first: that is policy. */
napi_value angel_listen_unix(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t backlog, mode;
  struct sockaddr_un address;
  memset(&address, 0, sizeof address);
  address.sun_family = AF_UNIX;
  struct fs_rights rights;
  if (argc != 4 || !js_get_int32(env, argv[1], "listenUnix: backlog", &backlog) ||
      !js_get_int32(env, argv[2], "listenUnix: mode", &mode)) return NULL;
  if (mode < 0 || mode > 0777) return js_throw_usage(env, "listenUnix: expected a mode from 0 to 0777");
  if (!get_name(env, argv[0], address.sun_path, sizeof address.sun_path, "listenUnix: expected a path of 1-107 bytes")) return NULL;
  if (!js_get_fs_rights(env, argv[3], &rights)) return NULL;
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    fs_rights_free(&rights);
    return fail_closing(env, -1, "socket");
  }
  struct fs_saved saved;
  const char *step = "setfsuid";
  int bound = -1;
  if (fs_rights_enter(&rights, &saved) == 0) {
    /* the umask is the process's (threads share it): no other thread creates files while the bind takes it */
    mode_t umask_before = umask(~(mode_t)mode & 0777);
    bound = bind(fd, (struct sockaddr *)&address, sizeof address);
    umask(umask_before);
    step = "bind";
    fs_rights_leave(&saved);
  }
  fs_rights_free(&rights);
  if (bound < 0) return fail_closing(env, fd, step);
  if (listen(fd, backlog) < 0) return fail_closing(env, fd, "listen");
  napi_value result;
  NAPI_CALL(env, napi_create_int32(env, fd, &result));
  return result;
}

/* The (dirFd, name, …, rights|null) the *At entries take: rights at argv[rights_at]; false with the usage
 * error thrown otherwise. */
static bool get_at_args(napi_env env, napi_callback_info info, napi_value *argv, size_t want, size_t rights_at, const char *entry,
                        int32_t *dir_fd, char *name, size_t max, struct fs_rights *rights) {
  size_t argc = want;
  char what[96];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) {
    js_throw_status(env, "napi_get_cb_info");
    return false;
  }
  if (argc != want) {
    snprintf(what, sizeof what, "%s: expected %zu arguments", entry, want);
    js_throw_usage(env, what);
    return false;
  }
  snprintf(what, sizeof what, "%s: dirFd", entry);
  if (!js_get_int32(env, argv[0], what, dir_fd)) return false;
  snprintf(what, sizeof what, "%s: expected a name of 1-%zu bytes without NUL", entry, max - 2);
  return get_name(env, argv[1], name, max, what) && js_get_fs_rights(env, argv[rights_at], rights);
}

/* lstatAt(dirFd, name, rights|null) -> [mode, dev, ino] (dev and ino as bigints), or null when there is no such
 * entry; with rights, looked up with that user's filesystem rights. */
napi_value angel_lstat_at(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  int32_t dir_fd;
  char name[4096];
  struct fs_rights rights;
  if (!get_at_args(env, info, argv, 3, 2, "lstatAt", &dir_fd, name, sizeof name, &rights)) return NULL;
  struct fs_saved saved;
  struct stat stat;
  int result = -1;
  const char *step = "setfsuid";
  if (fs_rights_enter(&rights, &saved) == 0) {
    result = fstatat(dir_fd, name, &stat, AT_SYMLINK_NOFOLLOW);
    step = "lstat";
    fs_rights_leave(&saved);
  }
  fs_rights_free(&rights);
  napi_value value;
  if (result < 0) {
    if (errno == ENOENT) NAPI_CALL(env, napi_get_null(env, &value));
    else return js_throw_errno(env, step, errno);
    return value;
  }
  napi_value mode, dev, ino;
  NAPI_CALL(env, napi_create_array_with_length(env, 3, &value));
  NAPI_CALL(env, napi_create_uint32(env, stat.st_mode, &mode));
  NAPI_CALL(env, napi_create_bigint_uint64(env, stat.st_dev, &dev));
  NAPI_CALL(env, napi_create_bigint_uint64(env, stat.st_ino, &ino));
  NAPI_CALL(env, napi_set_element(env, value, 0, mode));
  NAPI_CALL(env, napi_set_element(env, value, 1, dev));
  NAPI_CALL(env, napi_set_element(env, value, 2, ino));
  return value;
}

/* The entry's name at dirFd removed (to == NULL) or renamed to `to` in the same directory, with `rights`
 * taken on for the call: 1 done, 0 when there was no such entry, -1 with errno. */
static int change_entry(int dir_fd, const char *name, const char *to, const struct fs_rights *rights, const char **step) {
  struct fs_saved saved;
  *step = "setfsuid";
  if (fs_rights_enter(rights, &saved) < 0) return -1;
  /* rename(2) replaces `to` at once, so an oldest rotated file is gone in the same step as the next takes its name */
  int result = to ? renameat(dir_fd, name, dir_fd, to) : unlinkat(dir_fd, name, 0);
  *step = to ? "rename" : "unlink";
  fs_rights_leave(&saved);
  if (result < 0) return errno == ENOENT ? 0 : -1;
  return 1;
}

/* unlinkAt(dirFd, name, rights|null) -> whether it removed one (false: there was none); renameAt(dirFd, from,
 * to, rights|null) -> whether it renamed one, within the directory (false: there was no `from`). With rights,
 * made with that user's filesystem rights. */
static napi_value entry_call(napi_env env, napi_callback_info info, bool rename) {
  size_t argc = 4;
  napi_value argv[4];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  size_t names = rename ? 2 : 1;
  int32_t dir_fd;
  char name[4096], to[4096];
  struct fs_rights rights;
  if (argc != names + 2 || !js_get_int32(env, argv[0], rename ? "renameAt: dirFd" : "unlinkAt: dirFd", &dir_fd) ||
      !get_name(env, argv[1], name, sizeof name,
                rename ? "renameAt: expected names of 1-4094 bytes without NUL" : "unlinkAt: expected a name of 1-4094 bytes without NUL") ||
      (rename && !get_name(env, argv[2], to, sizeof to, "renameAt: expected names of 1-4094 bytes without NUL")) ||
      !js_get_fs_rights(env, argv[names + 1], &rights)) return NULL;
  /* within the one directory: a missing directory on the way would read as a missing entry (ENOENT) */
  if (rename && (strchr(name, '/') || strchr(to, '/'))) {
    fs_rights_free(&rights);
    return js_throw_usage(env, "renameAt: expected names without /");
  }
  const char *step;
  int result = change_entry(dir_fd, name, rename ? to : NULL, &rights, &step);
  int err = errno;
  fs_rights_free(&rights);
  if (result < 0) return js_throw_errno(env, step, err);
  return js_bool(env, result == 1);
}

napi_value angel_unlink_at(napi_env env, napi_callback_info info) {
  return entry_call(env, info, false);
}

napi_value angel_rename_at(napi_env env, napi_callback_info info) {
  return entry_call(env, info, true);
}

#ifndef SYS_faccessat2
#define SYS_faccessat2 439
#endif

/* accessAt(dirFd, name, mode, rights|null): throws unless the calling thread's credentials may (mode: R_OK,
 * W_OK, X_OK) on the file, as faccessat2(AT_EACCESS) decides it: with the filesystem ids, so with rights it is
 * that user's answer (search rights on every directory on the way, the file's mode and ACL, a noexec mount),
 * the one that user's own open, chdir or execve would get. glibc's faccessat emulates AT_EACCESS from stat on
 * older versions, so the system call is made directly. */
napi_value angel_access_at(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  int32_t dir_fd, mode;
  char name[4096];
  struct fs_rights rights;
  if (!get_at_args(env, info, argv, 4, 3, "accessAt", &dir_fd, name, sizeof name, &rights)) return NULL;
  if (!js_get_int32(env, argv[2], "accessAt: mode", &mode)) {
    fs_rights_free(&rights);
    return NULL;
  }
  struct fs_saved saved;
  long result = -1;
  const char *step = "setfsuid";
  if (fs_rights_enter(&rights, &saved) == 0) {
    result = syscall(SYS_faccessat2, dir_fd, name, mode, AT_EACCESS);
    step = "faccessat2";
    fs_rights_leave(&saved);
  }
  fs_rights_free(&rights);
  if (result < 0) return js_throw_errno(env, step, errno);
  return NULL;
}

/* lockFd(fd, exclusive, wait) -> whether the lock was taken: flock(2), which Node lacks. Without wait, a lock
 * another holds answers false (EWOULDBLOCK). The kernel drops a lock when its last fd closes, so a lock held by
 * a living process proves it alive, across PID namespaces. */
napi_value angel_lock_fd(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t fd;
  bool exclusive, wait;
  if (argc != 3 || !js_get_int32(env, argv[0], "lockFd: fd", &fd) || napi_get_value_bool(env, argv[1], &exclusive) != napi_ok ||
      napi_get_value_bool(env, argv[2], &wait) != napi_ok) {
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    return pending ? NULL : js_throw_usage(env, "lockFd: expected (fd, exclusive, wait)");
  }
  int result;
  do result = flock(fd, (exclusive ? LOCK_EX : LOCK_SH) | (wait ? 0 : LOCK_NB));
  while (result < 0 && errno == EINTR);
  if (result < 0 && errno != EWOULDBLOCK) return js_throw_errno(env, "flock", errno);
  return js_bool(env, result == 0);
}

/* acceptSend(listenFd, text) -> count: every connection waiting on a listening stream socket is accepted, sent
 * `text` (what its socket buffer takes at once: a line of a few KiB) and closed, and none is waited for. A
 * socket that answers one line to whoever connects needs nothing more, and so no node:net (whose listen loads
 * cluster, child_process and dgram, and keeps them in every angel). -errno when accept fails otherwise than for
 * want of a connection (EMFILE: the caller pauses, or the pending connection would wake it again at once). */
napi_value angel_accept_send(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t fd;
  char *text;
  if (argc < 2 || !js_get_int32(env, argv[0], "acceptSend: fd", &fd) || !(text = js_get_string(env, argv[1], "acceptSend: text", 0))) return NULL;
  size_t length = strlen(text);
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0 || (!(flags & O_NONBLOCK) && fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)) {
    int err = errno;
    free(text);
    return js_throw_errno(env, "fcntl", err);
  }
  int32_t result = 0;
  for (;;) {
    int connection = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (connection < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) result = -errno;
      break;
    }
    (void)send(connection, text, length, MSG_NOSIGNAL | MSG_DONTWAIT);
    close(connection);
    result++;
  }
  free(text);
  napi_value count;
  NAPI_CALL(env, napi_create_int32(env, result, &count));
  return count;
}

/* pipe() -> [readFd, writeFd], both close-on-exec (Node has no pipe(2)). */
napi_value angel_pipe(napi_env env, napi_callback_info info) {
  (void)info;
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) < 0) return js_throw_errno(env, "pipe2", errno);
  napi_value pair, read_end, write_end;
  if (napi_create_array_with_length(env, 2, &pair) != napi_ok || napi_create_int32(env, fds[0], &read_end) != napi_ok ||
      napi_create_int32(env, fds[1], &write_end) != napi_ok || napi_set_element(env, pair, 0, read_end) != napi_ok ||
      napi_set_element(env, pair, 1, write_end) != napi_ok) {
    close(fds[0]);
    close(fds[1]);
    return js_throw_status(env, "building the pipe result");
  }
  return pair;
}

/* openAt(dirFd, name, flags, mode, rights|null) -> fd: openat(2), close-on-exec always; dirFd -100 is
 * AT_FDCWD. With rights, opened (and created) with that user's filesystem rights (rights.c). */
napi_value angel_open_at(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t dir_fd, flags, mode;
  char name[4096];
  struct fs_rights rights;
  if (argc < 4 || !js_get_int32(env, argv[0], "openAt: dirFd", &dir_fd) ||
      !js_get_int32(env, argv[2], "openAt: flags", &flags) || !js_get_int32(env, argv[3], "openAt: mode", &mode)) {
    return NULL;
  }
  if (!get_name(env, argv[1], name, sizeof name, "openAt: expected a name of 1-4094 bytes without NUL")) return NULL;
  if (argc < 5) rights.active = false, rights.groups = NULL;
  else if (!js_get_fs_rights(env, argv[4], &rights)) return NULL;
  struct fs_saved saved;
  int fd = -1;
  const char *step = "setfsuid";
  if (fs_rights_enter(&rights, &saved) == 0) {
    fd = openat(dir_fd, name, flags | O_CLOEXEC, (mode_t)mode);
    step = "openat";
    fs_rights_leave(&saved);
  }
  fs_rights_free(&rights);
  if (fd < 0) return js_throw_errno(env, step, errno);
  napi_value result;
  NAPI_CALL(env, napi_create_int32(env, fd, &result));
  return result;
}

/* readAt(fd, buffer, offset, length, position) -> the bytes read: pread(2) into buffer[offset, offset + length).
 * fs.readSync does the same behind five argument checks, each in a wrapper that spreads its arguments into a
 * new array (node:internal/errors' hideStackFrames): the tree sampler reads two /proc files of every process,
 * every 100 ms, for days. */
napi_value angel_read_at(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t fd, offset, length;
  double position;
  bool is_buffer = false;
  void *data = NULL;
  size_t size = 0;
  if (argc != 5 || !js_get_int32(env, argv[0], "readAt: fd", &fd) || !js_get_int32(env, argv[2], "readAt: offset", &offset) ||
      !js_get_int32(env, argv[3], "readAt: length", &length) || !js_get_double(env, argv[4], "readAt: position", &position)) {
    return NULL;
  }
  if (napi_is_buffer(env, argv[1], &is_buffer) != napi_ok || !is_buffer ||
      napi_get_buffer_info(env, argv[1], &data, &size) != napi_ok || offset < 0 || length < 0 ||
      (size_t)offset + (size_t)length > size || !(position >= 0 && position < 9007199254740992.0 /* 2^53 */)) {
    return js_throw_usage(env, "readAt: expected an fd, a Buffer, an offset and a length within it, and a position >= 0");
  }
  ssize_t got;
  do got = pread(fd, (char *)data + offset, (size_t)length, (off_t)position);
  while (got < 0 && errno == EINTR);
  if (got < 0) return js_throw_errno(env, "pread", errno);
  napi_value result;
  NAPI_CALL(env, napi_create_int32(env, (int32_t)got, &result));
  return result;
}

/* linkCount(fd) -> fstat(2)'s st_nlink. On /proc/<pid>/task, open, it is 2 plus the process's threads, counted
 * at each call (proc_task_getattr): the tree sampler's thread count, one system call where the status file is
 * a text generated for every read. An int32 (a small integer to V8), not a double: a heap number made at every
 * sample brought V8's number paths into an idle angel's resident pages (60 KB of Node's binary, measured). */
napi_value angel_link_count(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t fd;
  if (argc != 1 || !js_get_int32(env, argv[0], "linkCount: fd", &fd)) return NULL;
  struct stat st;
  if (fstat(fd, &st) < 0) return js_throw_errno(env, "fstat", errno);
  napi_value result;
  NAPI_CALL(env, napi_create_int32(env, st.st_nlink > INT32_MAX ? INT32_MAX : (int32_t)st.st_nlink, &result));
  return result;
}
