/* restart-floor N PROGRAM: a fork/exec/wait loop; prints, per restart, the time from the old child's reaping
 * to the new child's exec being confirmed (close-on-exec pipe EOF), in ms. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static pid_t start(char **argv) {
  int report[2];
  if (pipe2(report, O_CLOEXEC) < 0) exit(1);
  pid_t pid = vfork();
  if (pid == 0) {
    execv(argv[0], argv);
    _exit(127);
  }
  close(report[1]);
  char byte;
  while (read(report[0], &byte, 1) > 0) {}
  close(report[0]);
  return pid;
}

int main(int argc, char **argv) {
  int n = atoi(argv[1]);
  pid_t pid = start(argv + 2);
  for (int i = 0; i < n; i++) {
    waitpid(pid, NULL, 0);
    double died = now_ms();
    pid = start(argv + 2);
    printf("%.4f\n", now_ms() - died);
  }
  waitpid(pid, NULL, 0);
  return 0;
}
