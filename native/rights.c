/* When angel is root for another user, every path that user names is opened, bound and removed with that
 * user's filesystem rights, as sudoedit does. The kernel keeps the filesystem uid and gid and the
 * supplementary groups per thread (struct cred is per task): setfsuid(2) and setfsgid(2) act on the calling
 * thread, and so does the raw setgroups system call (glibc's wrapper signals every thread to change them all,
 * which is why it is not used here). So the main thread takes them on for one synchronous call, makes its
 * system calls, and gives them back before it returns: no JavaScript runs meanwhile, and libuv's threads keep
 * root's. A change of the filesystem uid from 0 also drops CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER
 * and CAP_CHOWN from the thread's effective set (capabilities(7)); they come back with the uid 0. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "rights.h"
#include "js.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

static bool get_id(napi_env env, napi_value array, uint32_t index, const char *what, uint32_t *out) {
  napi_value item;
  double value;
  if (napi_get_element(env, array, index, &item) != napi_ok || !js_get_double(env, item, what, &value)) return false;
  /* (uid_t)-1 means "no change" to the kernel: never an identity */
  if (value < 0 || value >= 4294967295.0 || value != (double)(uint32_t)value) {
    js_throw_usage(env, "rights: expected ids from 0 to 4294967294");
    return false;
  }
  *out = (uint32_t)value;
  return true;
}

bool js_get_fs_rights(napi_env env, napi_value value, struct fs_rights *rights) {
  rights->active = false;
  rights->groups = NULL;
  rights->ngroups = 0;
  if (js_is_nullish(env, value)) return true;
  uint32_t length = 0, ngroups;
  napi_value groups;
  if (!js_get_array(env, value, "rights", 3, &length)) return false;
  if (length != 3) {
    js_throw_usage(env, "rights: expected [uid, gid, groups]");
    return false;
  }
  uint32_t uid, gid;
  if (!get_id(env, value, 0, "rights: uid", &uid) || !get_id(env, value, 1, "rights: gid", &gid)) return false;
  if (napi_get_element(env, value, 2, &groups) != napi_ok || !js_get_array(env, groups, "rights: groups", RIGHTS_MAX_GROUPS, &ngroups)) {
    return false;
  }
  rights->groups = calloc(ngroups ? ngroups : 1, sizeof *rights->groups);
  if (!rights->groups) {
    js_throw_errno(env, "malloc", ENOMEM);
    return false;
  }
  for (uint32_t i = 0; i < ngroups; i++) {
    uint32_t group;
    if (!get_id(env, groups, i, "rights: groups[i]", &group)) {
      fs_rights_free(rights);
      return false;
    }
    rights->groups[i] = group;
  }
  rights->active = true;
  rights->uid = uid;
  rights->gid = gid;
  rights->ngroups = (int)ngroups;
  return true;
}

void fs_rights_free(struct fs_rights *rights) {
  free(rights->groups);
  rights->groups = NULL;
  rights->active = false;
}

/* setfsuid(2) answers with the previous id, never an error: asking again with -1 (no change) tells whether it took. */
static bool set_fsuid(uid_t uid) {
  syscall(SYS_setfsuid, uid);
  return (uid_t)syscall(SYS_setfsuid, (uid_t)-1) == uid;
}

static bool set_fsgid(gid_t gid) {
  syscall(SYS_setfsgid, gid);
  return (gid_t)syscall(SYS_setfsgid, (gid_t)-1) == gid;
}

int fs_rights_enter(const struct fs_rights *rights, struct fs_saved *saved) {
  saved->active = false;
  saved->groups = NULL;
  if (!rights->active) return 0;
  int count = (int)syscall(SYS_getgroups, 0, NULL);
  if (count < 0) return -1;
  saved->groups = calloc(count ? count : 1, sizeof *saved->groups);
  if (!saved->groups) return -1;
  saved->ngroups = (int)syscall(SYS_getgroups, count, saved->groups);
  saved->uid = (uid_t)syscall(SYS_setfsuid, (uid_t)-1);
  saved->gid = (gid_t)syscall(SYS_setfsgid, (gid_t)-1);
  if (saved->ngroups < 0 || syscall(SYS_setgroups, rights->ngroups, rights->groups) < 0) goto failed;
  saved->active = true;
  if (!set_fsgid(rights->gid) || !set_fsuid(rights->uid)) {
    fs_rights_leave(saved);
    errno = EPERM;
    return -1;
  }
  return 0;
failed: {
    int err = errno;
    free(saved->groups);
    saved->groups = NULL;
    errno = err;
    return -1;
  }
}

void fs_rights_leave(struct fs_saved *saved) {
  if (!saved->active) return;
  int err = errno;
  /* the uid first: its return to 0 gives back the capabilities that restore the rest. A thread that cannot get
   * its own rights back would go on with another's: nothing sane is left to do */
  if (!set_fsuid(saved->uid) || !set_fsgid(saved->gid) || syscall(SYS_setgroups, saved->ngroups, saved->groups) < 0) abort();
  free(saved->groups);
  saved->groups = NULL;
  saved->active = false;
  errno = err;
}
