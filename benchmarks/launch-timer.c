/* launch-timer N WARMUP exit|log LOG COMMAND [ARGS...]: starts COMMAND (an absolute path; stdout and stderr to
 * /dev/null) N times after WARMUP unprinted ones, one at a time, and prints per launch the ms from just before
 * posix_spawn to:
 *   exit  its waitpid returning (`node -e 0`: a bare Node's whole start, and its exit);
 *   log   the first "s <ns>" line in LOG, CLOCK_MONOTONIC noted by restart-child at the top of its main (the
 *         first instruction of the program a supervisor was launched to run); LOG is emptied before each launch.
 * The same clock (CLOCK_MONOTONIC) at both ends. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "floor.h"

/* The ms of the first "s <ns>" line of the log, or -1. */
static double started_at(const char *log) {
  FILE *file = fopen(log, "r");
  if (!file) return -1;
  char what = 0;
  long long ns = 0;
  int found = fscanf(file, "%c %lld", &what, &ns) == 2 && what == 's';
  fclose(file);
  return found ? ns / 1e6 : -1;
}

int main(int argc, char **argv) {
  if (argc < 6) return 2;
  int n = atoi(argv[1]), warmup = atoi(argv[2]);
  int by_log = strcmp(argv[3], "log") == 0;
  const char *log = argv[4];
  char **command = argv + 5;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  for (int i = 0; i < warmup + n; i++) {
    if (by_log) {
      int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      if (fd < 0) return 3;
      close(fd);
    }
    pid_t pid;
    double start = now_ms();
    if (posix_spawn(&pid, command[0], &actions, NULL, command, environ) != 0) return 4;
    int status;
    if (waitpid(pid, &status, 0) < 0) return 5;
    double end = by_log ? started_at(log) : now_ms();
    if (end < 0) {
      fprintf(stderr, "%s never started its program (status %d)\n", command[0], status);
      return 6;
    }
    if (i >= warmup) printf("%.4f\n", end - start);
  }
  return 0;
}
