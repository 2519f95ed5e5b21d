/* sd_notify datagrams: a credential-passing socket per generation, read by a libuv poll handle, and one
 * datagram sent to angel's own manager. */
#ifndef ANGEL_NOTIFY_H
#define ANGEL_NOTIFY_H

#include <node_api.h>

napi_value angel_notify_socket(napi_env env, napi_callback_info info);
napi_value angel_notify_watch(napi_env env, napi_callback_info info);
napi_value angel_notify_close(napi_env env, napi_callback_info info);
napi_value angel_notify_send(napi_env env, napi_callback_info info);

#endif
