// Http1Session and its Http1Stream over a socketpair on a private event loop: no worker, no
// listener, no processes. What the client end reads is exactly what the session wrote.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <set>
#include <sstream>
#include <string>

#include "http1/session.hpp"
#include "util/unique_fd.hpp"

namespace shoal {
namespace {

class Http1SessionTest : public ::testing::Test {
 protected:
  Http1SessionTest() {
    server_.server_names = {"example.org"};
    Route hello;
    hello.match = "/";
    ReturnAction ret;
    ret.body = "hello\n";
    ret.fields = {{"Content-Type", "text/plain"}};
    hello.action = ret;
    server_.routes.push_back(hello);
    hosts_.add(&server_);

    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(log_);
    auto logger = std::make_shared<spdlog::logger>("session-test", sink);
    logger->set_pattern("%v");
    access_ = std::make_unique<AccessLog>(logger, AccessLogFormat::kCommon);
    logger_ = logger;

    context_.base = base_.get();
    context_.limits = &limits_;
    context_.mime = &mime_;
    context_.dates = &dates_;
    context_.files = &files_;
    scratch_.resize(64 * 1024);
    context_.scratch = &scratch_;
    context_.access_log = access_.get();
    context_.log_limiter = &limiter_;
    context_.metrics = &recorder_;
    context_.timers = &timers_;
    context_.streams = &streams_;
    context_.events = &events_;
    context_.park = &park_;
    context_.on_closed = [this](Http1Session* session) {
      ++closed_;
      open_.erase(session);
      delete session;
    };
  }
  // Sessions still open go before the loop, the slab and the park they use.
  ~Http1SessionTest() override {
    for (auto* session : open_) delete session;
  }

  // A session on one end of a socketpair; the test is the client on the other.
  Http1Session* open_session() {
    int fds[2];
    EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0);
    client_.reset(fds[1]);
    sockaddr_in peer{};
    peer.sin_family = AF_INET;
    auto* session = new Http1Session(context_, hosts_, fds[0],
                                     PeerAddress(reinterpret_cast<const sockaddr*>(&peer)));
    open_.insert(session);
    return session;
  }
  void send(std::string_view bytes) {
    ASSERT_EQ(::write(client_.get(), bytes.data(), bytes.size()),
              static_cast<ssize_t>(bytes.size()));
  }
  // Runs the loop until nothing is left to do now, then reads what the session wrote. `eof`
  // says whether the session closed its end.
  std::string receive(bool* eof = nullptr) {
    event_base_loop(base_.get(), EVLOOP_NONBLOCK);
    std::string got;
    char buffer[4096];
    while (true) {
      const ssize_t n = ::read(client_.get(), buffer, sizeof buffer);
      if (n > 0) {
        got.append(buffer, static_cast<size_t>(n));
        continue;
      }
      if (eof) *eof = n == 0;
      break;
    }
    return got;
  }
  static size_t count(const std::string& text, std::string_view what) {
    size_t n = 0;
    for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
  }

