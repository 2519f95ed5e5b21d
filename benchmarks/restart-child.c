/* restart-child LOG [LIFE_MS [faults]]: a program that crashes at once (or after LIFE_MS), and times its own restarts. At the top of main it
 * appends "s <ns>" to LOG, just before exiting "e <ns>" (CLOCK_MONOTONIC), then exits 1. The gap between one
 * generation's "e" and the next one's "s" is the restart as the program sees it: its death, the supervisor
 * noticing, deciding and spawning, and the exec, whatever the supervisor's own clock says. Linked
 * statically, so no dynamic loader sits in the figure. With `faults`, it then appends "f <n>": the minor page
 * faults its parent (the supervisor) has taken so far, field 10 of /proc/<ppid>/stat. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void note(int fd, char what, struct timespec ts) {
  char line[48];
  int length = snprintf(line, sizeof line, "%c %lld\n", what, (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec);
  if (write(fd, line, length) != length) _exit(2);
}

/* "f <minor faults>" of the parent, from its stat: the fields after the command name, which may hold spaces */
static void parent_faults(int fd) {
  char path[32], text[1024];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)getppid());
  int stat = open(path, O_RDONLY | O_CLOEXEC);
  if (stat < 0) _exit(2);
  ssize_t length = read(stat, text, sizeof text - 1);
  close(stat);
  if (length <= 0) _exit(2);
  text[length] = '\0';
  char *field = strrchr(text, ')');
  for (int number = 2; field && number < 10; number++) field = strchr(field + 1, ' ');
  if (!field) _exit(2);
  char line[48];
  int size = snprintf(line, sizeof line, "f %lld\n", strtoll(field + 1, NULL, 10));
  if (write(fd, line, size) != size) _exit(2);
}

int main(int argc, char **argv) {
  struct timespec started, ending;
  clock_gettime(CLOCK_MONOTONIC, &started); /* before the log's open, which is no part of a restart */
  if (argc < 2) return 2;
  int fd = open(argv[1], O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return 2;
  note(fd, 's', started);
  if (argc > 3 && strcmp(argv[3], "faults") == 0) parent_faults(fd);
  long life_ms = argc > 2 ? atol(argv[2]) : 0;
  if (life_ms > 0) {
    struct timespec life = {life_ms / 1000, (life_ms % 1000) * 1000000L};
    nanosleep(&life, NULL);
  }
  clock_gettime(CLOCK_MONOTONIC, &ending);
  note(fd, 'e', ending);
  _exit(1); /* no atexit handlers or stdio flush: the death follows at once */
}
