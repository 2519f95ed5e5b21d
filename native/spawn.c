/* The fork path. The child shares the parent's memory until execve (CLONE_VM|CLONE_VFORK, the technique of
 * glibc's posix_spawn), so it must not allocate, take a lock or touch errno-dependent libc state: only raw
 * system calls on data the parent prepared. A failure travels back as (step, errno) through that shared
 * memory, as posix_spawn's does: the parent stays suspended until the child has exited or execve has passed
 * its point of no return (the kernel releases a vfork parent when it replaces the child's memory, and from
 * there on a failing exec kills the child instead of returning), so a parent that finds no failure written
 * knows the new program is committed.
 *
 * No close-on-exec pipe, then: its EOF came later in execve, and the pipe's wakeup is a synchronous one,
 * which told the scheduler to run the parent on the CPU of the child just as it started its new program
 * (measured on the crash-loop benchmark, medians of 500 restarts: restartLatencyMs 0.59 -> 0.36 ms, the
 * child's own exit -> next main() 2.3-2.4 -> 2.0-2.1 ms). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* <sched.h> has CLONE_PIDFD under _GNU_SOURCE in glibc and musl alike; <linux/sched.h> is not in musl's
 * include path (musl-gcc), so the kernel's headers are not needed. */
#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x00001000
#endif
/* clone3(2)'s argument, as the kernel lays it out (CLONE_ARGS_SIZE_VER2, 88 bytes), and CLONE_INTO_CGROUP: ours,
 * for the same reason, so the kernel's <linux/sched.h> is not needed. */
struct angel_clone_args {
  uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid, set_tid_size, cgroup;
};
#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif
#ifndef CLONE_CLEAR_SIGHAND
#define CLONE_CLEAR_SIGHAND 0x100000000ULL
#endif
#if defined(__x86_64__) && !defined(SYS_clone3)
#define SYS_clone3 435
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
#ifndef P_PIDFD
#define P_PIDFD 3
#endif
#ifndef AT_EMPTY_PATH
#define AT_EMPTY_PATH 0x1000
#endif

#define CHILD_STACK_SIZE (64 * 1024)

const char *angel_step_name(int step) {
  switch (step & 0xff) {
    case STEP_SETSID: return "setsid";
    case STEP_DUP: return "dup";
    case STEP_CLOEXEC: return "close_range";
    case STEP_SETRLIMIT: return "setrlimit";
    case STEP_NO_NEW_PRIVS: return "prctl(NO_NEW_PRIVS)";
    case STEP_SETGROUPS: return "setgroups";
    case STEP_SETGID: return "setgid";
    case STEP_SETUID: return "setuid";
    case STEP_PDEATHSIG: return "prctl(PDEATHSIG)";
    case STEP_CHDIR: return "chdir";
    case STEP_EXECVE: return "execve";
    case STEP_PARENT_CLONE: return "clone";
    case STEP_CGROUP: return "cgroup.procs";
    case STEP_PARENT_CLONE3: return "clone3";
    default: return "spawn";
  }
}

/* The kernel's layout for rt_sigaction(2), which differs from glibc's struct sigaction. */
struct kernel_sigaction {
  void (*handler)(int);
  unsigned long flags;
  void (*restorer)(void);
  unsigned long mask;
};

struct child_args {
  const struct angel_spawn_spec *spec;
  /* Written by the child, read by the parent once the clone returns. */
  struct angel_spawn_failure failure;
  volatile int failed;
  long long exec_ns;
  /* The signals the child sets to SIG_DFL (bit n-1 for signal n): those not SIG_DFL in the parent, or, when
   * the kernel has already cleared the handlers (CLONE_CLEAR_SIGHAND), the ignored ones. */
  unsigned long long reset;
};

/* A file of /proc/self, read whole into text (NUL-terminated); -1 when it cannot be. Opened once and pread
 * each time: a seq_file read at offset 0 is generated afresh, and the open and close were half the cost.
 * "self" is resolved at open, to this process, on any thread. */
