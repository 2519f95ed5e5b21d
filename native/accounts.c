/* Users and groups by name or id, through the C library's NSS (getpwnam_r(3), getgrnam_r(3) and their by-id
 * twins), so a --user that lives in LDAP is found as id(1) finds it. Called in angel, never in the fork path.
 * N-API marshalling around two calls: a key in, a tuple or null out. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "accounts.h"
#include "js.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>

#define MAX_ID 4294967294.0 /* (uid_t)-1 means "no change" to setresuid(2), never an account */
#define MAX_BUFFER (1 << 24)

/* The key: a name, or an id. False, with a TypeError thrown, for anything else. */
static bool get_key(napi_env env, napi_value value, const char *what, char **name, uint32_t *id) {
  napi_valuetype type;
  *name = NULL;
  if (napi_typeof(env, value, &type) == napi_ok && type == napi_number) {
    double number;
    if (!js_get_double(env, value, what, &number)) return false;
    if (!(number >= 0 && number <= MAX_ID) || number != (double)(uint32_t)number) {
      js_throw_usage(env, "lookup: expected a name or an id from 0 to 4294967294");
      return false;
    }
    *id = (uint32_t)number;
    return true;
  }
  *name = js_get_string(env, value, what, 0);
  return *name != NULL;
}

/* What the _r functions return when there is no such entry: 0, or one of the errors POSIX lets them give. */
static bool not_found(int rc) {
  return rc == 0 || rc == ENOENT || rc == ESRCH || rc == EBADF || rc == EPERM;
}

static napi_value tuple(napi_env env, napi_value *items, uint32_t count) {
  napi_value array;
  if (napi_create_array_with_length(env, count, &array) != napi_ok) return NULL;
  for (uint32_t i = 0; i < count; i++) {
    if (!items[i] || napi_set_element(env, array, i, items[i]) != napi_ok) return NULL;
  }
  return array;
}

static napi_value string(napi_env env, const char *text) {
  napi_value value;
  return napi_create_string_utf8(env, text ? text : "", NAPI_AUTO_LENGTH, &value) == napi_ok ? value : NULL;
}

static napi_value id_value(napi_env env, uint32_t id) {
  napi_value value;
  return napi_create_uint32(env, id, &value) == napi_ok ? value : NULL;
}

typedef int (*lookup_call)(const char *name, uint32_t id, void *entry, char *buffer, size_t size, void **found);

static int passwd_call(const char *name, uint32_t id, void *entry, char *buffer, size_t size, void **found) {
  return name ? getpwnam_r(name, entry, buffer, size, (struct passwd **)found)
              : getpwuid_r(id, entry, buffer, size, (struct passwd **)found);
}

static int group_call(const char *name, uint32_t id, void *entry, char *buffer, size_t size, void **found) {
  return name ? getgrnam_r(name, entry, buffer, size, (struct group **)found)
              : getgrgid_r(id, entry, buffer, size, (struct group **)found);
}

static napi_value passwd_tuple(napi_env env, const void *found) {
  const struct passwd *entry = found;
  napi_value items[] = {string(env, entry->pw_name), id_value(env, entry->pw_uid), id_value(env, entry->pw_gid), string(env, entry->pw_dir)};
  return tuple(env, items, 4);
}

static napi_value group_tuple(napi_env env, const void *found) {
  const struct group *entry = found;
  napi_value items[] = {string(env, entry->gr_name), id_value(env, entry->gr_gid)};
  return tuple(env, items, 2);
}

/* One lookup by the key in argv[0]: the call with a buffer grown until the entry fits, then its tuple, null when
 * there is no such entry, or the errno thrown with the call's name. */
static napi_value lookup(napi_env env, napi_callback_info info, const char *what, const char *calls[2], lookup_call call,
                         void *entry, napi_value (*make)(napi_env, const void *)) {
  size_t argc = 1;
  napi_value argv[1];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  char *name;
  uint32_t id = 0;
  if (!get_key(env, argv[0], what, &name, &id)) return NULL;
  const char *call_name = calls[name ? 0 : 1];
  void *found = NULL;
  char *buffer = NULL;
  int rc = ERANGE;
  for (size_t size = 2048; rc == ERANGE && size <= MAX_BUFFER; size *= 2) {
    char *grown = realloc(buffer, size);
    if (!grown) {
      rc = ENOMEM;
      break;
    }
    buffer = grown;
    rc = call(name, id, entry, buffer, size, &found);
  }
  free(name);
  napi_value result = NULL;
  if (found) {
    if (!(result = make(env, found))) js_throw_status(env, "building the entry");
  } else if (not_found(rc)) {
    if (napi_get_null(env, &result) != napi_ok) js_throw_status(env, "napi_get_null");
  } else {
    js_throw_errno(env, call_name, rc);
  }
  free(buffer);
  return result;
}

/* lookupUser(name | uid) -> [name, uid, gid, home], or null when there is no such user. */
napi_value angel_lookup_user(napi_env env, napi_callback_info info) {
  static const char *calls[2] = {"getpwnam", "getpwuid"};
  struct passwd entry;
  return lookup(env, info, "lookupUser: user", calls, passwd_call, &entry, passwd_tuple);
}

/* lookupGroup(name | gid) -> [name, gid], or null when there is no such group. */
napi_value angel_lookup_group(napi_env env, napi_callback_info info) {
  static const char *calls[2] = {"getgrnam", "getgrgid"};
  struct group entry;
  return lookup(env, info, "lookupGroup: group", calls, group_call, &entry, group_tuple);
}
