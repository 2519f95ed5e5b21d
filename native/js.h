/* Argument checking and error helpers shared by the N-API entry points (js.c). */
#ifndef ANGEL_JS_H
#define ANGEL_JS_H

#include <node_api.h>
#include <stdbool.h>
#include <stdint.h>

#define NAPI_CALL(env, call)                                  \
  do {                                                        \
    if ((call) != napi_ok) return js_throw_status(env, #call); \
  } while (0)

napi_value js_throw_status(napi_env env, const char *what);
napi_value js_throw_usage(napi_env env, const char *message);
napi_value js_throw_errno(napi_env env, const char *syscall_name, int err);
/* The Error js_throw_errno throws, to decorate before throwing (NULL when it could not be built). */
napi_value js_errno_error(napi_env env, const char *syscall_name, int err);
napi_value js_bool(napi_env env, bool value);
bool js_get_int32(napi_env env, napi_value value, const char *what, int32_t *out);
bool js_get_double(napi_env env, napi_value value, const char *what, double *out);
bool js_check_function(napi_env env, napi_value value, const char *what);
/* A malloc'd copy with `extra` spare bytes after it; NULL (and a thrown TypeError) for a non-string or NUL. */
char *js_get_string(napi_env env, napi_value value, const char *what, size_t extra);
bool js_get_array(napi_env env, napi_value value, const char *what, uint32_t max, uint32_t *length);
/* The memory of an Int32Array (its elements, in place: no copy, no per-item call); false, with a TypeError
 * thrown, for anything else. */
bool js_get_int32s(napi_env env, napi_value value, const char *what, int32_t **data, size_t *length);
/* A NULL-terminated vector of strings; string `slot_index` gets `slot_extra` spare bytes. */
char **js_get_string_vector(napi_env env, napi_value array, const char *what, uint32_t max, int slot_index, size_t slot_extra);
void js_free_string_vector(char **vector);
/* A handle for C data, tagged so that no other handle is ever read as one; `finalize` frees the data when the
 * handle is collected (and at once when no handle could be made: then NULL, an exception thrown). */
napi_value js_tagged_external(napi_env env, void *data, napi_finalize finalize, const napi_type_tag *tag);
/* The data of a handle js_tagged_external made with `tag`, or NULL when `value` is no such handle (no exception). */
void *js_tagged_data(napi_env env, napi_value value, const napi_type_tag *tag);
/* A list of strings converted for C once (a napi_external, type-tagged), which spawn takes as its environment's
 * base; NULL with an exception pending when an item is not a string or holds a NUL. */
napi_value js_prepare_strings(napi_env env, napi_value array, const char *what, uint32_t max);
/* The strings of a prepared list (borrowed: valid while the list is alive) and how many; false, with a TypeError
 * naming `what`, for any other value. */
bool js_get_prepared(napi_env env, napi_value value, const char *what, char *const **strings, uint32_t *count);
bool js_is_nullish(napi_env env, napi_value value);
/* The data of the one argument, a handle (napi_external) an entry handed out; false, with a TypeError
 * `message` thrown, for anything else. */
bool js_get_handle(napi_env env, size_t argc, const napi_value *argv, const char *message, void **data);
/* A JS function a watch calls from the loop, across turns: a reference to it, and the async context it runs in. */
struct js_callback {
  napi_ref function;
  napi_async_context context;
};
/* The async context callbacks named `name` (their async resource's name) run in; false, with an exception
 * pending, when N-API cannot make it. */
bool js_async_context(napi_env env, const char *name, napi_async_context *context);
/* Holds `function` for a watch named `name` (its async resource name); false, with an exception pending and
 * nothing held, when N-API cannot. */
bool js_hold_callback(napi_env env, napi_value function, const char *name, struct js_callback *held);
void js_release_callback(napi_env env, struct js_callback *held);
/* Calls a held callback, with the global object as receiver (napi_make_callback with an undefined receiver
 * fails, napi_object_expected, and never calls); an exception it throws is Node's uncaught exception, as any
 * callback's. The caller holds a handle scope. */
void js_call_back(napi_env env, const struct js_callback *held, size_t argc, const napi_value *argv);

#endif
