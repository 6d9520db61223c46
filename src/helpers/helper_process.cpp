// Helper process: job loop, built-in jobs and CGI execution. Logs go to the worker as LOG
// frames (a helper has no log file of its own). A CGI program is forked and exec'd, so a
// crashing program never takes the helper down; it dies with the helper (PDEATHSIG).
#include "helpers/helper_process.hpp"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>
#include <string>

#include "helpers/cgi.hpp"
#include "helpers/frame.hpp"
#include "helpers/job.hpp"
#include "util/socket_address.hpp"
#include "util/spawn.hpp"
#include "util/unique_fd.hpp"

namespace shoal::helpers {

namespace {

class Channel {
 public:
  Channel(int in_fd, int out_fd) : in_(in_fd), out_(out_fd) {}

  // Blocks until a frame arrives; exits the process when the worker is gone.
  Frame read() {
    Frame frame;
    while (true) {
      switch (reader_.next(frame)) {
        case FrameReader::Status::kFrame:
          return frame;
        case FrameReader::Status::kError:
          _exit(3);  // the worker sent something that is not our protocol
        case FrameReader::Status::kNeedMore:
          break;
      }
      char buf[64 * 1024];
      ssize_t n = ::read(in_, buf, sizeof buf);
      if (n == 0) _exit(0);  // the worker closed our pipe: time to go
      if (n < 0) {
        if (errno == EINTR) continue;
        _exit(3);
      }
      reader_.append(std::string_view(buf, static_cast<size_t>(n)));
    }
  }

  void send(FrameType type, std::string_view payload) {
    out_buf_.clear();
    append_frame(out_buf_, type, payload);
    size_t off = 0;
    while (off < out_buf_.size()) {
      ssize_t n = ::write(out_, out_buf_.data() + off, out_buf_.size() - off);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) _exit(3);  // the worker is gone
      off += static_cast<size_t>(n);
    }
  }

  void send_fields(FrameType type, const std::vector<std::string>& fields) {
    send(type, encode_fields(fields));
  }

  void log(const char* level, const std::string& message) {
    send_fields(FrameType::kLog, {level, message});
  }

  void fail(int status, const std::string& why) {
    send_fields(FrameType::kError, {std::to_string(status), why});
  }

  void head(int status, const HeaderList& headers) {
    std::vector<std::string> fields{std::to_string(status)};
    for (const auto& [name, value] : headers) {
      fields.push_back(name);
      fields.push_back(value);
    }
    send_fields(FrameType::kHead, fields);
  }

  void data(std::string_view bytes) {
    while (!bytes.empty()) {
      auto n = std::min(bytes.size(), kDataChunk);
      send(FrameType::kData, bytes.substr(0, n));
      bytes.remove_prefix(n);
    }
  }

 private:
  int in_;
  int out_;
  FrameReader reader_;
  std::string out_buf_;
};

void run_builtin(Channel& channel, const JobSpec& job) {
  const auto start = std::chrono::steady_clock::now();
  const auto until = start + job.duration;
  if (job.type == JobType::kBurn) {
    volatile std::uint64_t spins = 0;  // a real CPU loop, as a blocking handler would be
    while (std::chrono::steady_clock::now() < until) {
      for (int i = 0; i < 10000; ++i) spins = spins + 1;
    }
  } else {
    while (true) {
      auto left = until - std::chrono::steady_clock::now();
      if (left <= std::chrono::nanoseconds(0)) break;
      auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
      timespec ts{static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
      nanosleep(&ts, nullptr);
    }
  }
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
                  std::chrono::steady_clock::now() - start)
                  .count();
  channel.head(200, {{"Content-Type", "text/plain"}});
  channel.data(std::string(job.type == JobType::kBurn ? "burned " : "slept ") +
               std::to_string(took) + " ms in helper " + std::to_string(getpid()) + "\n");
  channel.send(FrameType::kEnd, {});
}

// getaddrinfo, the one call that may block for seconds on a slow DNS server: here, never on
// a worker's loop. The answer is 200 with "4|6 ADDRESS PORT" lines, or 502 with the reason.
void run_resolve(Channel& channel, const JobSpec& job) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const int err = getaddrinfo(job.path.c_str(), job.route_prefix.c_str(), &hints, &found);
  if (err != 0) {
    channel.head(502, {});
    channel.data(std::string("getaddrinfo: ") +
                 (err == EAI_SYSTEM ? std::strerror(errno) : gai_strerror(err)));
    channel.send(FrameType::kEnd, {});
    return;
  }
  std::vector<SocketAddress> addresses;
  for (addrinfo* ai = found; ai; ai = ai->ai_next) {
    if (ai->ai_addrlen > sizeof(sockaddr_storage)) continue;
    SocketAddress a;
    std::memcpy(&a.addr, ai->ai_addr, ai->ai_addrlen);
    a.len = ai->ai_addrlen;
    addresses.push_back(a);
  }
  freeaddrinfo(found);
  channel.head(200, {});
  channel.data(encode_address_lines(addresses));
  channel.send(FrameType::kEnd, {});
}

