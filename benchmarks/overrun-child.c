/* overrun-child CAP_BYTES: grows 2 MiB every 2 ms; notes when its own RSS first passes the cap, and on SIGTERM
 * prints the ms from that crossing to the signal, then exits. The cap-to-stop-signal latency of a sampler. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile double crossed_at = 0;
/* when the current growth step began: if the stop comes before this process saw its own crossing, the
 * crossing happened during this step, so the time since its start is an upper bound */
static volatile double step_at = 0;

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void on_term(int sig) {
  (void)sig;
  char line[64];
  int length = snprintf(line, sizeof line, "%.3f\n", now_ms() - (crossed_at != 0 ? crossed_at : step_at));
  ssize_t ignored = write(1, line, length);
  (void)ignored;
  _exit(0);
}

static long own_rss(void) {
  FILE *f = fopen("/proc/self/statm", "r");
  long size = 0, resident = 0;
  if (f && fscanf(f, "%ld %ld", &size, &resident) != 2) resident = 0;
  if (f) fclose(f);
  return resident * sysconf(_SC_PAGESIZE);
}

int main(int argc, char **argv) {
  long cap = atol(argv[1]);
  signal(SIGTERM, on_term);
  /* start growing at a random phase of the sampler's period (up to 200 ms), or every run would cross the
   * cap at the same point of the period and the measure would be one number, not a distribution */
  srand((unsigned)getpid() ^ (unsigned)now_ms());
  long phase_us = rand() % 200000;
  struct timespec phase = {phase_us / 1000000, (phase_us % 1000000) * 1000L};
  nanosleep(&phase, NULL);
  for (;;) {
    step_at = now_ms();
    char *chunk = malloc(2 << 20);
    memset(chunk, 1, 2 << 20);
    if (crossed_at == 0 && own_rss() > cap) crossed_at = now_ms();
    struct timespec pause = {0, 2000000L};
    nanosleep(&pause, NULL);
    if (crossed_at != 0 && now_ms() - crossed_at > 5000) return 1; /* nobody stopped us */
  }
}
