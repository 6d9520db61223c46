// The configuration schema against its documentation and its dump: every key the loader
// accepts is described in shoal.yaml(5), and `shoal -T` output loads back to itself.
#include "config/schema.hpp"

#include <gtest/gtest.h>
#include <pwd.h>

#include <algorithm>
#include <fstream>
#include <regex>
#include <sstream>

#include "config/dump.hpp"
#include "config/loader.hpp"

namespace shoal {
namespace {

std::string read_all(const std::string& path) {
  std::ifstream in(path);
  std::stringstream out;
  out << in.rdbuf();
  return out.str();
}

TEST(SchemaTest, TheManualDescribesEveryKeyTheLoaderAccepts) {
  std::istringstream page(read_all(SHOAL_SOURCE_DIR "/man/shoal.yaml.5"));
  std::vector<std::string> terms;  // the .B, .BR and .BI lines: where keys are introduced
  for (std::string line; std::getline(page, line);) {
    if (line.rfind(".B ", 0) == 0 || line.rfind(".BR ", 0) == 0 || line.rfind(".BI ", 0) == 0) {
      terms.push_back(line);
    }
  }
  ASSERT_FALSE(terms.empty());
  for (const auto& section : schema::kSections) {
    for (auto key : section.keys) {
      // The key as a whole word, e.g. ".BR max_body_bytes (size" or
      // ".B return: { status, body, location, content_type }".
      const std::regex word("(^|[^a-z_])" + std::string(key) + "([^a-z_]|$)");
      const bool described = std::any_of(terms.begin(), terms.end(), [&](const std::string& t) {
        return std::regex_search(t.substr(t.find(' ')), word);
      });
      EXPECT_TRUE(described) << "shoal.yaml(5) does not describe \"" << key << "\" of "
                             << section.where;
    }
  }
}

// Issue 28: a plain key is one row of fields.hpp, which loads it, checks it and prints it;
// each row has its line, and -T writes the line beside the key.
template <typename S, size_t N>
void expect_documented_and_dumped(const fields::Field<S> (&table)[N], const std::string& dump) {
  for (const auto& f : table) {
    EXPECT_FALSE(f.doc.empty()) << f.key;
    if (f.omit_zero) continue;
    EXPECT_NE(dump.find(std::string(f.key) + ": "), std::string::npos) << f.key;
    EXPECT_NE(dump.find("# " + std::string(f.doc)), std::string::npos) << f.key;
  }
}

TEST(SchemaTest, EveryPlainKeyHasItsLineAndDumpShowsIt) {
  const auto config = load_config_from_string(
      "upstreams:\n"
      "  app: { servers: [\"127.0.0.1:9000\"], health: { path: /h } }\n"
      "servers:\n"
      "  - listen: 127.0.0.1:8080\n"
      "    routes:\n"
      "      - match: /\n"
      "        proxy: { upstream: app }\n",
      "/etc/shoal/t.yaml");
  const auto dump = dump_config(config);
  expect_documented_and_dumped(fields::kTopLevel, dump);
  expect_documented_and_dumped(fields::kLimits, dump);
  expect_documented_and_dumped(fields::kHelpers, dump);
  expect_documented_and_dumped(fields::kUpstream, dump);
  expect_documented_and_dumped(fields::kHealth, dump);
  // And a bound in a row is the loader's: one past it is refused with the row's words.
  EXPECT_THROW(load_config_from_string("limits: { max_header_bytes: 2m }\n", "/x.yaml"),
               ConfigErrors);
}

TEST(SchemaTest, EveryTopLevelKeyIsAcceptedByTheLoader) {
  // The schema is what the loader checks against: a document using every top-level key once
  // produces no "unknown key" error (other errors, e.g. missing servers, are fine here).
  std::string yaml;
  for (auto key : schema::kTopLevel) yaml += std::string(key) + ": ~\n";
  try {
    load_config_from_string(yaml, "/tmp/x.yaml");
  } catch (const ConfigErrors& e) {
    for (const auto& error : e.errors()) {
      EXPECT_EQ(error.message.find("unknown key"), std::string::npos) << error.to_string();
    }
  }
}

TEST(SchemaTest, TheManualsExampleIsAValidConfiguration) {
  if (!getpwnam("www-data")) GTEST_SKIP() << "the example runs workers as www-data";
  const std::string page = read_all(SHOAL_SOURCE_DIR "/man/shoal.yaml.5");
  const auto section = page.find(".SH EXAMPLE");
  ASSERT_NE(section, std::string::npos);
  const auto begin = page.find(".nf\n", section) + 4;
  const auto end = page.find(".fi\n", begin);
  std::string yaml = page.substr(begin, end - begin);
  // Undo roff escapes, and point the example's directories at ones that exist here.
  for (const auto& [from, to] : std::vector<std::pair<std::string, std::string>>{
           {"\\-", "-"},
           {"\\en", "\\n"},
           {"/srv/www", SHOAL_SOURCE_DIR "/conf/www"},
           {"/srv/cgi-bin", SHOAL_SOURCE_DIR "/conf/cgi-bin"}}) {
    for (size_t at = yaml.find(from); at != std::string::npos;
         at = yaml.find(from, at + to.size())) {
      yaml.replace(at, from.size(), to);
    }
  }
  EXPECT_NO_THROW({
    try {
      load_config_from_string(yaml, SHOAL_SOURCE_DIR "/conf/example.yaml");
    } catch (const ConfigErrors& e) {
      for (const auto& error : e.errors()) ADD_FAILURE() << error.to_string() << "\n" << yaml;
      throw;
    }
  });
}

TEST(DumpTest, TheEffectiveConfigLoadsBackToItself) {
  const std::string path = SHOAL_SOURCE_DIR "/conf/shoal.yaml";
  const Config config = load_config(path);
  const std::string dumped = dump_config(config);
  EXPECT_NE(dumped.find("max_body_bytes: 1048576"), std::string::npos) << dumped;
  EXPECT_NE(dumped.find("send_timeout: 60s"), std::string::npos) << dumped;  // a default
  EXPECT_NE(dumped.find("workers: auto  # "), std::string::npos) << dumped;
  EXPECT_NE(dumped.find("root: " SHOAL_SOURCE_DIR "/conf/www"), std::string::npos) << dumped;
  const Config again = load_config_from_string(dumped, path);
  EXPECT_EQ(dump_config(again), dumped);
}

TEST(DumpTest, EveryKindOfValueRoundTrips) {
  const std::string yaml =
      "workers: 3\n"
      "user: root\n"
      "group: root\n"
      "pid_file: /run/x.pid\n"
      "shutdown_timeout: 1500ms\n"
      "reuse_port: true\n"
      "default_type: text/plain\n"
      "log: { error: { path: /var/log/e.log, level: debug }, access: { path: stdout, format: "
      "common } }\n"
      "helpers: { count: 0, sched_idle: true }\n"
      "servers:\n"
      "  - listen: ['[::1]:8080', 9090]\n"
      "    server_names: ['*.example.com', Example.org]\n"
      "    routes:\n"
      "      - match: /r\n"
      "        return: { status: 302, location: /x, body: \"a \\\"quoted\\\"\\n\", content_type: "
      "text/html }\n"
      "      - match: /\n"
      "        static: { root: /tmp, index: [a.html, b.html] }\n";
  const Config config = load_config_from_string(yaml, "/tmp/round.yaml");
  const std::string dumped = dump_config(config);
  EXPECT_NE(dumped.find("workers: 3"), std::string::npos) << dumped;
  EXPECT_EQ(dumped.find("auto"), std::string::npos) << dumped;
  EXPECT_NE(dumped.find("0.0.0.0:9090"), std::string::npos) << dumped;
  EXPECT_NE(dumped.find("example.org"), std::string::npos) << dumped;
  EXPECT_EQ(dump_config(load_config_from_string(dumped, "/tmp/round.yaml")), dumped);
}

}  // namespace
}  // namespace shoal
