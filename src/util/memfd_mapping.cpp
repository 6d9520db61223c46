// MemfdMapping: memfd_create + ftruncate + mmap(MAP_SHARED), and the same for a passed fd.
#include "util/memfd_mapping.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <utility>

#include "util/syscall.hpp"

namespace shoal {

MemfdMapping MemfdMapping::create(const char* name, size_t size, std::string_view what) {
  return create_growable(name, size, size, what);
}

MemfdMapping MemfdMapping::create_growable(const char* name, size_t size, size_t reserve,
                                           std::string_view what) {
  UniqueFd fd(memfd_create(name, MFD_CLOEXEC));
  check_syscall(fd.get(), "memfd_create() for " + std::string(what));
  check_syscall(ftruncate(fd.get(), static_cast<off_t>(size)),
                "ftruncate() of " + std::string(what));
  // Beyond the file's end the mapping is only address space (a touch there would be SIGBUS;
  // nothing touches it before grow()).
  void* memory = mmap(nullptr, reserve, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0);
  if (memory == MAP_FAILED) check_syscall(-1, "mmap() of " + std::string(what));
  return MemfdMapping(std::move(fd), memory, reserve);
}

std::optional<MemfdMapping> MemfdMapping::adopt_growable(int fd_number, size_t reserve) {
  UniqueFd fd(fd_number);
  struct stat st {};
  if (fstat(fd.get(), &st) != 0 || st.st_size <= 0 || static_cast<size_t>(st.st_size) > reserve) {
    return std::nullopt;
  }
  void* memory = mmap(nullptr, reserve, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0);
  if (memory == MAP_FAILED) return std::nullopt;
  fcntl(fd.get(), F_SETFD, FD_CLOEXEC);
  return MemfdMapping(std::move(fd), memory, reserve);
}

size_t MemfdMapping::file_size() const {
  struct stat st {};
  if (fstat(fd_.get(), &st) != 0) return 0;
  return static_cast<size_t>(st.st_size);
}

bool MemfdMapping::grow(size_t size) {
  if (size > size_) {
    errno = EINVAL;
    return false;
  }
  if (size <= file_size()) return true;
  return ftruncate(fd_.get(), static_cast<off_t>(size)) == 0;
}

std::optional<MemfdMapping> MemfdMapping::adopt(int fd_number, size_t size) {
  UniqueFd fd(fd_number);
  struct stat st {};
  if (fstat(fd.get(), &st) != 0 || st.st_size != static_cast<off_t>(size)) return std::nullopt;
  void* memory = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0);
  if (memory == MAP_FAILED) return std::nullopt;
  fcntl(fd.get(), F_SETFD, FD_CLOEXEC);
  return MemfdMapping(std::move(fd), memory, size);
}

MemfdMapping::MemfdMapping(MemfdMapping&& other) noexcept
    : fd_(std::move(other.fd_)),
      memory_(std::exchange(other.memory_, nullptr)),
      size_(other.size_) {}

MemfdMapping::~MemfdMapping() {
  if (memory_) munmap(memory_, size_);
}

}  // namespace shoal
