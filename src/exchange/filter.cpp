// FilterChain: a response's body through its filters, in order.
#include "exchange/filter.hpp"

#include <utility>

#include "http/status.hpp"

namespace shoal::exchange {

// The sink of filter i: the data of filter i + 1, or the chain's output after the last.
class FilterChain::Stage final : public FilterSink {
 public:
  Stage(FilterChain& chain, size_t next, FilterSink& out) : chain_(chain), next_(next), out_(out) {}
  void write(std::string_view bytes) override {
    if (bytes.empty()) return;
    if (next_ == chain_.filters_.size()) {
      out_.write(bytes);
      return;
    }
    Stage after(chain_, next_ + 1, out_);
    chain_.filters_[next_]->data(bytes, after);
  }

 private:
  FilterChain& chain_;
  size_t next_;
  FilterSink& out_;
};

void FilterChain::engage(const std::vector<FilterFactory*>& factories, const http::Request& request,
                         JobHead& head) {
  filters_.clear();
  if (head.discard_body || head.tunnel) return;
  for (auto* factory : factories) {
    if (auto filter = factory->engage(request, head)) filters_.push_back(std::move(filter));
  }
}

void FilterChain::data(std::string_view bytes, FilterSink& out) {
  Stage(*this, 0, out).write(bytes);
}

void FilterChain::end(FilterSink& out) {
  for (size_t i = 0; i < filters_.size(); ++i) {
    Stage after(*this, i + 1, out);
    filters_[i]->end(after);
  }
}

void FilterChain::filter_reply(const std::vector<FilterFactory*>& factories,
                               const http::Request& request, http::Reply& reply) {
  if (factories.empty() || reply.file || !reply.send_body ||
      http::status_forbids_body(reply.status)) {
    return;
  }
  JobHead head;
  head.status = reply.status;
  head.fields = reply.headers;
  if (reply.shared_fields) {
    head.fields.insert(head.fields.end(), reply.shared_fields->begin(), reply.shared_fields->end());
  }
  head.length = reply.content_length;
  FilterChain chain;
  chain.engage(factories, request, head);
  if (chain.empty()) return;
  struct Collect final : FilterSink {
    std::string body;
    void write(std::string_view bytes) override { body.append(bytes); }
  } collect;
  chain.data(reply.fixed_body.empty() ? std::string_view(reply.body) : reply.fixed_body, collect);
  chain.end(collect);
  reply.headers = std::move(head.fields);
  reply.shared_fields = nullptr;
  reply.body = std::move(collect.body);
  reply.fixed_body = {};
  reply.content_length = reply.body.size();
  reply.length_known = true;
}

}  // namespace shoal::exchange
