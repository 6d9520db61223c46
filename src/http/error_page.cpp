// Built-in HTML pages for error and redirect statuses.
#include <string>

#include "http/reply.hpp"
#include "http/status.hpp"

namespace shoal::http {

void Reply::set_body(std::string text, std::string content_type) {
  body = std::move(text);
  content_length = body.size();
  headers.emplace_back("Content-Type", std::move(content_type));
}

Reply error_reply(int status) {
  Reply reply;
  reply.status = status;
  if (status_forbids_body(status)) return reply;
  std::string title = std::to_string(status) + " " + std::string(reason_phrase(status));
  reply.set_body("<!DOCTYPE html>\n<html><head><title>" + title + "</title></head>\n<body><h1>" +
                     title + "</h1><hr><p>shoal</p></body></html>\n",
                 "text/html");
  return reply;
}

}  // namespace shoal::http
