/* Argument checking and error helpers shared by the N-API entry points. */
#ifndef ANGEL_GLUE_H
#define ANGEL_GLUE_H

#include <node_api.h>
#include <stdbool.h>

/* Every napi status is checked: a failure becomes a thrown JS error, never a silent no-op. */
#define NAPI_CALL(env, call)                                  \
  do {                                                        \
    if ((call) != napi_ok) return glue_throw_status(env, #call); \
  } while (0)

napi_value glue_throw_status(napi_env env, const char *what);
napi_value glue_throw_usage(napi_env env, const char *message);
napi_value glue_throw_errno(napi_env env, const char *syscall_name, int err);
napi_value glue_bool(napi_env env, bool value);
bool glue_get_int32(napi_env env, napi_value value, const char *what, int32_t *out);
bool glue_check_function(napi_env env, napi_value value, const char *what);

#endif