static int open_self(_Atomic int *cached, const char *path) {
  int fd = *cached;
  if (fd < 0) {
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    int expected = -1;
    if (!atomic_compare_exchange_strong(cached, &expected, fd)) {
      close(fd); /* another thread won the race; use its fd */
      fd = expected;
    }
  }
  return fd;
}

static ssize_t read_self(_Atomic int *cached, const char *path, char *text, size_t size) {
  int fd = open_self(cached, path);
  if (fd < 0) return -1;
  ssize_t length = pread(fd, text, size - 1, 0);
  if (length <= 0) return -1;
  text[length] = '\0';
  return length;
}

/* SigCgt | SigIgn of this process, from /proc/self/status (proc(5)): the child then resets only those,
 * instead of 64 rt_sigaction calls. All ones when it cannot be read, so nothing is ever missed. */
static _Atomic int status_fd = -1;
static unsigned long long non_default_signals(void) {
  char text[4096];
  if (read_self(&status_fd, "/proc/self/status", text, sizeof text) < 0) return ~0ULL;
  unsigned long long mask = 0;
  int found = 0;
  for (const char *field = text; (field = strstr(field, "\nSig")) != NULL; field++) {
    if (strncmp(field, "\nSigCgt:", 8) == 0 || strncmp(field, "\nSigIgn:", 8) == 0) {
      mask |= strtoull(field + 8, NULL, 16);
      found++;
    }
  }
  return found == 2 ? mask : ~0ULL;
}

/* The ignored signals among 1-31, from field 33 of /proc/self/stat (proc(5)): what the child must still reset
 * once the kernel has cleared the handlers. /proc/self/stat is generated in less time than status; it holds no
 * real-time signals, and an ignored one of those stays ignored in the program, as it would after posix_spawn.
 * All ones when it cannot be read. */
static _Atomic int stat_fd = -1;
static unsigned long long ignored_signals(void) {
  char text[1024];
  if (read_self(&stat_fd, "/proc/self/stat", text, sizeof text) < 0) return ~0ULL;
  /* the fields after the command name, which may itself hold spaces and parentheses */
  const char *cursor = strrchr(text, ')');
  for (int field = 2; cursor != NULL && *cursor != '\0'; cursor++) {
    if (*cursor == ' ' && ++field == 33) return strtoull(cursor + 1, NULL, 10);
  }
  return ~0ULL;
}

/* The ignored signals, read at the first spawn and kept: after CLONE_CLEAR_SIGHAND they are all the child must
 * reset, and reading /proc/self/stat again on every spawn cost more than the read alone (with the exit watch
 * armed later, the spawn benchmark's target row went 1.60-1.62x -> 1.46-1.48x of the floor in alternating runs).
 * In a Node process they are SIGPIPE and SIGXFSZ, for good: Node sets every disposition at its start (those two
 * ignored, the rest default, whatever it inherited), and JavaScript can install a handler (the kernel clears it
 * in the child) and remove it (libuv restores SIG_DFL), never ignore a signal. Only native code could, and then
 * a later child would keep that one ignored, as posix_spawn's children keep every ignored signal. */
static _Atomic unsigned long long ignored_at_start;
static _Atomic int ignored_known = 0;
static unsigned long long ignored_signals_kept(void) {
  if (!ignored_known) {
    ignored_at_start = ignored_signals();
    ignored_known = 1;
  }
  return ignored_at_start;
}

/* One child stack, kept: an mmap/munmap per spawn costs a TLB shootdown each time. A second thread
 * spawning at the same moment (a worker) gets a stack of its own. */
static void *cached_stack;
static atomic_flag cached_stack_busy = ATOMIC_FLAG_INIT;

