/* The floor for watching memory: what angel's sampler does, in C, with nothing around it. It starts the
 * program in a session of its own, then every INTERVAL_MS sums the RSS of the program's process tree:
 * children from /proc/<pid>/task/<pid>/children, RSS from /proc/<pid>/statm, each file opened once and
 * pread at offset 0 on every sample (a seq_file is generated afresh), as angel's TreeReader does. It reads
 * the main thread's children only: enough for the single-threaded trees the benchmarks run.
 *   overrun-floor overrun INTERVAL_MS CAP_BYTES PROGRAM [ARGS...]  SIGTERM the group once the tree passes
 *       the cap, wait for the program, exit 0 (1 if it ended first).
 *   overrun-floor watch INTERVAL_MS CAP_BYTES PROGRAM [ARGS...]    sample until SIGTERM, then SIGKILL the group.
 *   overrun-floor container INTERVAL_MS CAP_BYTES PROGRAM [ARGS...]  with OVERRUN_CGROUP=<the memory mount>: read
 *       its own cgroup's figure (figure.h, what angel's container mode reads) every INTERVAL_MS instead of the
 *       tree's RSS; SIGTERM the group once it passes the cap, and exit 0 if the program then died of that
 *       SIGTERM, 1 if it ended otherwise (the kernel's OOM kill, say). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "figure.h"

#define MAX_PROCS 1024

struct proc_files {
  pid_t pid;
  int statm, children;
  int seen;
};

static struct proc_files procs[MAX_PROCS];
static int nprocs;
static long page_size;
static volatile sig_atomic_t stopping;

static void on_term(int sig) {
  (void)sig;
  stopping = 1;
}

static struct proc_files *files_of(pid_t pid) {
  for (int i = 0; i < nprocs; i++) if (procs[i].pid == pid) return &procs[i];
  if (nprocs == MAX_PROCS) return NULL;
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/statm", pid);
  int statm = open(path, O_RDONLY | O_CLOEXEC);
  if (statm < 0) return NULL;
  snprintf(path, sizeof path, "/proc/%d/task/%d/children", pid, pid);
  int children = open(path, O_RDONLY | O_CLOEXEC);
  if (children < 0) {
    close(statm);
    return NULL;
  }
  procs[nprocs] = (struct proc_files){pid, statm, children, 0};
  return &procs[nprocs++];
}

static void forget(int i) {
  close(procs[i].statm);
  close(procs[i].children);
  procs[i] = procs[--nprocs];
}

/* RSS of pid and its descendants, in bytes; a process gone meanwhile counts nothing. */
static long tree_rss(pid_t pid, int depth) {
  struct proc_files *files = files_of(pid);
  if (!files || depth > 64) return 0;
  char text[4096];
  ssize_t length = pread(files->statm, text, sizeof text - 1, 0);
  if (length <= 0) { /* ESRCH: the process it was opened for is gone */
    forget((int)(files - procs));
    return 0;
  }
  files->seen = 1;
  text[length] = '\0';
  long size = 0, resident = 0;
  sscanf(text, "%ld %ld", &size, &resident);
  long total = resident * page_size;
  length = pread(files->children, text, sizeof text - 1, 0);
  if (length <= 0) return total;
  text[length] = '\0';
  for (char *cursor = text, *end; ; cursor = end) {
    long child = strtol(cursor, &end, 10);
    if (end == cursor) break;
    total += tree_rss((pid_t)child, depth + 1); /* may move entries of procs[], not text */
  }
  return total;
}

static long sample(pid_t root) {
  for (int i = 0; i < nprocs; i++) procs[i].seen = 0;
  long total = tree_rss(root, 0);
  for (int i = nprocs - 1; i >= 0; i--) if (!procs[i].seen) forget(i);
  return total;
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) < 0 && errno == EINTR && !stopping) {}
}

int main(int argc, char **argv) {
  if (argc < 5) return 2;
  page_size = sysconf(_SC_PAGESIZE);
  int watching = strcmp(argv[1], "watch") == 0;
  int container = strcmp(argv[1], "container") == 0;
  long interval = atol(argv[2]), cap = atol(argv[3]);
  struct cgroup_figure figure;
  if (container && (!getenv("OVERRUN_CGROUP") || figure_open(&figure, getenv("OVERRUN_CGROUP")) < 0)) return 5;
  struct sigaction term = {.sa_handler = on_term};
  sigaction(SIGTERM, &term, NULL);
  pid_t pid = fork();
  if (pid < 0) return 1;
  if (pid == 0) {
    setsid();
    execvp(argv[4], argv + 4);
    _exit(127);
  }
  while (!stopping) {
    if (waitpid(pid, NULL, WNOHANG) == pid) return 1;
    if ((container ? figure_bytes(&figure) : sample(pid)) > cap) {
      kill(-pid, SIGTERM);
      if (container) {
        int status;
        waitpid(pid, &status, 0);
        return WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM ? 0 : 1;
      }
      if (!watching) {
        waitpid(pid, NULL, 0);
        return 0;
      }
    }
    sleep_ms(interval);
  }
  kill(-pid, SIGKILL);
  waitpid(pid, NULL, 0);
  return 0;
}
