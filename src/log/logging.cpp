// Logging setup with spdlog: nginx-like error lines ("2026/11/23 08:00:00 [error] 42: ...").
#include "log/logging.hpp"

#include <fcntl.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log/append_file_sink.hpp"
#include "util/syscall.hpp"
#include "util/unique_fd.hpp"

namespace shoal {

namespace {

spdlog::level::level_enum to_spdlog(LogLevel level) {
  switch (level) {
    case LogLevel::kTrace:
      return spdlog::level::trace;
    case LogLevel::kDebug:
      return spdlog::level::debug;
    case LogLevel::kInfo:
      return spdlog::level::info;
    case LogLevel::kWarn:
      return spdlog::level::warn;
    case LogLevel::kError:
      return spdlog::level::err;
    case LogLevel::kCritical:
      return spdlog::level::critical;
    case LogLevel::kOff:
      return spdlog::level::off;
  }
  return spdlog::level::info;
}

// `kind` names the log in failure reports: the access log reports into the error log, the
// error log onto stderr (it cannot report into itself).
spdlog::sink_ptr open_sink(const std::string& path, const std::string& kind) {
  if (path == "stderr") return std::make_shared<spdlog::sinks::stderr_sink_st>();
  if (path == "stdout") return std::make_shared<spdlog::sinks::stdout_sink_st>();
  // nginx's wording of the failure, and no parent directories created (nginx creates none).
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644));
  if (!fd) throw StartupError(errno_text("open() \"" + path + "\"", errno));
  AppendFileSink::Report report;
  if (kind == "error log") {
    report = [](const std::string& text) {
      const std::string line = "shoal: " + text + "\n";
      (void)!::write(2, line.data(), line.size());
    };
  } else {
    report = [](const std::string& text) {
      if (text.find(" is written again") != std::string::npos) {
        spdlog::warn("{}", text);
      } else {
        spdlog::error("{}", text);
      }
    };
  }
  return std::make_shared<AppendFileSink>(std::move(fd), path, kind, std::move(report));
}

// %* in the pattern: the level as the config spells it ("warn", where spdlog says "warning"),
// so an operator greps for the word they configured.
class ConfigLevelName final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm& /*time*/,
              spdlog::memory_buf_t& dest) override {
    if (msg.level == spdlog::level::warn) {
      constexpr std::string_view kWarn = "warn";
      dest.append(kWarn.data(), kWarn.data() + kWarn.size());
      return;
    }
    const auto name = spdlog::level::to_string_view(msg.level);
    dest.append(name.data(), name.data() + name.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<ConfigLevelName>();
  }
};

}  // namespace

void setup_error_log(const ErrorLogConfig& config) {
  auto logger = std::make_shared<spdlog::logger>("error", open_sink(config.path, "error log"));
  auto formatter = std::make_unique<spdlog::pattern_formatter>();
  formatter->add_flag<ConfigLevelName>('*').set_pattern("%Y/%m/%d %H:%M:%S [%*] %P: %v");
  logger->set_formatter(std::move(formatter));
  logger->set_level(to_spdlog(config.level));
  logger->flush_on(spdlog::level::trace);  // an error log line must survive a crash
  spdlog::set_default_logger(std::move(logger));
}

std::shared_ptr<spdlog::logger> open_access_log(const AccessLogConfig& config) {
  if (config.path == "off") return nullptr;
  auto logger = std::make_shared<spdlog::logger>("access", open_sink(config.path, "access log"));
  logger->set_pattern("%v");
  logger->set_level(spdlog::level::info);
  logger->flush_on(spdlog::level::info);
  return logger;
}

std::string prepare_log_files_for(const LogConfig& config, std::optional<uid_t> uid,
                                  std::optional<gid_t> gid) {
  if (geteuid() != 0 || !uid) return "";
  std::string errors;
  for (const std::string& path : {config.error.path, config.access.path}) {
    if (path == "off" || path == "stderr" || path == "stdout") continue;
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644));
    struct stat st {};
    // Only a regular file is handed over: a log on /dev/full or a FIFO keeps its owner.
    if (fd && fstat(fd.get(), &st) == 0 && !S_ISREG(st.st_mode)) continue;
    if (!fd || fchown(fd.get(), *uid, gid ? *gid : static_cast<gid_t>(-1)) != 0) {
      errors += (errors.empty() ? "" : "; ") + errno_text("preparing log file " + path, errno);
    }
  }
  return errors;
}

}  // namespace shoal
