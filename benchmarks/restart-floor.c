/* restart-floor N PROGRAM [ARGS...]: the least a supervisor's crash loop can cost: vfork + execve, the exec
 * confirmed by EOF on a close-on-exec pipe, a blocking waitpid, again. Prints, per restart, the ms from the
 * old child's waitpid returning to the new child's exec confirmed: what angel's restartLatencyMs measures. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static pid_t start(char **argv) {
  int report[2];
  if (pipe2(report, O_CLOEXEC) < 0) exit(1);
  pid_t pid = vfork();
  if (pid < 0) exit(1);
  if (pid == 0) {
    execve(argv[0], argv, environ);
    _exit(127);
  }
  close(report[1]);
  char byte;
  while (read(report[0], &byte, 1) > 0) {}
  close(report[0]);
  return pid;
}

int main(int argc, char **argv) {
  if (argc < 3) return 2;
  int n = atoi(argv[1]);
  pid_t pid = start(argv + 2);
  for (int i = 0; i < n; i++) {
    int status;
    if (waitpid(pid, &status, 0) < 0) return 1;
    double died = now_ms();
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127) return 127; /* the exec failed */
    pid = start(argv + 2);
    printf("%.4f\n", now_ms() - died);
  }
  waitpid(pid, NULL, 0);
  return 0;
}
