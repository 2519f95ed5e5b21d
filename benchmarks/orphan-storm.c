/* orphan-storm N [SETTLE_MS]: run as PID 1's child in a PID namespace. Leaves N orphans to the reaper (a double fork whose
 * grandchild exits at once), then waits until no zombie and no orphan is left, and prints one line:
 * `<ms from the first orphan's death to zero zombies> <the reaper's CPU ms over the storm>`. The first orphan
 * notes its own CLOCK_MONOTONIC just before its _exit, in memory shared with this process, so the figure is the
 * whole storm as the reaper lives it: every orphan's death to its reaping, the reaper's CPU competing with the
 * forks. The CPU is PID 1's time on a CPU, every thread's sum_exec_runtime from /proc/1/task/<tid>/schedstat
 * (ns, the task-clock perf counts; a thread that ended takes its time with it), from before the first fork to
 * zero zombies. It first sleeps SETTLE_MS (default 1000): a reaper that has just started (Node's boot, angel's
 * first compiles) is idle by then, so its start-up is not counted as reaping. */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "../support/others.h"
#include "floor.h"

static double reaper_cpu_ms(void) {
  DIR *tasks = opendir("/proc/1/task");
  if (!tasks) return -1;
  double ns = 0;
  for (struct dirent *entry; (entry = readdir(tasks));) {
    if (entry->d_name[0] == '.') continue;
    char path[64];
    snprintf(path, sizeof path, "/proc/1/task/%s/schedstat", entry->d_name);
    FILE *file = fopen(path, "r");
    if (!file) continue; /* ended meanwhile */
    unsigned long long on_cpu = 0;
    if (fscanf(file, "%llu", &on_cpu) == 1) ns += (double)on_cpu;
    fclose(file);
  }
  closedir(tasks);
  return ns / 1e6;
}

int main(int argc, char **argv) {
  int count = argc > 1 ? atoi(argv[1]) : 10000;
  int settle_ms = argc > 2 ? atoi(argv[2]) : 1000;
  usleep(settle_ms * 1000);
  volatile double *first_death = mmap(NULL, sizeof(double), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (first_death == MAP_FAILED) return 4;
  *first_death = 0;
  double cpu_before = reaper_cpu_ms();
  for (int i = 0; i < count; i++) {
    pid_t first = fork();
    if (first == 0) {
      if (fork() != 0) _exit(0);
      /* the grandchild: an orphan that ends at once */
      if (i == 0) *first_death = now_ms();
      _exit(0);
    }
    if (first > 0) waitpid(first, NULL, 0);
  }
  double last = now_ms();
  while (others() > 0) {
    if (now_ms() - last > 30000) return 3;
    usleep(200);
  }
  double done = now_ms();
  if (*first_death == 0) return 5; /* the first orphan never ran */
  printf("%.3f %.3f\n", done - *first_death, reaper_cpu_ms() - cpu_before);
  return 0;
}
