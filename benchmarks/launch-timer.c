/* launch-timer N WARMUP exit|log LOG COMMAND [ARGS...]: starts COMMAND (an absolute path; stdout and stderr to
 * /dev/null) N times after WARMUP unprinted ones, one at a time, and prints per launch the ms from just before
 * posix_spawn to:
 *   exit  its waitpid returning (`node -e 0`: a bare Node's whole start, and its exit);
 *   log   the first "s <ns>" line in LOG, CLOCK_MONOTONIC noted by restart-child at the top of its main (the
 *         first instruction of the program a supervisor was launched to run); LOG is emptied before each launch.
 * The same clock (CLOCK_MONOTONIC) at both ends. Or, per launch, the minor page faults instead of the time:
 *   exit-faults  the command's whole life (wait4's ru_minflt);
 *   log-faults   the supervisor's at its program's first instruction (the "f <n>" line of restart-child LOG 0
 *                faults). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include "floor.h"

/* The number of the first `what` line of the log ("s <ns>", "f <faults>"), or -1. */
static long long logged(const char *log, char what) {
  FILE *file = fopen(log, "r");
  if (!file) return -1;
  char line[64], found = 0;
  long long value = -1;
  while (fgets(line, sizeof line, file)) {
    if (sscanf(line, "%c %lld", &found, &value) == 2 && found == what) break;
    value = -1;
  }
  fclose(file);
  return value;
}

int main(int argc, char **argv) {
  if (argc < 6) return 2;
  int n = atoi(argv[1]), warmup = atoi(argv[2]);
  int by_log = strncmp(argv[3], "log", 3) == 0;
  int faults = strstr(argv[3], "-faults") != NULL;
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
    struct rusage usage;
    if (wait4(pid, &status, 0, &usage) < 0) return 5;
    /* ms since `start`, or a count of faults */
    double figure;
    if (by_log) {
      long long value = logged(log, faults ? 'f' : 's');
      if (value < 0) {
        fprintf(stderr, "%s never started its program (status %d)\n", command[0], status);
        return 6;
      }
      figure = faults ? (double)value : value / 1e6 - start;
    } else {
      figure = faults ? (double)usage.ru_minflt : now_ms() - start;
    }
    if (i >= warmup) printf(faults ? "%.0f\n" : "%.4f\n", figure);
  }
  return 0;
}
