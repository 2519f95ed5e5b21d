/* Entries that start and shape processes (process.c). */
#ifndef ANGEL_PROCESS_H
#define ANGEL_PROCESS_H

#include <node_api.h>

napi_value angel_prepare_program(napi_env env, napi_callback_info info);
napi_value angel_spawn_entry(napi_env env, napi_callback_info info);
napi_value angel_prepare_strings(napi_env env, napi_callback_info info);
napi_value angel_getgrouplist(napi_env env, napi_callback_info info);
napi_value angel_set_child_subreaper(napi_env env, napi_callback_info info);
napi_value angel_reap_pid(napi_env env, napi_callback_info info);
napi_value angel_reap_ended(napi_env env, napi_callback_info info);
napi_value angel_yield_processor(napi_env env, napi_callback_info info);

#endif
