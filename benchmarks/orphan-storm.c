/* orphan-storm N: run as PID 1's child in a PID namespace. Leaves N orphans to the reaper (a double fork whose
 * grandchild exits at once), then waits until no zombie and no orphan is left, and prints one line:
 * `<ms from the last orphan's fork to zero zombies> <the reaper's CPU ms over that time>` (utime + stime of
 * PID 1 from /proc/1/stat, in clock ticks). */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "../support/others.h"
#include "floor.h"


static double reaper_cpu_ms(void) {
  char text[1024];
  FILE *file = fopen("/proc/1/stat", "r");
  if (!file) return -1;
  size_t length = fread(text, 1, sizeof text - 1, file);
  fclose(file);
  text[length] = '\0';
  char *field = strrchr(text, ')');
  unsigned long utime = 0, stime = 0;
  /* after ')': state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime */
  if (!field || sscanf(field + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime, &stime) != 2) return -1;
  return (utime + stime) * 1000.0 / sysconf(_SC_CLK_TCK);
}

int main(int argc, char **argv) {
  int count = argc > 1 ? atoi(argv[1]) : 10000;
  double cpu_before = reaper_cpu_ms();
  for (int i = 0; i < count; i++) {
    pid_t first = fork();
    if (first == 0) {
      if (fork() != 0) _exit(0);
      _exit(0); /* the grandchild: an orphan that ends at once */
    }
    if (first > 0) waitpid(first, NULL, 0);
  }
  double last = now_ms();
  while (others() > 0) {
    if (now_ms() - last > 30000) return 3;
    usleep(200);
  }
  printf("%.3f %.1f\n", now_ms() - last, reaper_cpu_ms() - cpu_before);
  return 0;
}
