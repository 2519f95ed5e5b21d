/* others(): the processes other than PID 1 and the caller, zombies included, as a PID namespace's /proc lists
 * them: what is left to reap when the caller runs beside the reaper. Shared by test/fixtures/orphans.c (the
 * PID-1 suite) and benchmarks/orphan-storm.c (the reaping benchmark). */
#ifndef ANGEL_SUPPORT_OTHERS_H
#define ANGEL_SUPPORT_OTHERS_H

#include <dirent.h>
#include <stdlib.h>
#include <unistd.h>

static int others(void) {
  int count = 0;
  DIR *proc = opendir("/proc");
  if (!proc) return -1;
  for (struct dirent *entry; (entry = readdir(proc));) {
    int pid = atoi(entry->d_name);
    if (pid > 1 && pid != getpid()) count++;
  }
  closedir(proc);
  return count;
}

#endif
