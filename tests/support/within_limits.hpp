#pragma once
// A tight RLIMIT_AS around a piece of a test: an allocation the input cannot justify
// fails there with std::bad_alloc (which the test then sees) instead of taking the
// machine's memory.

#include <sys/resource.h>
#include <unistd.h>

#include <cstddef>
#include <fstream>

namespace ashlar::test {

// The address space this process has mapped now, in bytes (/proc/self/statm).
inline std::size_t address_space_in_use() {
  std::ifstream statm("/proc/self/statm");
  std::size_t pages = 0;
  statm >> pages;
  return pages * static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
}

// While it lives, the process's address space may grow by at most `headroom` bytes (the
// soft limit; the hard one is left alone, so the destructor can restore it). A no-op
// under AddressSanitizer, which maps terabytes of shadow memory.
class AddressSpaceLimit {
 public:
  explicit AddressSpaceLimit(std::size_t headroom) {
#if !defined(__SANITIZE_ADDRESS__)
    if (::getrlimit(RLIMIT_AS, &saved_) != 0) return;
    rlimit tight = saved_;
    tight.rlim_cur = address_space_in_use() + headroom;
    if (saved_.rlim_max != RLIM_INFINITY && tight.rlim_cur > saved_.rlim_max) tight.rlim_cur = saved_.rlim_max;
    active_ = ::setrlimit(RLIMIT_AS, &tight) == 0;
#else
    (void)headroom;
#endif
  }
  ~AddressSpaceLimit() {
    if (active_) ::setrlimit(RLIMIT_AS, &saved_);
  }
  AddressSpaceLimit(const AddressSpaceLimit&) = delete;
  AddressSpaceLimit& operator=(const AddressSpaceLimit&) = delete;

  // False when the limit could not be set (or under AddressSanitizer).
  bool active() const { return active_; }

 private:
  rlimit saved_{};
  bool active_ = false;
};

}  // namespace ashlar::test
