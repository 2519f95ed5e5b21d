/* Exit watching on a pidfd, without polling: a libuv poll handle wakes when the process ends. */
#ifndef ANGEL_WATCH_H
#define ANGEL_WATCH_H

#include <node_api.h>

napi_value angel_watch_exit(napi_env env, napi_callback_info info);
napi_value angel_send_signal(napi_env env, napi_callback_info info);
napi_value angel_signal_group(napi_env env, napi_callback_info info);

#endif