// Reads BODY frames until BODY_END into `fd` (a memfd for CGI, or nowhere for built-ins).
// Returns the bytes stored in `fd`, or nullopt when a write failed (the whole body is still
// read, so the pipe stays in step): CONTENT_LENGTH never counts bytes the program cannot read.
std::optional<size_t> receive_body(Channel& channel, int fd) {
  size_t stored = 0;
  bool failed = false;
  while (true) {
    Frame frame = channel.read();
    if (frame.type == FrameType::kBodyEnd) return failed ? std::nullopt : std::optional(stored);
    if (frame.type != FrameType::kBody) _exit(3);
    if (fd < 0 || failed) continue;
    size_t off = 0;
    while (off < frame.payload.size()) {
      ssize_t n = ::write(fd, frame.payload.data() + off, frame.payload.size() - off);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        failed = true;
        break;
      }
      off += static_cast<size_t>(n);
    }
    stored += off;
  }
}

// Both ends close-on-exec; the caller dup2s what a child needs.
bool make_pipe(UniqueFd& read_end, UniqueFd& write_end) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return false;
  read_end.reset(fds[0]);
  write_end.reset(fds[1]);
  return true;
}

int status_for_exec_errno(int err) {
  switch (err) {
    case ENOENT:
    case ENOTDIR:
      return 404;
    case EACCES:
    case EPERM:
    case ENOEXEC:
      return 403;
    default:
      return 500;
  }
}

// Forwards the program's stderr to the worker's error log, a line at a time.
void forward_stderr(Channel& channel, std::string& pending, const std::string& script, bool flush) {
  size_t nl;
  while ((nl = pending.find('\n')) != std::string::npos || (flush && !pending.empty())) {
    if (nl == std::string::npos) nl = pending.size();
    std::string line = pending.substr(0, std::min<size_t>(nl, 2048));
    if (!line.empty() && line.back() == '\r') line.pop_back();
    channel.log("warn", "cgi " + script + ": " + line);
    pending.erase(0, std::min(nl + 1, pending.size()));
  }
  if (pending.size() > 2048) {  // a very long line without a newline: pass it on in pieces
    channel.log("warn", "cgi " + script + ": " + pending.substr(0, 2048));
    pending.erase(0, 2048);
  }
}

