/* tree N: forks N-1 children that sleep, so the tree holds N processes; waits for signals. */
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 20;
  for (int i = 1; i < n; i++) {
    if (fork() == 0) {
      for (;;) pause();
    }
  }
  for (;;) pause();
}
