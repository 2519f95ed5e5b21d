/* overrun-child CAP_BYTES [PHASE_US [SETTLE_MS]]: grows at once to 6 MiB under the cap, waits SETTLE_MS (for a
 * supervisor that has just started to finish its own start-up, which would otherwise delay this process by a
 * varying amount on a small machine) and PHASE_US (or a random time under 200 ms), then grows its RSS by 2 MiB
 * every 2 ms. Each step is four mmap(MAP_POPULATE)s of 512 KiB back to back, its RSS (/proc/self/statm) read
 * after each: faulting pages in one by one takes milliseconds on a VM, and a crossing is known only to within
 * the mmap it happened in (populating 2 MiB at once took 0.4-2.5 ms on the 2-core VM of the published run;
 * 512 KiB, 128 pages, is also how often cgroup v1 checks its thresholds). It notes CLOCK_MONOTONIC when its RSS
 * first passes the cap, and on SIGTERM (or SIGINT, PM2's stop signal) prints the ms from that crossing to
 * the signal and exits 0: the latency of whatever sampler watches it. Exits 3 if no signal comes within 5 s.
 * With OVERRUN_CGROUP=<the memory hierarchy's mount>, the crossing is its cgroup's figure passing the cap instead
 * (figure.h: the usage less the clean page cache, what angel's --cgroup and container mode watch), which counts
 * no shared file pages (libc's, charged to whoever read them first) and so passes the cap later than RSS, and
 * counts whatever else is in the cgroup (angel itself, in the container mode). Then the SETTLE_MS wait comes
 * before the growth to 6 MiB under the cap (a supervisor in the same cgroup still growing as it starts would
 * otherwise take the figure past the cap before this process had begun), and after that growth it waits STEADY_MS:
 * a watcher whose pace follows the growth it has seen (angel's container mode, looking as seldom as once a second
 * far below the cap) then watches a program that sits near its cap, not one that has just jumped to it. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include "figure.h"
#include "floor.h"

#define STEP (2L << 20)
#define CHUNK (512L << 10)
#define HEADROOM (6L << 20)
#define STEADY_MS 1200

static volatile double crossed_at = 0;
/* when the current mmap began: if the signal comes before this process has read its own crossing, the
 * crossing happened during this mmap, and the time since it began is an upper bound */
static volatile double step_at = 0;


static void on_stop(int sig) {
  (void)sig;
  char line[64];
  int length = snprintf(line, sizeof line, "%.3f\n", now_ms() - (crossed_at != 0 ? crossed_at : step_at));
  ssize_t ignored = write(1, line, length);
  (void)ignored;
  _exit(0);
}

static void grow(long bytes) {
  if (bytes > 0 && mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0) == MAP_FAILED) _exit(4);
}

static long own_rss(int statm, long page) {
  char text[128];
  ssize_t length = pread(statm, text, sizeof text - 1, 0);
  if (length <= 0) return 0;
  text[length] = '\0';
  long size = 0, resident = 0;
  sscanf(text, "%ld %ld", &size, &resident);
  return resident * page;
}

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  long cap = atol(argv[1]);
  long page = sysconf(_SC_PAGESIZE);
  int statm = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
  const char *mount = getenv("OVERRUN_CGROUP");
  struct cgroup_figure figure;
  if (mount && figure_open(&figure, mount) < 0) return 5;
  struct sigaction stop = {.sa_handler = on_stop};
  sigaction(SIGTERM, &stop, NULL);
  sigaction(SIGINT, &stop, NULL);
  /* the phase of the growth against the sampler's period: given, so that a set of runs covers the period
   * evenly, or random */
  long phase_us;
  if (argc > 2) {
    phase_us = atol(argv[2]);
  } else {
    srand((unsigned)getpid() ^ (unsigned)(now_ms() * 1000));
    phase_us = rand() % 200000;
  }
  long settle_ms = argc > 3 ? atol(argv[3]) : 0;
  if (mount) {
    struct timespec settle = {settle_ms / 1000, (settle_ms % 1000) * 1000000L};
    nanosleep(&settle, NULL);
    grow(cap - HEADROOM - figure_bytes(&figure));
    struct timespec steady = {STEADY_MS / 1000, (STEADY_MS % 1000) * 1000000L};
    nanosleep(&steady, NULL);
  } else {
    grow(cap - HEADROOM - own_rss(statm, page));
    phase_us += settle_ms * 1000;
  }
  struct timespec phase = {phase_us / 1000000, (phase_us % 1000000) * 1000L};
  nanosleep(&phase, NULL);
  for (;;) {
    for (long grown = 0; grown < STEP; grown += CHUNK) {
      step_at = now_ms();
      grow(CHUNK);
      if (crossed_at == 0 && (mount ? figure_bytes(&figure) : own_rss(statm, page)) > cap) crossed_at = now_ms();
    }
    struct timespec pause = {0, 2000000L};
    nanosleep(&pause, NULL);
    if (crossed_at != 0 && now_ms() - crossed_at > 5000) return 3; /* nobody stopped it */
  }
}
