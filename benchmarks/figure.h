/* The memory figure of this process's own memory cgroup as angel counts it in the container mode and with
 * --cgroup (core/memory.ts's unreclaimable: what the kernel would OOM-kill on): the usage less the clean page
 * cache. v1: memory.usage_in_bytes less total_cache - total_shmem - total_dirty - total_writeback; v2:
 * memory.current less file - shmem - file_dirty - file_writeback, and less slab_reclaimable. Header-only, for
 * the C helpers that cross (overrun-child) or watch (overrun-floor's container mode) the same figure. */
#ifndef ANGEL_FIGURE_H
#define ANGEL_FIGURE_H

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct cgroup_figure {
  int usage, stat, v1;
};

/* Opens this process's memory cgroup's usage and memory.stat under `mount` (the memory hierarchy's mount);
 * 0, or -1 when there is none. */
static int figure_open(struct cgroup_figure *figure, const char *mount) {
  char text[4096], path[4400];
  int fd = open("/proc/self/cgroup", O_RDONLY | O_CLOEXEC);
  ssize_t length = fd < 0 ? -1 : read(fd, text, sizeof text - 1);
  if (fd >= 0) close(fd);
  if (length <= 0) return -1;
  text[length] = '\0';
  char *line = strstr(text, ":memory:");
  figure->v1 = line != NULL;
  if (!figure->v1) line = strstr(text, "0::");
  if (!line) return -1;
  line += figure->v1 ? strlen(":memory:") : strlen("0::");
  char *end = strchr(line, '\n');
  if (end) *end = '\0';
  snprintf(path, sizeof path, "%s%s/%s", mount, line, figure->v1 ? "memory.usage_in_bytes" : "memory.current");
  figure->usage = open(path, O_RDONLY | O_CLOEXEC);
  snprintf(path, sizeof path, "%s%s/memory.stat", mount, line);
  figure->stat = open(path, O_RDONLY | O_CLOEXEC);
  return figure->usage >= 0 && figure->stat >= 0 ? 0 : -1;
}

/* One `key value` line of memory.stat's text, or 0. */
static long stat_field(const char *text, const char *key) {
  size_t length = strlen(key);
  for (const char *line = text; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
    if (strncmp(line, key, length) == 0 && line[length] == ' ') return atol(line + length + 1);
  }
  return 0;
}

static long figure_bytes(const struct cgroup_figure *figure) {
  static char text[16384];
  ssize_t length = pread(figure->usage, text, sizeof text - 1, 0);
  if (length <= 0) return 0;
  text[length] = '\0';
  long usage = atol(text);
  length = pread(figure->stat, text, sizeof text - 1, 0);
  if (length <= 0) return usage;
  text[length] = '\0';
  long file, shmem, dirty, writeback, slab = 0;
  if (figure->v1) {
    file = stat_field(text, "total_cache"), shmem = stat_field(text, "total_shmem");
    dirty = stat_field(text, "total_dirty"), writeback = stat_field(text, "total_writeback");
  } else {
    file = stat_field(text, "file"), shmem = stat_field(text, "shmem");
    dirty = stat_field(text, "file_dirty"), writeback = stat_field(text, "file_writeback");
    slab = stat_field(text, "slab_reclaimable");
  }
  long clean = file - shmem - dirty - writeback;
  long value = usage - (clean > 0 ? clean : 0) - slab;
  return value > 0 ? value : 0;
}

#endif
