/* leak-rate RATE_MIB_S [SETTLE_MS]: a steady leak. Waits SETTLE_MS (a supervisor that has just started finishes
 * its own start-up), then grows its memory at RATE MiB/s from its own start size, forever: every millisecond, by
 * what the rate owes it since the leak began, one fresh mapping, MAP_POPULATE'd (faulted in at once: a page at a
 * time is slower than the leaks asked of it on a VM) and then written a byte a page. A populate that meets the
 * cgroup's limit gives up silently (no OOM kill, the pages just not there); the write faults in what it left, as a
 * program's own access would, and at the limit the kernel OOM-kills.
 * After each 8 MiB it prints `<ms since the leak began> <MiB leaked>`, so the rate it really leaked at (the
 * machine may fault pages in slower than asked) is known. It has no handler: a stop signal ends it, and so does
 * the kernel's OOM kill. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include "floor.h"

#define PAGE 4096L
#define REPORT (8L << 20)

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  double rate = atof(argv[1]) * (1 << 20) / 1000.0; /* bytes per ms */
  long settle_ms = argc > 2 ? atol(argv[2]) : 0;
  struct timespec settle = {settle_ms / 1000, (settle_ms % 1000) * 1000000L};
  nanosleep(&settle, NULL);
  double began = now_ms();
  long leaked = 0, reported = 0;
  for (;;) {
    long owed = (long)((now_ms() - began) * rate) / PAGE * PAGE - leaked;
    if (owed > 0) {
      volatile char *chunk = mmap(NULL, owed, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
      if (chunk == MAP_FAILED) return 4;
      for (long at = 0; at < owed; at += PAGE) chunk[at] = 1;
      leaked += owed;
    }
    if (leaked - reported >= REPORT) {
      reported = leaked;
      char line[64];
      int length = snprintf(line, sizeof line, "%.1f %.1f\n", now_ms() - began, leaked / 1048576.0);
      if (write(1, line, length) < 0) return 5;
    }
    struct timespec tick = {0, 1000000L};
    nanosleep(&tick, NULL);
  }
}
