/* Users and groups by name or id, looked up in angel (accounts.c). */
#ifndef ANGEL_ACCOUNTS_H
#define ANGEL_ACCOUNTS_H

#include <node_api.h>

napi_value angel_lookup_user(napi_env env, napi_callback_info info);
napi_value angel_lookup_group(napi_env env, napi_callback_info info);

#endif
