// The helper pipe protocol: frames, split reads, corrupt input, field lists and job specs.
#include "helpers/frame.hpp"

#include <gtest/gtest.h>

#include "helpers/job.hpp"

namespace shoal::helpers {
namespace {

std::string two_frames() {
  std::string wire;
  append_frame(wire, FrameType::kHead, encode_fields({"200", "Content-Type", "text/plain"}));
  append_frame(wire, FrameType::kData, std::string(70000, 'x'));
  append_frame(wire, FrameType::kEnd, {});
  return wire;
}

TEST(Frame, HeaderIsTypeAndBigEndianLength) {
  std::string wire;
  append_frame(wire, FrameType::kData, "abc");
  ASSERT_EQ(wire.size(), 8u);
  EXPECT_EQ(wire.substr(0, 5), std::string("\x11\x00\x00\x00\x03", 5));
  EXPECT_EQ(wire.substr(5), "abc");
}

TEST(Frame, ReaderReassemblesFramesSplitAnywhere) {
  const auto wire = two_frames();
  for (size_t step : {1u, 2u, 3u, 5u, 7u, 4096u, 100000u}) {
    FrameReader reader;
    std::vector<Frame> frames;
    for (size_t i = 0; i < wire.size(); i += step) {
      reader.append(std::string_view(wire).substr(i, step));
      Frame f;
      FrameReader::Status st;
      while ((st = reader.next(f)) == FrameReader::Status::kFrame) frames.push_back(f);
      ASSERT_NE(st, FrameReader::Status::kError);
    }
    ASSERT_EQ(frames.size(), 3u) << step;
    EXPECT_EQ(frames[0].type, FrameType::kHead);
    EXPECT_EQ(frames[1].payload, std::string(70000, 'x'));
    EXPECT_EQ(frames[2].type, FrameType::kEnd);
    EXPECT_EQ(frames[2].payload, "");
    EXPECT_EQ(reader.buffered(), 0u);
  }
}

TEST(Frame, UnknownTypesAndOversizedFramesAreErrors) {
  FrameReader unknown;
  unknown.append(std::string("\x63\x00\x00\x00\x00", 5));
  Frame f;
  EXPECT_EQ(unknown.next(f), FrameReader::Status::kError);
  FrameReader huge;
  huge.append(std::string("\x11\x7f\x00\x00\x00", 5));
  EXPECT_EQ(huge.next(f), FrameReader::Status::kError);
  FrameReader partial;
  partial.append(std::string("\x11\x00\x00", 3));
  EXPECT_EQ(partial.next(f), FrameReader::Status::kNeedMore);
}

TEST(Frame, FieldsRoundTripIncludingEmptyOnes) {
  std::vector<std::string> fields{"a", "", "with space", "x=y"};
  EXPECT_EQ(decode_fields(encode_fields(fields)), fields);
  EXPECT_EQ(decode_fields(""), std::vector<std::string>{});
  EXPECT_FALSE(decode_fields(std::string("a\0b", 3)));  // not NUL-terminated
}

TEST(Job, SpecRoundTrips) {
  JobSpec spec;
  spec.type = JobType::kCgi;
  spec.duration = std::chrono::milliseconds(42);
  spec.cgi_root = "/srv/cgi";
  spec.route_prefix = "/cgi-bin/";
  spec.path = "/cgi-bin/a.sh/x";
  spec.env = {"REQUEST_METHOD=GET", "QUERY_STRING=a=b&c"};
  auto back = decode_job(encode_job(spec));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->type, JobType::kCgi);
  EXPECT_EQ(back->duration.count(), 42);
  EXPECT_EQ(back->cgi_root, spec.cgi_root);
  EXPECT_EQ(back->route_prefix, spec.route_prefix);
  EXPECT_EQ(back->path, spec.path);
  EXPECT_EQ(back->env, spec.env);
}

TEST(Job, MalformedSpecsAreRejected) {
  EXPECT_FALSE(decode_job(encode_fields({"type", "rm-rf"})));
  EXPECT_FALSE(decode_job(encode_fields({"ms", "10"})));  // no type
  EXPECT_FALSE(decode_job(encode_fields({"type", "burn", "ms", "-1"})));
  EXPECT_FALSE(decode_job(encode_fields({"type", "burn", "odd"})));
  EXPECT_FALSE(decode_job(encode_fields({"type", "burn", "what", "x"})));
}

}  // namespace
}  // namespace shoal::helpers
