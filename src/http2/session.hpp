// Http2Session: HTTP/2 on one client connection, with libnghttp2's server session over the
// connection's own transport: what the transport read goes to nghttp2_session_mem_recv, and
// what nghttp2_session_mem_send produces goes to the connection's output queue, written by the
// connection as for HTTP/1.1 (no nghttp2 I/O callbacks, no bufferevents). Each stream is an
// Http2Stream with its own Exchange. The connection (Http1Session, in Phase::kHttp2) keeps the
// socket, its events and timers; this class decides what is read and sent, and when the
// connection is over. See src/DESIGN.md, "HTTP/2".
#pragma once

#include <nghttp2/nghttp2.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "exchange/exchange.hpp"
#include "http/router.hpp"
#include "http2/stream.hpp"
#include "net/output_queue.hpp"
#include "net/peer_address.hpp"
#include "net/transport.hpp"

namespace shoal {

class Http1Session;
class Http1Stream;
struct SessionContext;

// The connection preface a client sends first (RFC 9113 §3.4); h2c by prior knowledge is
// recognised by it on a plain address.
inline constexpr std::string_view kHttp2Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

class Http2Session {
 public:
  // HTTP/2 on `connection`; the client's first bytes (the preface) come through receive().
  explicit Http2Session(Http1Session& connection);
  Http2Session(const Http2Session&) = delete;
  Http2Session& operator=(const Http2Session&) = delete;
  ~Http2Session();

  // Whether a plain connection's first bytes are HTTP/2's preface: all of it, a part of it so
  // far (wait for more), or not (HTTP/1.1).
  enum class Preface { kNo, kPartial, kWhole };
  static Preface preface(std::string_view first);
  // HTTP/2 on `connection` from now on (ALPN chose h2, or the h2c preface came): the
  // connection enters Phase::kHttp2, gives its HTTP/1.1 stream back and times idleness.
  static void attach(Http1Session& connection);
  // A plain connection's first bytes, in `stream`'s input: nullopt when they are HTTP/1.1;
  // else the connection went to HTTP/2 (or waits for the rest of the preface), and the
  // result says whether it is still open.
  static std::optional<bool> take_preface(Http1Session& connection, Http1Stream& stream);

  // Bytes the client sent. False when the connection cannot go on (a connection error: the
  // GOAWAY nghttp2 queued is still sent).
  bool receive(std::string_view bytes);
  // The connection read `bytes`: received, then pumped. False when the connection closed.
  bool on_input(std::string_view bytes);
  // The connection's pump in Phase::kHttp2: frames out to the transport, the write and read
  // interest, the timers, and the close when both sides are done. False when it closed.
  bool pump_connection();
  // Frames to send, into output(), while it holds less than `high_water` bytes. False on a
  // fatal error.
  bool produce(std::uint64_t high_water);
  OutputQueue& output() { return output_; }
  // Neither side has anything more to say: the connection closes once `out` is written.
  bool finished() const;
  bool has_streams() const { return !streams_.empty(); }
  // A graceful end (reload, stop): GOAWAY with the maximum stream id at once, the last one
  // processed after a PING's round trip; the streams in flight finish.
  void drain();
  // Frees streams nghttp2 closed (never inside an nghttp2 call).
  void reap();

  // What streams use of their connection.
  SessionContext& context() const;
  const http::VirtualHosts& hosts() const;
  const PeerAddress& peer() const;
  const net::Transport& transport() const;
  const Http2Config& config() const;
  nghttp2_session* ng() const { return ng_.get(); }
  // A stream has frames to send (or the connection should look again): the connection pumps.
  void schedule();

 private:
  static int on_begin_headers(nghttp2_session* ng, const nghttp2_frame* frame, void* self);
  static int on_header(nghttp2_session* ng, const nghttp2_frame* frame, const std::uint8_t* name,
                       size_t name_length, const std::uint8_t* value, size_t value_length,
                       std::uint8_t flags, void* self);
  static int on_frame_recv(nghttp2_session* ng, const nghttp2_frame* frame, void* self);
  static int on_data_chunk(nghttp2_session* ng, std::uint8_t flags, std::int32_t stream_id,
                           const std::uint8_t* data, size_t length, void* self);
  static int on_stream_close(nghttp2_session* ng, std::int32_t stream_id, std::uint32_t error,
                             void* self);
  Http2Stream* stream(std::int32_t id) const;
  // Some stream has response body to send and no window for it (the stream's or the
  // connection's): the client is not reading.
  bool stalled() const;
  // Some stream's request is not whole yet (its head or body is still to come).
  bool awaiting_request() const;

  struct Deleter {
    void operator()(nghttp2_session* ng) const { nghttp2_session_del(ng); }
  };
  Http1Session& connection_;
  std::unique_ptr<nghttp2_session, Deleter> ng_;
  std::map<std::int32_t, std::unique_ptr<Http2Stream>> streams_;
  std::vector<std::unique_ptr<Http2Stream>> closed_;  // freed by reap()
  std::vector<std::unique_ptr<Http2Stream>> spares_;  // closed ones, for the next streams
  OutputQueue output_;                                // frames for the connection to write
  bool draining_ = false;      // the first GOAWAY is out; the final one follows the PING
  bool final_goaway_ = false;  // the last stream id is sent: no new stream
  bool failed_ = false;        // a connection error: nothing more is read
  bool in_call_ = false;       // inside nghttp2_session_mem_recv or mem_send
  bool again_ = false;         // a stream scheduled output during one of those
};

}  // namespace shoal
