/* spawn-floor N: vfork + execve /bin/true, exec confirmed by EOF on a close-on-exec pipe, then waitpid;
 * prints the spawn -> exec-confirmed time of each iteration in ms. The floor angel's addon is held to. */
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

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 200;
  char *args[] = {"/bin/true", NULL};
  char *env[] = {NULL};
  for (int i = 0; i < n; i++) {
    int report[2];
    if (pipe2(report, O_CLOEXEC) < 0) return 1;
    double start = now_ms();
    pid_t pid = vfork();
    if (pid == 0) {
      execve(args[0], args, env);
      _exit(127);
    }
    close(report[1]);
    char byte;
    while (read(report[0], &byte, 1) > 0) {}
    double confirmed = now_ms();
    close(report[0]);
    waitpid(pid, NULL, 0);
    printf("%.4f\n", confirmed - start);
  }
  return 0;
}
