/* Kernel notifications as fds: an eventfd (cgroup v1's memory thresholds and OOM notices arrive on one) and a
 * watch that calls back whenever an fd is readable or has priority data (a cgroup v2 file's change). */
#ifndef ANGEL_EVENTS_H
#define ANGEL_EVENTS_H

#include <node_api.h>

napi_value angel_eventfd(napi_env env, napi_callback_info info);
napi_value angel_watch_fd(napi_env env, napi_callback_info info);
napi_value angel_unwatch_fd(napi_env env, napi_callback_info info);

#endif