void run_cgi(Channel& channel, const JobSpec& job, int body_fd, size_t body_len) {
  auto loc = locate_cgi_script(job.cgi_root, job.route_prefix, job.path);
  if (loc.status != 0) {
    channel.fail(loc.status, "no CGI program for " + job.path);
    return;
  }
  std::vector<std::string> env = job.env;
  env.push_back("SCRIPT_NAME=" + loc.script_name);
  env.push_back("PATH_INFO=" + loc.path_info);
  env.push_back("SCRIPT_FILENAME=" + loc.filename);
  env.push_back("DOCUMENT_ROOT=" + job.cgi_root);
  if (body_len > 0) env.push_back("CONTENT_LENGTH=" + std::to_string(body_len));
  std::vector<char*> envp;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::string dir = loc.filename.substr(0, loc.filename.rfind('/'));
  if (dir.empty()) dir = "/";

  UniqueFd out_read, out_write, err_read, err_write;
  if (!make_pipe(out_read, out_write) || !make_pipe(err_read, err_write)) {
    channel.fail(500, std::string("pipe2() failed: ") + std::strerror(errno));
    return;
  }
  if (body_fd >= 0) lseek(body_fd, 0, SEEK_SET);
  // Its own process group, so that its children go with it (the worker kills the group with
  // the helper); default signal dispositions and an empty mask (spawn_program).
  const ProgramSpawn spawned =
      spawn_program(loc.filename, {loc.filename}, envp.data(), [&]() -> bool {
        prctl(PR_SET_PDEATHSIG, SIGKILL);  // a killed helper takes its program along
        setpgid(0, 0);
        const int in = body_fd >= 0 ? body_fd : ::open("/dev/null", O_RDONLY);
        return in >= 0 && dup2(in, 0) == 0 && dup2(out_write.get(), 1) == 1 &&
               dup2(err_write.get(), 2) == 2 && chdir(dir.c_str()) == 0;
      });
  out_write.reset();
  err_write.reset();
  if (spawned.pid < 0) {
    if (spawned.exec_failed) {
      channel.fail(status_for_exec_errno(spawned.error),
                   "cannot run " + loc.filename + ": " + std::strerror(spawned.error));
    } else {
      channel.fail(500, std::string("fork() failed: ") + std::strerror(spawned.error));
    }
    return;
  }
  const pid_t pid = spawned.pid;
  channel.send(FrameType::kProgram, encode_fields({std::to_string(pid)}));
  const int err_fd = err_read.get();
  std::string output;   // stdout until the header block is complete
  std::string errline;  // stderr until a newline
  bool head_sent = false;
  bool invalid = false;
  pollfd fds[2] = {{out_read.release(), POLLIN, 0}, {err_read.release(), POLLIN, 0}};
  int open_fds = 2;
  char buf[64 * 1024];
  while (open_fds > 0) {
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (auto& p : fds) {
      if (p.fd < 0 || !(p.revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t n = ::read(p.fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        ::close(p.fd);
        p.fd = -1;
        --open_fds;
        continue;
      }
      std::string_view chunk(buf, static_cast<size_t>(n));
      if (p.fd == err_fd) {
        errline.append(chunk);
        forward_stderr(channel, errline, loc.script_name, false);
      } else if (head_sent) {
        channel.data(chunk);
      } else if (!invalid) {
        output.append(chunk);
        CgiHead head;
        size_t body_offset = 0;
        switch (parse_cgi_head(output, head, body_offset)) {
          case CgiHeadResult::kIncomplete:
            break;
          case CgiHeadResult::kInvalid:
            invalid = true;
            kill(-pid, SIGKILL);  // its output is useless; do not wait for it to finish
            break;
          case CgiHeadResult::kDone:
            channel.head(head.status, head.headers);
            head_sent = true;
            channel.data(std::string_view(output).substr(body_offset));
            output.clear();
            break;
        }
      }
    }
  }
  forward_stderr(channel, errline, loc.script_name, true);
  int status = 0;
  waitpid(pid, &status, 0);
  if (!head_sent) {
    std::string why = invalid ? "printed no valid CGI header block"
                      : WIFSIGNALED(status)
                          ? "was killed by signal " + std::to_string(WTERMSIG(status))
                          : "exited without a valid CGI header block";
    channel.log("error", "cgi " + loc.script_name + " " + why);
    channel.fail(502, "bad CGI output");
    return;
  }
  if (WIFSIGNALED(status)) {
    channel.log("error", "cgi " + loc.script_name + " was killed by signal " +
                             std::to_string(WTERMSIG(status)) + " while sending its body");
    channel.fail(502, "CGI program died");
    return;
  }
  channel.send(FrameType::kEnd, {});
}

}  // namespace

void helper_main(int in_fd, int out_fd) {
  Channel channel(in_fd, out_fd);
  while (true) {
    Frame frame = channel.read();
    if (frame.type != FrameType::kJobStart) _exit(3);
    auto job = decode_job(frame.payload);
    if (!job) {
      receive_body(channel, -1);
      channel.fail(500, "malformed job");
      continue;
    }
    if (job->type == JobType::kCgi) {
      // The body is spooled first so the program gets CONTENT_LENGTH even for a chunked
      // request, and a slow program never makes the worker hold the body.
      UniqueFd body(memfd_create("shoal-cgi-body", MFD_CLOEXEC));
      const int memfd_errno = errno;
      auto body_len = receive_body(channel, body.get());
      if (!body) {
        channel.fail(500, std::string("memfd_create() for the request body failed: ") +
                              std::strerror(memfd_errno));
      } else if (!body_len) {
        channel.fail(500, "cannot store the request body for the CGI program");
      } else {
        run_cgi(channel, *job, body.get(), *body_len);
      }
    } else if (job->type == JobType::kResolve) {
      receive_body(channel, -1);
      run_resolve(channel, *job);
    } else {
      receive_body(channel, -1);
      run_builtin(channel, *job);
    }
  }
}

}  // namespace shoal::helpers
