// The helper pipe protocol: length-prefixed frames between a worker and one of its helpers.
//
//   frame   = type:u8 length:u32 (big-endian) payload[length]     (length <= kMaxFramePayload)
//
// worker -> helper:  JOB_START (fields, see job.hpp)  BODY (bytes)*  BODY_END
// helper -> worker:  LOG* PROGRAM?  then either  HEAD (fields) DATA (bytes)* END   or   ERROR
//                    (fields). PROGRAM (field: the pid) names the process group of a CGI
//                    program, which the worker kills with the helper at a timeout or cancel.
//
// Field payloads are NUL-terminated strings ("name\0value\0..."), so text needs no escaping.
// A helper runs one job at a time; the worker never sends JOB_START to a busy helper.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace shoal::helpers {

enum class FrameType : std::uint8_t {
  kJobStart = 1,
  kBody = 2,
  kBodyEnd = 3,
  kHead = 16,
  kData = 17,
  kEnd = 18,
  kError = 19,
  kLog = 20,
  kProgram = 21,
};

constexpr size_t kFrameHeaderSize = 5;
constexpr std::uint32_t kMaxFramePayload = 1024 * 1024;
constexpr size_t kDataChunk = 64 * 1024;  // the largest BODY/DATA payload either side sends

struct Frame {
  FrameType type = FrameType::kData;
  std::string payload;
};

// Appends one frame to `out`.
void append_frame(std::string& out, FrameType type, std::string_view payload);

// Reads the 5-byte header; nullopt for an unknown type or an oversized length.
struct FrameHeader {
  FrameType type;
  std::uint32_t length;
};
std::optional<FrameHeader> parse_frame_header(const unsigned char* header);

// Incremental decoder for a byte stream: frames may arrive split anywhere.
class FrameReader {
 public:
  enum class Status { kFrame, kNeedMore, kError };
  void append(std::string_view bytes) { buffer_.append(bytes); }
  Status next(Frame& out);
  size_t buffered() const { return buffer_.size() - pos_; }

 private:
  std::string buffer_;
  size_t pos_ = 0;
};

// NUL-terminated string lists, the payload of JOB_START, HEAD, ERROR and LOG.
std::string encode_fields(const std::vector<std::string>& fields);
// nullopt when the payload does not end in NUL (a truncated or corrupt frame).
std::optional<std::vector<std::string>> decode_fields(std::string_view payload);

}  // namespace shoal::helpers
