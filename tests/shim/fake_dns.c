/* Test shim (LD_PRELOAD): getaddrinfo() answers from the file named by SHOAL_TEST_HOSTS, read
 * at every call, for the names it lists; other names go to the real resolver. A line is
 * "NAME ADDRESS..." (numeric addresses, answered in that order) or "NAME -" (the name does
 * not resolve: EAI_NONAME); "@MS" before the addresses makes the answer take MS milliseconds,
 * as a slow DNS server's would, and appends "slow NAME" to the file SHOAL_TEST_HOSTS.log (when
 * it exists) as it begins, so a test can wait for that moment. Lets the proxy tests change what a
 * name resolves to while shoal runs, without touching /etc/hosts or needing a DNS server. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef int (*getaddrinfo_fn)(const char*, const char*, const struct addrinfo*, struct addrinfo**);

int getaddrinfo(const char* node, const char* service, const struct addrinfo* hints,
                struct addrinfo** res) {
  static getaddrinfo_fn real;
  if (!real) real = (getaddrinfo_fn)dlsym(RTLD_NEXT, "getaddrinfo");
  const char* path = getenv("SHOAL_TEST_HOSTS");
  FILE* f = path && node ? fopen(path, "r") : NULL;
  if (!f) return real(node, service, hints, res);
  char line[1024];
  while (fgets(line, sizeof line, f)) {
    char* save = NULL;
    char* name = strtok_r(line, " \t\n", &save);
    if (!name || strcmp(name, node) != 0) continue;
    fclose(f);
    struct addrinfo numeric = {0};
    numeric.ai_family = hints ? hints->ai_family : AF_UNSPEC;
    numeric.ai_socktype = hints ? hints->ai_socktype : 0;
    numeric.ai_flags = AI_NUMERICHOST | (hints ? hints->ai_flags & AI_NUMERICSERV : 0);
    struct addrinfo* first = NULL;
    struct addrinfo** tail = &first;
    for (char* addr; (addr = strtok_r(NULL, " \t\n", &save));) {
      if (strcmp(addr, "-") == 0) break;
      if (addr[0] == '@') {
        char log_path[1024];
        snprintf(log_path, sizeof log_path, "%s.log", path);
        FILE* log = fopen(log_path, "r+");
        if (log) {
          fseek(log, 0, SEEK_END);
          fprintf(log, "slow %s\n", node);
          fclose(log);
        }
        const long ms = atol(addr + 1);
        struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
        continue;
      }
      struct addrinfo* one = NULL;
      if (real(addr, service, &numeric, &one) != 0) continue;
      *tail = one; /* glibc frees each node on its own: lists may be joined */
      while (*tail) tail = &(*tail)->ai_next;
    }
    if (!first) return EAI_NONAME;
    *res = first;
    return 0;
  }
  fclose(f);
  return real(node, service, hints, res);
}