static void *take_stack(int *cached) {
  *cached = !atomic_flag_test_and_set(&cached_stack_busy);
  if (*cached && cached_stack) return cached_stack;
  void *stack = mmap(NULL, CHILD_STACK_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (stack == MAP_FAILED) {
    if (*cached) atomic_flag_clear(&cached_stack_busy);
    return NULL;
  }
  if (*cached) cached_stack = stack;
  return stack;
}

static void give_back_stack(void *stack, int cached) {
  if (cached) atomic_flag_clear(&cached_stack_busy);
  else munmap(stack, CHILD_STACK_SIZE);
}

/* Both the step and the resource travel back, so the parent can say which rlimit was refused. */
static __attribute__((noreturn)) void child_fail(struct child_args *args, int step, int err) {
  args->failure = (struct angel_spawn_failure){step, err};
  args->failed = 1;
  syscall(SYS_exit_group, 127);
  __builtin_unreachable();
}

/* Formats n into buf without libc (snprintf is not async-signal-safe). */
static void write_decimal(char *buf, long n) {
  char digits[24];
  int len = 0;
  do {
    digits[len++] = (char)('0' + n % 10);
    n /= 10;
  } while (n > 0);
  for (int i = 0; i < len; i++) buf[i] = digits[len - 1 - i];
  buf[len] = '\0';
}

/* Places spec->fds[i] at i. A source that sits inside the target range is first moved above it, or an
 * earlier dup2 could overwrite it; the program's open file is moved out of the way for the same reason. */
static int move_above(int *fd, int n) {
  if (*fd < 0 || *fd >= n) return 0;
  int moved = (int)syscall(SYS_fcntl, *fd, F_DUPFD_CLOEXEC, n);
  if (moved < 0) return -1;
  *fd = moved;
  return 0;
}

static int child_map_fds(const struct angel_spawn_spec *spec, int *exec_fd, int *moved) {
  int n = spec->nfds;
  /* the program's open file must survive the map until execveat */
  if (move_above(exec_fd, n) < 0) return -1;
  for (int i = 0; i < n; i++) {
    int src = spec->fds[i];
    moved[i] = src;
    if (src >= 0 && src < n && src != i) {
      int fd = (int)syscall(SYS_fcntl, src, F_DUPFD_CLOEXEC, n);
      if (fd < 0) return -1;
      moved[i] = fd;
    }
  }
  for (int i = 0; i < n; i++) {
    int src = moved[i];
    if (src < 0) {
      /* a hole in the map is a closed fd in the child, whatever the parent holds at that number */
      if (syscall(SYS_fcntl, i, F_SETFD, FD_CLOEXEC) < 0 && errno != EBADF) return -1;
      continue;
    }
    if (src == i) {
      /* dup2 onto itself is a no-op that would leave FD_CLOEXEC set */
      if (syscall(SYS_fcntl, i, F_SETFD, 0) < 0) return -1;
    } else if (syscall(SYS_dup3, src, i, 0) < 0) {
      return -1;
    }
    if (i <= 2) {
      /* a non-blocking stdio breaks ordinary programs (EAGAIN on write); libuv clears it the same way */
      long flags = syscall(SYS_fcntl, i, F_GETFL);
      if (flags >= 0 && (flags & O_NONBLOCK)) syscall(SYS_fcntl, i, F_SETFL, flags & ~O_NONBLOCK);
    }
  }
  return 0;
}

static int child_main(void *raw) {
  struct child_args *args = raw;
  const struct angel_spawn_spec *spec = args->spec;

  /* Without CLONE_SIGHAND the child has its own copy of the handler table, so this leaves the parent alone.
   * Ignored signals (Node ignores SIGPIPE and SIGXFSZ) would otherwise survive execve. */
  struct kernel_sigaction dfl;
  memset(&dfl, 0, sizeof dfl); /* handler SIG_DFL, no flags, empty mask */
  for (int sig = 1; sig < NSIG; sig++) {
    if (sig == SIGKILL || sig == SIGSTOP || !(args->reset & (1ULL << (sig - 1)))) continue;
    syscall(SYS_rt_sigaction, sig, &dfl, NULL, sizeof dfl.mask);
  }

  /* cgroup v1 has no CLONE_INTO_CGROUP: the child moves itself ("0" is the writer) before it does anything
   * that allocates in its own name, and long before exec, so no process of the generation ever runs outside */
  if (spec->cgroup_procs_fd >= 0 && syscall(SYS_write, spec->cgroup_procs_fd, "0", 1) < 0) {
    child_fail(args, STEP_CGROUP, errno);
  }

  if (syscall(SYS_setsid) < 0) child_fail(args, STEP_SETSID, errno);

  int exec_fd = spec->exec_fd;
  int moved[spec->nfds > 0 ? spec->nfds : 1];
  if (child_map_fds(spec, &exec_fd, moved) < 0) child_fail(args, STEP_DUP, errno);
  /* Everything above the map closes at exec; marking instead of closing keeps the program's file open. */
  if (syscall(SYS_close_range, spec->nfds, ~0U, CLOSE_RANGE_CLOEXEC) < 0) {
    child_fail(args, STEP_CLOEXEC, errno);
  }
  /* execveat(2): a script run from a close-on-exec fd fails with ENOENT, as its interpreter is handed
   * /dev/fd/N, which the exec has closed */
  if (exec_fd >= 0 && spec->exec_fd_inherit && syscall(SYS_fcntl, exec_fd, F_SETFD, 0) < 0) {
    child_fail(args, STEP_CLOEXEC, errno);
  }

  if (spec->listen_pid_slot) write_decimal(spec->listen_pid_slot, syscall(SYS_getpid));
  if (spec->watchdog_pid_slot) write_decimal(spec->watchdog_pid_slot, syscall(SYS_getpid));

  /* Limits first, while still privileged: a lowered hard limit cannot be raised again after setuid. */
  for (int i = 0; i < spec->nrlimits; i++) {
    struct rlimit64 limit = {spec->rlimits[i].soft, spec->rlimits[i].hard};
    if (syscall(SYS_prlimit64, 0, spec->rlimits[i].resource, &limit, NULL) < 0) {
      child_fail(args, STEP_SETRLIMIT + (spec->rlimits[i].resource << 8), errno);
    }
  }
  if (spec->no_new_privs && syscall(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
    child_fail(args, STEP_NO_NEW_PRIVS, errno);
  }
  /* Raw syscalls: glibc's set*id wrappers signal every thread to change them all (setxid), which in a
   * vfork child would reach the parent's threads. The child has one thread, so the raw call is exact. */
  if (spec->ngroups >= 0 && syscall(SYS_setgroups, spec->ngroups, spec->groups) < 0) {
    child_fail(args, STEP_SETGROUPS, errno);
  }
  if (spec->gid >= 0 && syscall(SYS_setgid, spec->gid) < 0) child_fail(args, STEP_SETGID, errno);
  if (spec->uid >= 0 && syscall(SYS_setuid, spec->uid) < 0) child_fail(args, STEP_SETUID, errno);
  /* After the ids: a credential change clears the parent-death signal (prctl(2)). Then the race: a parent that
   * died before the prctl would never send it, so the child looks (getppid) and ends the same way itself. */
  if (spec->parent_death_signal > 0) {
    if (syscall(SYS_prctl, PR_SET_PDEATHSIG, spec->parent_death_signal, 0, 0, 0) < 0) child_fail(args, STEP_PDEATHSIG, errno);
    if (syscall(SYS_getppid) != spec->parent_pid) syscall(SYS_kill, syscall(SYS_getpid), spec->parent_death_signal);
  }
  if (spec->cwd && syscall(SYS_chdir, spec->cwd) < 0) child_fail(args, STEP_CHDIR, errno);

  sigset_t none;
  sigemptyset(&none);
  syscall(SYS_rt_sigprocmask, SIG_SETMASK, &none, NULL, _NSIG / 8);

  /* The moment the program's start begins, on the parent's clock, read here because the parent's own reading
   * after the clone returns can come late: a vfork parent released at the exec waits for a CPU like any woken
   * task, and on a loaded machine the program had been running for milliseconds by then. The vDSO's
   * clock_gettime: no system call, no lock, errno untouched on success. */
  struct timespec exec_at;
  clock_gettime(CLOCK_MONOTONIC, &exec_at);
  args->exec_ns = exec_at.tv_sec * 1000000000LL + exec_at.tv_nsec;

  if (exec_fd >= 0) {
    syscall(SYS_execveat, exec_fd, "", spec->argv, spec->envp, AT_EMPTY_PATH);
  } else {
    syscall(SYS_execve, spec->path, spec->argv, spec->envp);
  }
  child_fail(args, STEP_EXECVE, errno);
}

#if defined(__x86_64__)
/* clone3(2) with CLONE_VM and a stack of its own: glibc exports no clone3, and a child that returned from the
 * syscall() wrapper onto a new stack would have no frame to return into. So the child branch calls fn(arg) on
 * its stack here, as glibc's own clone3.S does, and exits with its return value. The kernel keeps every register
 * but rax, rcx and r11 across the call, so fn and arg are still in r12 and r13 in the child. */
static long clone3_call(struct angel_clone_args *clone_args, int (*fn)(void *), void *arg) {
  long ret;
  register long fn_reg __asm__("r12") = (long)fn;
  register long arg_reg __asm__("r13") = (long)arg;
  __asm__ volatile(
      "syscall\n\t"
      "test %%rax, %%rax\n\t"
      "jnz 1f\n\t"
      "xor %%ebp, %%ebp\n\t"
      "mov %%r13, %%rdi\n\t"
      "call *%%r12\n\t"
      "mov %%eax, %%edi\n\t"
      "mov %[exit_group], %%eax\n\t"
      "syscall\n\t"
      "hlt\n"
      "1:\n"
      : "=a"(ret)
      : "0"((long)SYS_clone3), "D"(clone_args), "S"(sizeof *clone_args), "r"(fn_reg), "r"(arg_reg),
        [exit_group] "i"(SYS_exit_group)
      : "rcx", "r11", "memory");
  return ret;
}
#endif

/* Whether clone3 takes CLONE_CLEAR_SIGHAND here: 1 until a refusal says otherwise (a kernel before 5.5, or a
 * seccomp filter that answers clone3 with ENOSYS, as older container runtimes' default profiles do). */
static _Atomic int clear_sighand_works = 1;

/* The clone, with clone3 where there is one (x86_64): the kernel clears the child's signal handlers
 * (CLONE_CLEAR_SIGHAND), and a cgroup v2 directory is where the child starts (CLONE_INTO_CGROUP), so it is
 * never anywhere else; otherwise glibc's clone. Returns the pid, or -1 with errno set. */
static pid_t clone_child(const struct angel_spawn_spec *spec, void *stack, struct child_args *args, int *pidfd, int clear_sighand) {
  if (spec->cgroup_fd < 0 && !clear_sighand) {
    return clone(child_main, (char *)stack + CHILD_STACK_SIZE, CLONE_VM | CLONE_VFORK | CLONE_PIDFD | SIGCHLD, args, pidfd);
  }
#if defined(__x86_64__)
  struct angel_clone_args clone_args;
  memset(&clone_args, 0, sizeof clone_args);
  clone_args.flags = CLONE_VM | CLONE_VFORK | CLONE_PIDFD | (clear_sighand ? CLONE_CLEAR_SIGHAND : 0) |
                     (spec->cgroup_fd >= 0 ? CLONE_INTO_CGROUP : 0);
  clone_args.pidfd = (unsigned long long)(uintptr_t)pidfd;
  clone_args.exit_signal = SIGCHLD;
  clone_args.stack = (unsigned long long)(uintptr_t)stack;
  clone_args.stack_size = CHILD_STACK_SIZE;
  if (spec->cgroup_fd >= 0) clone_args.cgroup = (unsigned long long)spec->cgroup_fd;
  long pid = clone3_call(&clone_args, child_main, args);
  if (pid < 0) {
    errno = (int)-pid;
    return -1;
  }
  return (pid_t)pid;
#else
  errno = ENOSYS;
  return -1;
#endif
}

int angel_spawn(const struct angel_spawn_spec *spec, struct angel_spawned *spawned, struct angel_spawn_failure *failure) {
  /* Every fd the child is to receive must be open before this function opens an fd of its own: a closed number
   * in the map would be taken by that file, and the child would get it instead of EBADF. Its own are the
   * /proc/self files it reads before the clone, both opened at the first spawn, after this check, and kept;
   * from then on a closed number fails in the child's dup (the pidfd the clone makes is not in the child's
   * table, which is copied before the pidfd is made), and the check would be three system calls more on every
   * restart's path. */
  static _Atomic int own_files_open = 0;
  if (!own_files_open) {
    for (int i = 0; i < spec->nfds; i++) {
      if (spec->fds[i] >= 0 && fcntl(spec->fds[i], F_GETFD) < 0) {
        *failure = (struct angel_spawn_failure){STEP_DUP, errno};
        return -1;
      }
    }
    open_self(&stat_fd, "/proc/self/stat");
    open_self(&status_fd, "/proc/self/status");
    own_files_open = 1;
  }
  if (spec->exec_fd >= 0 && fcntl(spec->exec_fd, F_GETFD) < 0) {
    *failure = (struct angel_spawn_failure){STEP_EXECVE, errno};
    return -1;
  }

  int stack_cached;
  void *stack = take_stack(&stack_cached);
  if (!stack) {
    *failure = (struct angel_spawn_failure){STEP_PARENT_CLONE, errno};
    return -1;
  }

  /* Blocked across the clone: a handler of Node's must never run in the child, which shares its memory.
   * The child resets every disposition and only then unblocks. */
  sigset_t all, saved;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &saved);

  /* With CLONE_CLEAR_SIGHAND the kernel sets every handled signal to SIG_DFL in the child, and what is left to
   * reset is the ignored ones, known since the first spawn: two rt_sigaction calls in the child instead of
   * twenty. Without it, the handlers are read on every spawn, just before the clone (they do change while Node
   * runs): Node installs them only from its main thread, which is this one, so none changes between this read
   * and the child's reset. */
  struct child_args args = {.spec = spec, .failed = 0};
  int pidfd = -1;
  pid_t pid = -1;
  int clone_errno = 0;
#if defined(__x86_64__)
  if (clear_sighand_works) {
    args.reset = ignored_signals_kept();
    pid = clone_child(spec, stack, &args, &pidfd, 1);
    clone_errno = errno;
  }
#endif
  if (pid < 0 && (clone_errno == 0 || clone_errno == ENOSYS || clone_errno == EINVAL || clone_errno == EPERM)) {
    args.reset = non_default_signals();
    pid = clone_child(spec, stack, &args, &pidfd, 0);
    /* the flag was what was refused only if the same clone succeeds without it */
    if (pid >= 0 && clone_errno != 0) clear_sighand_works = 0;
    clone_errno = errno;
  }

  pthread_sigmask(SIG_SETMASK, &saved, NULL);
  give_back_stack(stack, stack_cached);

  if (pid < 0) {
    *failure = (struct angel_spawn_failure){spec->cgroup_fd >= 0 ? STEP_PARENT_CLONE3 : STEP_PARENT_CLONE, clone_errno};
    return -1;
  }
  if (args.failed) {
    /* The child has exited with 127 already; reap it here so no zombie is left behind. */
    siginfo_t info;
    while (waitid(P_PIDFD, pidfd, &info, WEXITED) < 0 && errno == EINTR) {}
    close(pidfd);
    *failure = args.failure;
    return -1;
  }
  *spawned = (struct angel_spawned){pid, pidfd, args.exec_ns};
  return 0;
}
