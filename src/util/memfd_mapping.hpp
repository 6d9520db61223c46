// MemfdMapping: a memfd of a fixed size mapped shared, the form in which the master keeps
// state that its workers read or write in place and that it passes to its next image over an
// upgrade (the session ticket keys, the metrics). Unmapped when destroyed; the fd closes too.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

#include "util/unique_fd.hpp"

namespace shoal {

class MemfdMapping {
 public:
  // A new memfd of `size` zero bytes, mapped. Throws StartupError naming `what`.
  static MemfdMapping create(const char* name, size_t size, std::string_view what);
  // The memfd a previous image passed (fd `fd`, taken over): nullopt unless it has exactly
  // `size` bytes and maps. It is made close-on-exec again (open only across that exec).
  static std::optional<MemfdMapping> adopt(int fd, size_t size);

  MemfdMapping(MemfdMapping&& other) noexcept;
  MemfdMapping& operator=(MemfdMapping&&) = delete;
  MemfdMapping(const MemfdMapping&) = delete;
  ~MemfdMapping();

  void* memory() const { return memory_; }
  int fd() const { return fd_.get(); }

 private:
  MemfdMapping(UniqueFd fd, void* memory, size_t size)
      : fd_(std::move(fd)), memory_(memory), size_(size) {}
  UniqueFd fd_;
  void* memory_ = nullptr;
  size_t size_ = 0;
};

}  // namespace shoal
