// Http2Stream: one request of an HTTP/2 connection and its response. It builds the
// protocol-free http::Request from the decoded header block, hands it to its own Exchange (the
// same routing, jobs, proxy, metrics and access log as HTTP/1.1), and is that exchange's
// Carrier: a response head becomes a HEADERS frame (nghttp2 encodes it with HPACK), the body
// DATA frames under flow control, read from memory, a cached file or a job's output as it
// arrives (a deferred data source, resumed when the job writes).
#pragma once

#include <nghttp2/nghttp2.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "exchange/exchange.hpp"
#include "http/file_cache.hpp"
#include "http/reply.hpp"
#include "http/request.hpp"

namespace shoal {

class Http2Session;

// A job's output a stream holds before the job is paused until the client took some.
inline constexpr size_t kStreamOutputHighWater = 64 * 1024;

class Http2Stream final : private exchange::Carrier {
 public:
  Http2Stream(Http2Session& session, std::int32_t id);
  Http2Stream(const Http2Stream&) = delete;
  Http2Stream& operator=(const Http2Stream&) = delete;
  ~Http2Stream();

  std::int32_t id() const { return id_; }
  // A closed stream taken again for stream `id` on the same connection: as new, with the
  // buffers it grew kept.
  void reuse(std::int32_t id);
  size_t pending_capacity() const { return pending_.capacity(); }
  // Response body bytes are waiting to be framed.
  bool has_body_to_send() const { return file_left_ > 0 || pending_.size() > pending_at_; }
  // The request's head or body is still to come from the client, and its answer waits for
  // it (a stream answered already needs nothing more from the client).
  bool awaiting_request() const { return !request_done_ && !answered_; }

  // A decoded header field of the request (pseudo-headers included, lower-case names). Past
  // http2.max_header_fields or max_header_list the request is answered 431 once complete.
  void add_field(std::string_view name, std::string_view value);
  // The header block is complete (`end_stream`: no body follows): routes the request and
  // answers it, starts its job, or waits for its body.
  void head_complete(bool end_stream);
  // Request body bytes; the flow-control window is given back once the job took them.
  void body(std::string_view data);
  // END_STREAM from the client: the request is complete.
  void request_complete();
  // nghttp2 closed the stream (answered, reset, or the connection ends): a job still running
  // is cancelled.
  void closed();
  // The DATA source: up to `length` bytes of the response body into `buffer`.
  ssize_t read_body(std::uint8_t* buffer, size_t length, std::uint32_t* flags);
  // After frames were produced: a job paused for a full buffer resumes once it drained, and
  // request body held back is given back to the window when the job took it.
  void after_send();

 private:
  // Carrier: the exchange's response.
  void job_head(exchange::JobHead head) override;
  void job_data(std::string_view data) override;
  void job_end() override;
  void job_cut() override;
  void progress() override;
  void answer(http::Reply reply) override;
  std::string_view unparsed_request() const override { return logged_; }

  // Submits a whole reply: HEADERS, and its body as DATA frames.
  void respond(http::Reply reply);
  // The answer of a request whose route is not a job: builtin, static or return.
  void answer_now();
  // Submits HEADERS for `status` and `fields`; with a body source unless `no_body`.
  void submit_head(int status, const Fields& fields, const Fields* shared,
                   std::optional<std::uint64_t> length, bool no_body);
  // The response body has more to send: nghttp2 asks the source again.
  void resume();
  // Gives `n` request body bytes back to the stream's and the connection's windows.
  void consume(size_t n);

  Http2Session& session_;
  std::int32_t id_;
  http::Request request_;
  exchange::Exchange exchange_;
  std::string authority_;  // :authority, the Host of an HTTP/2 request
  std::string logged_;     // the request as logged before its head was whole
  size_t header_bytes_ = 0;
  std::uint64_t unconsumed_ = 0;  // request body bytes a paused job has not taken yet
  // The response body: bytes in memory (a reply's or a job's output so far), or a file range.
  std::string pending_;
  size_t pending_at_ = 0;
  std::shared_ptr<const http::CachedFile> file_;
  std::uint64_t file_at_ = 0;
  std::uint64_t file_left_ = 0;
  bool too_large_ : 1 = false;     // the header block was over a limit: 431
  bool head_done_ : 1 = false;     // head_complete() ran
  bool answered_ : 1 = false;      // a response head was submitted
  bool body_end_ : 1 = false;      // no more response body will come
  bool deferred_ : 1 = false;      // the DATA source waits for bytes (nghttp2 was told so)
  bool body_dropped_ : 1 = false;  // the request body goes nowhere (answered, or no job)
  bool request_done_ : 1 = false;  // END_STREAM came: the request is whole
};

}  // namespace shoal
