// The upgrade state's text form: simple words, so a bad value is rejected with its line.
#include "master/upgrade_state.hpp"

#include <charconv>
#include <sstream>

namespace shoal {

namespace {

std::vector<std::string_view> words_of(std::string_view line) {
  std::vector<std::string_view> words;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && line[i] == ' ') ++i;
    size_t start = i;
    while (i < line.size() && line[i] != ' ') ++i;
    if (i > start) words.push_back(line.substr(start, i - start));
  }
  return words;
}

template <typename T>
bool number(std::string_view word, T& out) {
  auto [end, ec] = std::from_chars(word.data(), word.data() + word.size(), out);
  return ec == std::errc() && end == word.data() + word.size();
}

bool fd_number(std::string_view word, int& fd) { return number(word, fd) && fd >= 0; }

}  // namespace

std::string encode_upgrade_state(const UpgradeState& state) {
  std::ostringstream out;
  out << "generation " << state.generation << "\n";
  out << "active " << state.active << "\n";
  for (const auto& l : state.listeners) {
    out << "listen " << l.address;
    for (int fd : l.fds) out << " " << fd;
    out << "\n";
  }
  if (state.control_fd >= 0) out << "control " << state.control_fd << "\n";
  for (int fd : state.reply_fds) out << "reply " << fd << "\n";
  for (const auto& w : state.workers) {
    out << "worker " << w.generation << " " << w.slot << " " << w.pid << " " << w.channel_fd
        << "\n";
  }
  auto one_line = [](std::string text) {
    for (char& c : text) {
      if (c == '\n' || c == '\r') c = ' ';
    }
    return text;
  };
  if (!state.config_path.empty()) out << "config " << one_line(state.config_path) << "\n";
  if (state.fallback_fd >= 0) out << "fallback " << state.fallback_fd << "\n";
  if (state.tickets_fd >= 0) out << "tickets " << state.tickets_fd << "\n";
  if (state.metrics_fd >= 0) out << "metrics " << state.metrics_fd << "\n";
  if (!state.failed.empty()) out << "failed " << one_line(state.failed) << "\n";
  return out.str();
}

std::optional<UpgradeState> decode_upgrade_state(std::string_view text, std::string& error) {
  UpgradeState state;
  bool have_generation = false;
  int line_number = 0;
  while (!text.empty()) {
    size_t eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text = eol == std::string_view::npos ? std::string_view() : text.substr(eol + 1);
    ++line_number;
    auto w = words_of(line);
    if (w.empty()) continue;
    bool ok = false;
    if (w[0] == "generation" && w.size() == 2) {
      ok = number(w[1], state.generation) && state.generation >= 0;
      have_generation = ok;
    } else if (w[0] == "active" && w.size() == 2) {
      ok = number(w[1], state.active) && state.active >= 0;
    } else if (w[0] == "listen" && w.size() >= 3) {
      UpgradeState::Listen l{std::string(w[1]), {}};
      ok = true;
      for (size_t i = 2; i < w.size() && ok; ++i) {
        int fd = -1;
        ok = fd_number(w[i], fd);
        l.fds.push_back(fd);
      }
      state.listeners.push_back(std::move(l));
    } else if (w[0] == "control" && w.size() == 2) {
      ok = fd_number(w[1], state.control_fd);
    } else if (w[0] == "reply" && w.size() == 2) {
      int fd = -1;
      ok = fd_number(w[1], fd);
      state.reply_fds.push_back(fd);
    } else if ((w[0] == "config" || w[0] == "failed") && w.size() >= 2) {
      // The rest of the line, spaces included.
      std::string_view rest = line.substr(line.find(w[0]) + w[0].size() + 1);
      (w[0] == "config" ? state.config_path : state.failed) = std::string(rest);
      ok = true;
    } else if (w[0] == "fallback" && w.size() == 2) {
      ok = fd_number(w[1], state.fallback_fd);
    } else if (w[0] == "tickets" && w.size() == 2) {
      ok = fd_number(w[1], state.tickets_fd);
    } else if (w[0] == "metrics" && w.size() == 2) {
      ok = fd_number(w[1], state.metrics_fd);
    } else if (w[0] == "worker" && w.size() == 5) {
      UpgradeState::Worker worker;
      ok = number(w[1], worker.generation) && number(w[2], worker.slot) &&
           number(w[3], worker.pid) && worker.pid > 0 && fd_number(w[4], worker.channel_fd);
      state.workers.push_back(worker);
    }
    if (!ok) {
      error = "line " + std::to_string(line_number) + ": cannot read \"" + std::string(line) + "\"";
      return std::nullopt;
    }
  }
  if (!have_generation) {
    error = "no generation line";
    return std::nullopt;
  }
  return state;
}

std::vector<int> upgrade_state_fds(const UpgradeState& state) {
  std::vector<int> fds;
  for (const auto& l : state.listeners) fds.insert(fds.end(), l.fds.begin(), l.fds.end());
  if (state.control_fd >= 0) fds.push_back(state.control_fd);
  fds.insert(fds.end(), state.reply_fds.begin(), state.reply_fds.end());
  for (const auto& w : state.workers) fds.push_back(w.channel_fd);
  if (state.fallback_fd >= 0) fds.push_back(state.fallback_fd);
  if (state.tickets_fd >= 0) fds.push_back(state.tickets_fd);
  if (state.metrics_fd >= 0) fds.push_back(state.metrics_fd);
  return fds;
}

}  // namespace shoal
