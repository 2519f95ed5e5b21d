/* Listening sockets, pipes and files, as plain close-on-exec fds. */
#ifndef ANGEL_FDS_H
#define ANGEL_FDS_H

#include <node_api.h>

napi_value angel_listen_inet(napi_env env, napi_callback_info info);
napi_value angel_listen_unix(napi_env env, napi_callback_info info);
napi_value angel_pipe(napi_env env, napi_callback_info info);
napi_value angel_accept_send(napi_env env, napi_callback_info info);
napi_value angel_lock_fd(napi_env env, napi_callback_info info);
napi_value angel_open_at(napi_env env, napi_callback_info info);
napi_value angel_lstat_at(napi_env env, napi_callback_info info);
napi_value angel_unlink_at(napi_env env, napi_callback_info info);
napi_value angel_rename_at(napi_env env, napi_callback_info info);
napi_value angel_access_at(napi_env env, napi_callback_info info);
napi_value angel_read_at(napi_env env, napi_callback_info info);
napi_value angel_link_count(napi_env env, napi_callback_info info);

#endif
