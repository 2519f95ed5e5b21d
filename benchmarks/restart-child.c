/* restart-child LOG [LIFE_MS]: a program that crashes at once (or after LIFE_MS), and times its own restarts. At the top of main it
 * appends "s <ns>" to LOG, just before exiting "e <ns>" (CLOCK_MONOTONIC), then exits 1. The gap between one
 * generation's "e" and the next one's "s" is the restart as the program sees it: its death, the supervisor
 * noticing, deciding and spawning, and the exec, whatever the supervisor's own clock says. Linked
 * statically, so no dynamic loader sits in the figure. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static void note(int fd, char what, struct timespec ts) {
  char line[48];
  int length = snprintf(line, sizeof line, "%c %lld\n", what, (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec);
  if (write(fd, line, length) != length) _exit(2);
}

int main(int argc, char **argv) {
  struct timespec started, ending;
  clock_gettime(CLOCK_MONOTONIC, &started); /* before the log's open, which is no part of a restart */
  if (argc < 2) return 2;
  int fd = open(argv[1], O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return 2;
  note(fd, 's', started);
  long life_ms = argc > 2 ? atol(argv[2]) : 0;
  if (life_ms > 0) {
    struct timespec life = {life_ms / 1000, (life_ms % 1000) * 1000000L};
    nanosleep(&life, NULL);
  }
  clock_gettime(CLOCK_MONOTONIC, &ending);
  note(fd, 'e', ending);
  _exit(1); /* no atexit handlers or stdio flush: the death follows at once */
}
