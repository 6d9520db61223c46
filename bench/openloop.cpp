// openloop: latency at a fixed offered load, for comparing tails fairly. wrk keeps every
// connection busy (closed loop), so a faster server gets more load and a longer tail; here
// requests are due at fixed times (RATE a second, spread over the connections in turn) and
// each latency counts from when its request was due, so a stall delays the requests behind
// it as it would delay real users (no coordinated omission, like wrk2).
//
//   openloop PORT PATH RATE CONNECTIONS SECONDS
//
// Prints "<sent> <achieved req/s> <p50 us> <p99 us> <p99.9 us> <max us> <errors>" for the
// requests due after the first second (the warm-up). Keep-alive, one request in flight per
// connection, 127.0.0.1 only. Not part of the server: a measuring tool for bench/.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
using Nanos = std::chrono::nanoseconds;

struct Client {
  int fd = -1;
  std::deque<Clock::time_point> due;  // requests that are due or will be, oldest first
  bool in_flight = false;
  Clock::time_point sent_for;  // the due time of the request in flight
  std::string in;
};

int connect_to(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_port = htons(static_cast<uint16_t>(port));
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&sin), sizeof sin) != 0) {
    std::perror("openloop: connect");
    std::exit(2);
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

// The length of the first whole response in `in`, or 0 while it is incomplete; -1 if the
// head has no Content-Length (this tool needs one).
long response_length(const std::string& in) {
  const auto head_end = in.find("\r\n\r\n");
  if (head_end == std::string::npos) return 0;
  long body = -1;
  size_t line = in.find("\r\n") + 2;
  while (line < head_end) {
    const size_t next = in.find("\r\n", line);
    if (next - line > 15 && strncasecmp(in.data() + line, "content-length:", 15) == 0) {
      body = std::strtol(in.c_str() + line + 15, nullptr, 10);
    }
    line = next + 2;
  }
  if (body < 0) return -1;
  const long total = static_cast<long>(head_end) + 4 + body;
  return static_cast<long>(in.size()) >= total ? total : 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 6) {
    std::fprintf(stderr, "usage: openloop PORT PATH RATE CONNECTIONS SECONDS\n");
    return 2;
  }
  const int port = std::atoi(argv[1]);
  const std::string request =
      std::string("GET ") + argv[2] + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  const double rate = std::atof(argv[3]);
  const int connections = std::atoi(argv[4]);
  const double seconds = std::atof(argv[5]);
  if (port <= 0 || rate <= 0 || connections <= 0 || seconds <= 1) {
    std::fprintf(stderr, "openloop: bad arguments (SECONDS must be more than the 1 s warm-up)\n");
    return 2;
  }
  prctl(PR_SET_TIMERSLACK, 1UL);  // wake when the next request is due, not 50 us later

  const int epoll = epoll_create1(EPOLL_CLOEXEC);
  std::vector<Client> clients(static_cast<size_t>(connections));
  for (size_t i = 0; i < clients.size(); ++i) {
    clients[i].fd = connect_to(port);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = i;
    epoll_ctl(epoll, EPOLL_CTL_ADD, clients[i].fd, &ev);
  }

  const auto start = Clock::now();
  const auto interval = Nanos(static_cast<long long>(1e9 / rate));
  const auto warm = start + std::chrono::seconds(1);
  const auto end = start + Nanos(static_cast<long long>(seconds * 1e9));
  auto next_due = start;
  size_t next_client = 0;
  std::vector<uint32_t> latencies;  // microseconds
  latencies.reserve(static_cast<size_t>(rate * seconds));
  long errors = 0;
  long sent = 0;
  char buffer[65536];

  auto send_due = [&](Client& c, Clock::time_point now) {
    if (c.in_flight || c.due.empty() || c.due.front() > now) return;
    c.sent_for = c.due.front();
    c.due.pop_front();
    if (::write(c.fd, request.data(), request.size()) != static_cast<ssize_t>(request.size())) {
      ++errors;  // a short write of a tiny request means the connection is broken
      return;
    }
    c.in_flight = true;
    ++sent;
  };

  bool draining = false;
  while (true) {
    auto now = Clock::now();
    if (!draining && now >= end) draining = true;  // stop scheduling; finish what is in flight
    while (!draining && next_due <= now) {
      Client& c = clients[next_client];
      next_client = (next_client + 1) % clients.size();
      c.due.push_back(next_due);
      next_due += interval;
      send_due(c, now);
    }
    bool busy = false;
    for (auto& c : clients) busy = busy || c.in_flight || !c.due.empty();
    if (draining && (!busy || now >= end + std::chrono::seconds(5))) break;

    timespec timeout{};
    if (!draining && next_due > now) {
      const auto wait = std::chrono::duration_cast<Nanos>(next_due - now).count();
      timeout.tv_sec = wait / 1'000'000'000;
      timeout.tv_nsec = wait % 1'000'000'000;
    } else if (draining) {
      timeout.tv_nsec = 10'000'000;
    }
    epoll_event events[256];
    const int n = epoll_pwait2(epoll, events, 256, &timeout, nullptr);
    if (n < 0 && errno != EINTR) {
      std::perror("openloop: epoll_pwait2");
      return 2;
    }
    now = Clock::now();
    for (int i = 0; i < n; ++i) {
      Client& c = clients[events[i].data.u64];
      const ssize_t got = ::read(c.fd, buffer, sizeof buffer);
      if (got <= 0) {
        if (got < 0 && errno == EAGAIN) continue;
        std::fprintf(stderr, "openloop: the server closed a connection\n");
        return 1;
      }
      c.in.append(buffer, static_cast<size_t>(got));
      const long length = response_length(c.in);
      if (length < 0) {
        std::fprintf(stderr, "openloop: a response without Content-Length\n");
        return 1;
      }
      if (length == 0) continue;
      if (c.in.compare(0, 12, "HTTP/1.1 200") != 0) ++errors;
      c.in.erase(0, static_cast<size_t>(length));
      c.in_flight = false;
      if (c.sent_for >= warm) {
        latencies.push_back(static_cast<uint32_t>(
            std::chrono::duration_cast<std::chrono::microseconds>(now - c.sent_for).count()));
      }
      send_due(c, now);  // requests that fell due while this one was in flight
    }
  }

  if (latencies.empty()) {
    std::fprintf(stderr, "openloop: no responses\n");
    return 1;
  }
  std::sort(latencies.begin(), latencies.end());
  auto at = [&](double q) {
    return latencies[std::min(latencies.size() - 1, static_cast<size_t>(q * latencies.size()))];
  };
  const double measured = std::chrono::duration<double>(end - warm).count();
  std::printf("%ld %.0f %u %u %u %u %ld\n", sent, static_cast<double>(latencies.size()) / measured,
              at(0.50), at(0.99), at(0.999), latencies.back(), errors);
  return 0;
}
