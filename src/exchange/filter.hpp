// Response filters: what stands between an exchange's response and the session that encodes
// it (nginx's body filters, h2o's ostream filters). A filter sees the head first and may
// rewrite its fields and length; then the body passes through it in order. A response whose
// body is a file range, a tunnel or a response without a body is never filtered. The chain is
// empty until a filter is configured (compression is the first, issue 32), and then costs
// nothing for a response no filter engages for.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "exchange/job_head.hpp"
#include "http/reply.hpp"
#include "http/request.hpp"

namespace shoal::exchange {

// Where a filter's output goes: the next filter, or the session.
class FilterSink {
 public:
  virtual void write(std::string_view bytes) = 0;

 protected:
  ~FilterSink() = default;
};

// One response's filter, made by its FilterFactory when it engages.
class ResponseFilter {
 public:
  virtual ~ResponseFilter() = default;
  // Body bytes in order; what the filter makes of them goes to `next`, now or later.
  virtual void data(std::string_view bytes, FilterSink& next) = 0;
  // The body is complete: what the filter still holds goes to `next`.
  virtual void end(FilterSink& next) = 0;
};

// One kind of filter, for every response of a worker: decides whether it engages.
class FilterFactory {
 public:
  virtual ~FilterFactory() = default;
  // A filter for this response's body, the head's fields and length rewritten for the
  // filtered body (a length that changes is dropped); null when it does not apply, the head
  // untouched.
  virtual std::unique_ptr<ResponseFilter> engage(const http::Request& request, JobHead& head) = 0;
};

// The filters engaged for one response, in order.
class FilterChain {
 public:
  // Engages each of `factories`, in order, that applies to a response with `head`. Body-less
  // and tunnel heads are never offered.
  void engage(const std::vector<FilterFactory*>& factories, const http::Request& request,
              JobHead& head);
  bool empty() const { return filters_.empty(); }
  // Passes body bytes through each filter; `out` gets what the last one produced.
  void data(std::string_view bytes, FilterSink& out);
  // Ends each filter in order (what one still held passes through those after it).
  void end(FilterSink& out);
  void clear() { filters_.clear(); }

  // A whole reply with its body in memory, filtered at once: its fields, body and length
  // rewritten. A reply with a file body, without a body, or that no filter engages for is
  // left as it is.
  static void filter_reply(const std::vector<FilterFactory*>& factories,
                           const http::Request& request, http::Reply& reply);

 private:
  class Stage;
  std::vector<std::unique_ptr<ResponseFilter>> filters_;
};

}  // namespace shoal::exchange
