// UniqueFd owns a POSIX file descriptor and closes it when it goes away, so that no error path leaks
// one:
//
//   UniqueFd sock(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
//   if (!sock) throw ...;                       // -1 (a failed call) holds nothing
//   if (::connect(sock.get(), ...) != 0) throw ...;   // closed by the destructor
//   return sock;                                // moves; release() hands the number over for good
#pragma once

#include <unistd.h>

#include <utility>

namespace tilescale {

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    reset(other.release());
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }

  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }

  // The descriptor, which the caller now owns; this holds nothing afterwards.
  int release() { return std::exchange(fd_, -1); }
  // Closes the descriptor held (if any) and holds `fd` instead.
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

}  // namespace tilescale
