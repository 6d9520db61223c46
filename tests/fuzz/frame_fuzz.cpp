// Fuzz target: bytes on a helper pipe (frames, field lists, job specs) and bytes a CGI program
// prints (its header block). Decoders must reject or accept, never read out of bounds.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "helpers/cgi.hpp"
#include "helpers/frame.hpp"
#include "helpers/job.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  shoal::helpers::FrameReader reader;
  const size_t step = size == 0 ? 1 : 1 + data[0] % 32;
  for (size_t i = 0; i < bytes.size(); i += step) {
    reader.append(bytes.substr(i, step));
    shoal::helpers::Frame frame;
    shoal::helpers::FrameReader::Status status;
    while ((status = reader.next(frame)) == shoal::helpers::FrameReader::Status::kFrame) {
      if (frame.payload.size() > shoal::helpers::kMaxFramePayload) std::abort();
      shoal::helpers::decode_fields(frame.payload);
      if (auto job = shoal::helpers::decode_job(frame.payload)) {
        // What decodes must encode back to something that decodes the same way.
        auto again = shoal::helpers::decode_job(shoal::helpers::encode_job(*job));
        if (!again || again->env != job->env || again->path != job->path) std::abort();
      }
    }
    if (status == shoal::helpers::FrameReader::Status::kError) break;
  }
  shoal::helpers::CgiHead head;
  size_t body_offset = 0;
  if (shoal::helpers::parse_cgi_head(bytes, head, body_offset) ==
      shoal::helpers::CgiHeadResult::kDone) {
    if (body_offset > size || head.status < 100 || head.status > 599) std::abort();
  }
  return 0;
}
