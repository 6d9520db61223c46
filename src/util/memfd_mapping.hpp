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
  // A memfd of `size` zero bytes that may grow up to `reserve` bytes: all of `reserve` is
  // mapped at once, so growing (grow()) never moves the mapping, and a process that inherited
  // it sees the new bytes as soon as the file has them. Throws StartupError naming `what`.
  static MemfdMapping create_growable(const char* name, size_t size, size_t reserve,
                                      std::string_view what);
  // The memfd a previous image passed (fd `fd`, taken over): nullopt unless it has exactly
  // `size` bytes and maps. It is made close-on-exec again (open only across that exec).
  static std::optional<MemfdMapping> adopt(int fd, size_t size);
  // As adopt(), for a growable memfd: any size up to `reserve`, all of `reserve` mapped.
  static std::optional<MemfdMapping> adopt_growable(int fd, size_t reserve);

  // The file's size now (a growable one's may have grown).
  size_t file_size() const;
  // Makes the file `size` bytes (zeros added) when that is larger, within what is mapped.
  // False when ftruncate failed (errno set) or `size` is beyond the mapping.
  bool grow(size_t size);

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
