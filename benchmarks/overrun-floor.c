/* The floor for sampling: what angel does, in C, with nothing else around it.
 *   tree-sampler overrun INTERVAL_MS CAP_BYTES COUNT PROGRAM...  run PROGRAM COUNT times; each time sample the
 *       tree's RSS every interval and SIGTERM its group once over the cap (the child reports the latency).
 *   tree-sampler watch INTERVAL_MS CAP_BYTES SECONDS PROGRAM...  watch one tree for SECONDS, then print
 *       `cpu_ms <n> rss_kb <n>` of this sampler itself. */
#define _GNU_SOURCE
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long page_size;

static long read_rss(pid_t pid) {
  char path[64], buf[128];
  snprintf(path, sizeof path, "/proc/%d/statm", pid);
  FILE *f = fopen(path, "r");
  if (!f) return 0;
  long size = 0, resident = 0;
  if (fgets(buf, sizeof buf, f)) sscanf(buf, "%ld %ld", &size, &resident);
  fclose(f);
  return resident * page_size;
}

/* The RSS of pid and all its descendants, via /proc/<pid>/task/<tid>/children, as angel reads it. */
static long tree_rss(pid_t pid) {
  long total = read_rss(pid);
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/task", pid);
  DIR *tasks = opendir(path);
  if (!tasks) return total;
  for (struct dirent *task; (task = readdir(tasks));) {
    if (task->d_name[0] == '.') continue;
    char children_path[96];
    snprintf(children_path, sizeof children_path, "/proc/%d/task/%s/children", pid, task->d_name);
    FILE *f = fopen(children_path, "r");
    if (!f) continue;
    int child;
    while (fscanf(f, "%d", &child) == 1) total += tree_rss(child);
    fclose(f);
  }
  closedir(tasks);
  return total;
}

static pid_t start(char **argv) {
  pid_t pid = fork();
  if (pid == 0) {
    setsid();
    execvp(argv[0], argv);
    _exit(127);
  }
  return pid;
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

int main(int argc, char **argv) {
  if (argc < 6) return 2;
  page_size = sysconf(_SC_PAGESIZE);
  const char *mode = argv[1];
  long interval = atol(argv[2]), cap = atol(argv[3]), amount = atol(argv[4]);
  char **program = argv + 5;
  if (strcmp(mode, "overrun") == 0) {
    for (long i = 0; i < amount; i++) {
      pid_t pid = start(program);
      for (;;) {
        if (waitpid(pid, NULL, WNOHANG) == pid) break;
        if (tree_rss(pid) > cap) {
          kill(-pid, SIGTERM);
          waitpid(pid, NULL, 0);
          break;
        }
        sleep_ms(interval);
      }
    }
    return 0;
  }
  pid_t pid = start(program);
  for (long elapsed = 0; elapsed < amount * 1000; elapsed += interval) {
    if (tree_rss(pid) > cap) kill(-pid, SIGTERM);
    sleep_ms(interval);
  }
  kill(-pid, SIGKILL);
  waitpid(pid, NULL, 0);
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  double cpu = usage.ru_utime.tv_sec * 1e3 + usage.ru_utime.tv_usec / 1e3 + usage.ru_stime.tv_sec * 1e3 + usage.ru_stime.tv_usec / 1e3;
  long rss_kb = 0; /* VmRSS, as the benchmark reads angel's (ru_maxrss counts the fork before exec) */
  FILE *status = fopen("/proc/self/status", "r");
  char line[256];
  while (status && fgets(line, sizeof line, status)) if (sscanf(line, "VmRSS: %ld", &rss_kb) == 1) break;
  if (status) fclose(status);
  printf("cpu_ms %.1f rss_kb %ld\n", cpu, rss_kb);
  return 0;
}