  std::unique_ptr<event_base, decltype(&event_base_free)> base_{event_base_new(), &event_base_free};
  ServerConfig server_;
  http::VirtualHosts hosts_;
  Limits limits_;
  http::MimeTypes mime_;
  http::DateCache dates_;
  http::FileCache files_;
  std::string scratch_;
  std::ostringstream log_;
  std::shared_ptr<spdlog::logger> logger_;
  std::unique_ptr<AccessLog> access_;
  RepeatLimiter limiter_;
  metrics::Recorder recorder_;  // off
  SessionContext context_;
  Http2Config http2_;
  ConnectionTimers timers_{
      base_.get(), connection_timeouts(limits_, http2_),
      [](DeadlineNode* node) { static_cast<Http1Session*>(node)->on_timeout(); }};
  Http1StreamPool streams_{limits_, context_, 4};
  EventSlab events_{64};
  IdlePark park_{base_.get(), &Http1Session::on_unparked};
  std::set<Http1Session*> open_;
  UniqueFd client_;
  int closed_ = 0;
};

TEST_F(Http1SessionTest, PipelinedRequestsAreAnsweredInOrderOnOneConnection) {
  auto* session = open_session();
  send("GET /a HTTP/1.1\r\nHost: example.org\r\n\r\nGET /b HTTP/1.1\r\nHost: example.org\r\n\r\n");
  session->start();  // reads at once: both requests are there
  bool eof = true;
  const auto got = receive(&eof);
  EXPECT_EQ(count(got, "HTTP/1.1 200 OK\r\n"), 2u) << got;
  EXPECT_EQ(count(got, "\r\n\r\nhello\n"), 2u) << got;
  EXPECT_FALSE(eof);
  EXPECT_EQ(closed_, 0);
  logger_->flush();
  const auto log = log_.str();
  EXPECT_LT(log.find("\"GET /a HTTP/1.1\" 200 6"), log.find("\"GET /b HTTP/1.1\" 200 6")) << log;
  // A request that arrives later, on the idle connection, is read when the loop sees it.
  send("GET /c HTTP/1.0\r\n\r\n");
  const auto later = receive(&eof);
  EXPECT_EQ(later.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << later;
  EXPECT_NE(later.find("Connection: close\r\n"), std::string::npos) << later;
  EXPECT_TRUE(eof);  // HTTP/1.0 without keep-alive: closed after the answer
  EXPECT_EQ(closed_, 1);
}

TEST_F(Http1SessionTest, ARequestSplitAcrossReadsIsParsedWhenItsHeadIsWhole) {
  auto* session = open_session();
  session->start();
  send("GET / HTTP/1.1\r\nHo");
  EXPECT_EQ(receive(), "");
  send("st: example.org\r\n\r\n");
  const auto got = receive();
  EXPECT_EQ(got.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << got;
  EXPECT_EQ(closed_, 0);
}

TEST_F(Http1SessionTest, ExpectContinueIsAnsweredBeforeTheBodyAndAnUnknownExpectationIs417) {
  open_session()->start();
  send("POST / HTTP/1.1\r\nHost: example.org\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n");
  EXPECT_EQ(receive(), "HTTP/1.1 100 Continue\r\n\r\n");
  send("abc");
  const auto got = receive();
  EXPECT_EQ(got.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << got;
  send("POST / HTTP/1.1\r\nHost: example.org\r\nContent-Length: 3\r\nExpect: a-miracle\r\n\r\n");
  bool eof = false;
  const auto refused = receive(&eof);
  EXPECT_EQ(refused.rfind("HTTP/1.1 417 ", 0), 0u) << refused;
  EXPECT_NE(refused.find("Connection: close\r\n"), std::string::npos) << refused;
}

TEST_F(Http1SessionTest, ABadRequestIs400AndTheConnectionCloses) {
  auto* session = open_session();
  send("GET / HTTP/1.1\r\nHost: example.org\r\nBad Header: x\r\n\r\n");
  session->start();
  bool eof = false;
  const auto got = receive(&eof);
  EXPECT_EQ(got.rfind("HTTP/1.1 400 Bad Request\r\n", 0), 0u) << got;
  EXPECT_TRUE(eof);  // its side is shut
  // It lingers, reading and dropping what the client may still send, until the client goes.
  EXPECT_EQ(closed_, 0);
  send("more of what the client was sending");
  receive();
  EXPECT_EQ(closed_, 0);
  client_.reset();
  event_base_loop(base_.get(), EVLOOP_NONBLOCK);
  EXPECT_EQ(closed_, 1);
  logger_->flush();
  // Its head never completed: the log shows what arrived.
  EXPECT_NE(log_.str().find("\"GET / HTTP/1.1\" 400 "), std::string::npos) << log_.str();
}

TEST_F(Http1SessionTest, AClientThatLeavesClosesTheSessionAndAnIdleOneGivesItsStreamBack) {
  open_session()->start();
  send("GET / HTTP/1.1\r\nHost: example.org\r\n\r\n");
  receive();
  // Idle: the stream went back to the pool, so the next session takes that one.
  auto spare = streams_.take();
  ASSERT_TRUE(spare);
  EXPECT_FALSE(spare->parser.in_message());
  streams_.give(std::move(spare));
  client_.reset();
  event_base_loop(base_.get(), EVLOOP_NONBLOCK);
  EXPECT_EQ(closed_, 1);
}

}  // namespace
}  // namespace shoal
