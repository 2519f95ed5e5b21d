/* Another user's filesystem rights, taken on by this thread for the span of one synchronous call. */
#ifndef ANGEL_RIGHTS_H
#define ANGEL_RIGHTS_H

#include <node_api.h>
#include <stdbool.h>
#include <sys/types.h>

#define RIGHTS_MAX_GROUPS 65536

struct fs_rights {
  bool active; /* false: the call runs with the thread's own rights */
  uid_t uid;
  gid_t gid;
  int ngroups;
  gid_t *groups;
};

struct fs_saved {
  bool active;
  uid_t uid;
  gid_t gid;
  int ngroups;
  gid_t *groups;
};

/* [uid, gid, groups] into *rights, or inactive for null/undefined; false with a TypeError pending otherwise.
 * What it allocates goes with fs_rights_free. */
bool js_get_fs_rights(napi_env env, napi_value value, struct fs_rights *rights);
void fs_rights_free(struct fs_rights *rights);
/* Takes on the rights for this thread: 0, or -1 with errno (and nothing changed). */
int fs_rights_enter(const struct fs_rights *rights, struct fs_saved *saved);
/* Gives them back: the thread's own uid, gid and groups again (errno is kept). */
void fs_rights_leave(struct fs_saved *saved);

#endif
