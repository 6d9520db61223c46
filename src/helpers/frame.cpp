// Frame encoding and incremental decoding for the helper pipes.
#include "helpers/frame.hpp"

namespace shoal::helpers {

namespace {

bool known_type(std::uint8_t t) {
  switch (static_cast<FrameType>(t)) {
    case FrameType::kJobStart:
    case FrameType::kBody:
    case FrameType::kBodyEnd:
    case FrameType::kHead:
    case FrameType::kData:
    case FrameType::kEnd:
    case FrameType::kError:
    case FrameType::kLog:
    case FrameType::kProgram:
      return true;
  }
  return false;
}

}  // namespace

void append_frame(std::string& out, FrameType type, std::string_view payload) {
  const auto n = static_cast<std::uint32_t>(payload.size());
  out.push_back(static_cast<char>(type));
  out.push_back(static_cast<char>((n >> 24) & 0xff));
  out.push_back(static_cast<char>((n >> 16) & 0xff));
  out.push_back(static_cast<char>((n >> 8) & 0xff));
  out.push_back(static_cast<char>(n & 0xff));
  out.append(payload);
}

std::optional<FrameHeader> parse_frame_header(const unsigned char* h) {
  if (!known_type(h[0])) return std::nullopt;
  const std::uint32_t length = (std::uint32_t{h[1]} << 24) | (std::uint32_t{h[2]} << 16) |
                               (std::uint32_t{h[3]} << 8) | std::uint32_t{h[4]};
  if (length > kMaxFramePayload) return std::nullopt;
  return FrameHeader{static_cast<FrameType>(h[0]), length};
}

FrameReader::Status FrameReader::next(Frame& out) {
  if (buffered() < kFrameHeaderSize) return Status::kNeedMore;
  auto header = parse_frame_header(reinterpret_cast<const unsigned char*>(buffer_.data() + pos_));
  if (!header) return Status::kError;
  if (buffered() < kFrameHeaderSize + header->length) return Status::kNeedMore;
  out.type = header->type;
  out.payload.assign(buffer_, pos_ + kFrameHeaderSize, header->length);
  pos_ += kFrameHeaderSize + header->length;
  if (pos_ == buffer_.size()) {
    buffer_.clear();
    pos_ = 0;
  } else if (pos_ > 64 * 1024) {
    buffer_.erase(0, pos_);  // keep the buffer from growing without bound
    pos_ = 0;
  }
  return Status::kFrame;
}

std::string encode_fields(const std::vector<std::string>& fields) {
  std::string out;
  for (const auto& f : fields) {
    out += f;
    out.push_back('\0');
  }
  return out;
}

std::optional<std::vector<std::string>> decode_fields(std::string_view payload) {
  std::vector<std::string> out;
  if (payload.empty()) return out;
  if (payload.back() != '\0') return std::nullopt;
  while (!payload.empty()) {
    auto nul = payload.find('\0');
    out.emplace_back(payload.substr(0, nul));
    payload.remove_prefix(nul + 1);
  }
  return out;
}

}  // namespace shoal::helpers
