/* restart-floor [--fork] N PROGRAM [ARGS...]: the least a supervisor's crash loop can cost: vfork + execve, the
 * exec confirmed when vfork returns with no failure written by the child (posix_spawn's way, and angel's), a
 * blocking waitpid, again. With --fork, the classic loop the floor the target is set against is: fork + execve, the exec
 * confirmed by the EOF of a close-on-exec pipe. Prints, per restart, the ms from the old child's waitpid
 * returning to the new child's exec confirmed: what angel's restartLatencyMs measures. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "floor.h"

static pid_t start_forked(char **argv) {
  int confirm[2];
  if (pipe2(confirm, O_CLOEXEC) != 0) exit(1);
  pid_t pid = fork();
  if (pid < 0) exit(1);
  if (pid == 0) {
    execve(argv[0], argv, environ);
    int failed = errno;
    if (write(confirm[1], &failed, sizeof failed) < 0) _exit(126);
    _exit(127);
  }
  close(confirm[1]);
  int failed;
  ssize_t length;
  while ((length = read(confirm[0], &failed, sizeof failed)) < 0 && errno == EINTR) {
  }
  close(confirm[0]);
  if (length != 0) exit(127);
  return pid;
}

static pid_t start_vforked(char **argv) {
  pid_t pid = vfork_exec(argv);
  if (pid < 0) exit(errno == ENOENT ? 127 : 1);
  return pid;
}

int main(int argc, char **argv) {
  int forked = argc > 1 && strcmp(argv[1], "--fork") == 0;
  if (forked) argv++, argc--;
  if (argc < 3) return 2;
  pid_t (*start)(char **) = forked ? start_forked : start_vforked;
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
