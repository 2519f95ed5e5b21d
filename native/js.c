/* The JS side of the boundary: argument checks and errors for every N-API entry. Each entry checks its
 * arguments and throws one TypeError line; system failures throw an Error with errno (the number) and syscall,
 * which kernel/syscalls.ts names from the one errno table (core/errnos.ts): libuv's uv_err_name has no name for
 * some (ENOEXEC came out as `Unknown system error -8`). Every napi status is checked: a failure becomes a
 * thrown JS error, never a silent no-op. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "js.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

napi_value js_throw_status(napi_env env, const char *what) {
  const napi_extended_error_info *info = NULL;
  napi_get_last_error_info(env, &info);
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (!pending) {
    char message[256];
    snprintf(message, sizeof message, "angel addon: %s failed: %s", what,
             info && info->error_message ? info->error_message : "unknown N-API error");
    napi_throw_error(env, NULL, message);
  }
  return NULL;
}

napi_value js_throw_usage(napi_env env, const char *message) {
  napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", message);
  return NULL;
}

napi_value js_errno_error(napi_env env, const char *syscall_name, int err) {
  char message[256];
  snprintf(message, sizeof message, "%s: %s", syscall_name, strerror(err));
  napi_value message_value, error, errno_value, syscall_value;
  if (napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &message_value) != napi_ok ||
      napi_create_error(env, NULL, message_value, &error) != napi_ok ||
      napi_create_int32(env, err, &errno_value) != napi_ok ||
      napi_create_string_utf8(env, syscall_name, NAPI_AUTO_LENGTH, &syscall_value) != napi_ok ||
      napi_set_named_property(env, error, "errno", errno_value) != napi_ok ||
      napi_set_named_property(env, error, "syscall", syscall_value) != napi_ok) {
    return NULL;
  }
  return error;
}

napi_value js_throw_errno(napi_env env, const char *syscall_name, int err) {
  napi_value error = js_errno_error(env, syscall_name, err);
  if (error) napi_throw(env, error);
  else js_throw_status(env, "creating an error");
  return NULL;
}

napi_value js_bool(napi_env env, bool value) {
  napi_value result;
  if (napi_get_boolean(env, value, &result) != napi_ok) return js_throw_status(env, "napi_get_boolean");
  return result;
}

bool js_get_int32(napi_env env, napi_value value, const char *what, int32_t *out) {
  napi_valuetype type;
  if (napi_typeof(env, value, &type) != napi_ok || type != napi_number ||
      napi_get_value_int32(env, value, out) != napi_ok) {
    char message[160];
    snprintf(message, sizeof message, "%s: expected an integer", what);
    js_throw_usage(env, message);
    return false;
  }
  return true;
}

bool js_get_double(napi_env env, napi_value value, const char *what, double *out) {
  napi_valuetype type;
  if (napi_typeof(env, value, &type) != napi_ok || type != napi_number ||
      napi_get_value_double(env, value, out) != napi_ok) {
    char message[160];
    snprintf(message, sizeof message, "%s: expected a number", what);
    js_throw_usage(env, message);
    return false;
  }
  return true;
}

bool js_check_function(napi_env env, napi_value value, const char *what) {
  napi_valuetype type;
  if (napi_typeof(env, value, &type) != napi_ok || type != napi_function) {
    char message[160];
    snprintf(message, sizeof message, "%s: expected a function", what);
    js_throw_usage(env, message);
    return false;
  }
  return true;
}

char *js_get_string(napi_env env, napi_value value, const char *what, size_t extra) {
  size_t length;
  if (napi_get_value_string_utf8(env, value, NULL, 0, &length) != napi_ok) {
    char message[160];
    snprintf(message, sizeof message, "%s: expected a string", what);
    js_throw_usage(env, message);
    return NULL;
  }
  char *buffer = malloc(length + 1 + extra);
  if (!buffer) {
    js_throw_errno(env, "malloc", ENOMEM);
    return NULL;
  }
  napi_get_value_string_utf8(env, value, buffer, length + 1, &length);
  if (strlen(buffer) != length) {
    free(buffer);
    char message[160];
    snprintf(message, sizeof message, "%s: contains a NUL byte", what);
    js_throw_usage(env, message);
    return NULL;
  }
  return buffer;
}

bool js_get_array(napi_env env, napi_value value, const char *what, uint32_t max, uint32_t *length) {
  bool is_array = false;
  if (napi_is_array(env, value, &is_array) != napi_ok || !is_array ||
      napi_get_array_length(env, value, length) != napi_ok || *length > max) {
    char message[160];
    snprintf(message, sizeof message, "%s: expected an array of at most %u items", what, max);
    js_throw_usage(env, message);
    return false;
  }
  return true;
}

bool js_get_int32s(napi_env env, napi_value value, const char *what, int32_t **data, size_t *length) {
  bool is_typed = false;
  napi_typedarray_type type;
  void *raw = NULL;
  if (napi_is_typedarray(env, value, &is_typed) != napi_ok || !is_typed ||
      napi_get_typedarray_info(env, value, &type, length, &raw, NULL, NULL) != napi_ok || type != napi_int32_array) {
    char message[160];
    snprintf(message, sizeof message, "%s: expected an Int32Array", what);
    js_throw_usage(env, message);
    return false;
  }
  *data = raw;
  return true;
}

char **js_get_string_vector(napi_env env, napi_value array, const char *what, uint32_t max, int slot_index, size_t slot_extra) {
  uint32_t length;
  if (!js_get_array(env, array, what, max, &length)) return NULL;
  char **vector = calloc(length + 1, sizeof *vector);
  if (!vector) {
    js_throw_errno(env, "malloc", ENOMEM);
    return NULL;
  }
  for (uint32_t i = 0; i < length; i++) {
    napi_value item;
    if (napi_get_element(env, array, i, &item) != napi_ok ||
        !(vector[i] = js_get_string(env, item, what, (int)i == slot_index ? slot_extra : 0))) {
      for (uint32_t j = 0; j < i; j++) free(vector[j]);
      free(vector);
      return NULL;
    }
  }
  return vector;
}

void js_free_string_vector(char **vector) {
  if (!vector) return;
  for (char **item = vector; *item; item++) free(*item);
  free(vector);
}

napi_value js_tagged_external(napi_env env, void *data, napi_finalize finalize, const napi_type_tag *tag) {
  napi_value handle;
  if (napi_create_external(env, data, finalize, NULL, &handle) != napi_ok) {
    finalize(env, data, NULL);
    return js_throw_status(env, "napi_create_external");
  }
  if (napi_type_tag_object(env, handle, tag) != napi_ok) return js_throw_status(env, "napi_type_tag_object");
  return handle;
}

void *js_tagged_data(napi_env env, napi_value value, const napi_type_tag *tag) {
  napi_valuetype type;
  bool tagged = false;
  void *data = NULL;
  if (napi_typeof(env, value, &type) != napi_ok || type != napi_external ||
      napi_check_object_type_tag(env, value, tag, &tagged) != napi_ok || !tagged ||
      napi_get_value_external(env, value, &data) != napi_ok) return NULL;
  return data;
}

/* Tags a prepared list, so that no other handle is ever read as one. */
static const napi_type_tag PREPARED_TAG = {0x616e67656c2d7374ULL, 0x72696e67732d7631ULL};

