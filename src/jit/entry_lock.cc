#include "jit/entry_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>

namespace tilescale::jit {

EntryLock::EntryLock(const std::string& entry_path) : lock_path_(entry_path + ".lock") {
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(lock_path_).parent_path(), ec);
  for (;;) {
    // flock needs no write access to the file, only a descriptor.
    const int fd = ::open(lock_path_.c_str(), O_RDONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return;
    int locked = 0;
    do locked = ::flock(fd, LOCK_EX);
    while (locked != 0 && errno == EINTR);
    struct stat mine {}, named {};
    if (locked != 0 || ::fstat(fd, &mine) != 0) {
      ::close(fd);
      return;
    }
    const bool still_named = ::stat(lock_path_.c_str(), &named) == 0;
    const int stat_error = errno;
    if (still_named && named.st_dev == mine.st_dev && named.st_ino == mine.st_ino) {
      fd_ = fd;
      return;
    }
    // The holder before us deleted the file we locked: lock the one at the path now.
    ::close(fd);
    if (!still_named && stat_error != ENOENT) return;
  }
}

EntryLock::~EntryLock() {
  if (fd_ < 0) return;
  ::unlink(lock_path_.c_str());
  ::close(fd_);
}

}  // namespace tilescale::jit
