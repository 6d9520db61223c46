/* Test shim (LD_PRELOAD): fork() fails with EAGAIN while the file named by
 * SHOAL_TEST_FAIL_FORK exists, as it does at RLIMIT_NPROC (which root does not feel).
 * Used by the supervision tests to make a worker's fork fail on demand. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/types.h>
#include <unistd.h>

pid_t fork(void) {
  static pid_t (*real_fork)(void);
  if (!real_fork) real_fork = (pid_t(*)(void))dlsym(RTLD_NEXT, "fork");
  const char* path = getenv("SHOAL_TEST_FAIL_FORK");
  if (path && access(path, F_OK) == 0) {
    errno = EAGAIN;
    return -1;
  }
  return real_fork();
}