struct js_prepared {
  char **strings; /* NULL-terminated, owned */
  uint32_t count;
};

static void free_prepared(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  struct js_prepared *prepared = data;
  js_free_string_vector(prepared->strings);
  free(prepared);
}

napi_value js_prepare_strings(napi_env env, napi_value array, const char *what, uint32_t max) {
  struct js_prepared *prepared = malloc(sizeof *prepared);
  if (!prepared) return js_throw_errno(env, "malloc", ENOMEM);
  if (!(prepared->strings = js_get_string_vector(env, array, what, max, -1, 0))) {
    free(prepared);
    return NULL;
  }
  for (prepared->count = 0; prepared->strings[prepared->count]; prepared->count++) {}
  return js_tagged_external(env, prepared, free_prepared, &PREPARED_TAG);
}

bool js_get_prepared(napi_env env, napi_value value, const char *what, char *const **strings, uint32_t *count) {
  struct js_prepared *prepared = js_tagged_data(env, value, &PREPARED_TAG);
  if (!prepared) {
    char message[160];
    snprintf(message, sizeof message, "%s: expected a list from prepareStrings", what);
    js_throw_usage(env, message);
    return false;
  }
  *strings = prepared->strings;
  *count = prepared->count;
  return true;
}

bool js_is_nullish(napi_env env, napi_value value) {
  napi_valuetype type;
  return napi_typeof(env, value, &type) == napi_ok && (type == napi_null || type == napi_undefined);
}


bool js_async_context(napi_env env, const char *name, napi_async_context *context) {
  napi_value resource_name;
  if (napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &resource_name) != napi_ok ||
      napi_async_init(env, NULL, resource_name, context) != napi_ok) {
    js_throw_status(env, "napi_async_init");
    return false;
  }
  return true;
}

bool js_hold_callback(napi_env env, napi_value function, const char *name, struct js_callback *held) {
  if (!js_async_context(env, name, &held->context)) return false;
  if (napi_create_reference(env, function, 1, &held->function) != napi_ok) {
    napi_async_destroy(env, held->context);
    js_throw_status(env, "napi_create_reference");
    return false;
  }
  return true;
}

void js_release_callback(napi_env env, struct js_callback *held) {
  napi_delete_reference(env, held->function);
  napi_async_destroy(env, held->context);
}

void js_call_back(napi_env env, const struct js_callback *held, size_t argc, const napi_value *argv) {
  napi_value function, receiver, ignored;
  if (napi_get_reference_value(env, held->function, &function) != napi_ok || napi_get_global(env, &receiver) != napi_ok) return;
  if (napi_make_callback(env, held->context, receiver, function, argc, argv, &ignored) == napi_pending_exception) {
    napi_value exception;
    napi_get_and_clear_last_exception(env, &exception);
    napi_fatal_exception(env, exception);
  }
}

bool js_get_handle(napi_env env, size_t argc, const napi_value *argv, const char *message, void **data) {
  napi_valuetype type;
  if (argc != 1 || napi_typeof(env, argv[0], &type) != napi_ok || type != napi_external ||
      napi_get_value_external(env, argv[0], data) != napi_ok) {
    js_throw_usage(env, message);
    return false;
  }
  return true;
}
