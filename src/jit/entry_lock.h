// The lock that lets one compile of a cache entry run at a time, across processes and threads.
//
//   jit::EntryLock lock(cache_entry_path(key));  // waits while another process or thread holds it
//   // look for the entry again; when it is still missing, compile and write it
//   // ... released when `lock` goes out of scope (or when its process ends)
//
// When the N ranks of a distributed run (`tilescale launch -n N`) compile the same kernel at once,
// compile_cached (cache.h) takes this lock around "look again → compile → write" so that one of
// them runs the compiler and the others wait, then read the entry it wrote.
//
// The lock is flock(2) on the file <entry>.lock beside the entry, opened with O_CLOEXEC (a
// compiler the holder starts, such as nvcc, does not inherit it). flock belongs to the open file
// description, so two threads of one process, each opening the file, exclude each other too; and
// the operating system drops it when its holder dies, however it dies, so a crashed rank never
// leaves the others waiting. (A live holder that hangs, or is stopped in a debugger, does: there is
// no time limit, as a compile may take long.) The holder deletes the lock file before releasing it,
// so the cache directory keeps one file per entry; a waiter that then gets the lock of a deleted
// file sees that the path no longer names the file it locked and starts over on the file now there.
//
// Best effort: when the lock file cannot be created (a read-only cache directory, or one that cannot
// be created) or the file system refuses flock, held() is false and the caller compiles without the
// lock; locking never makes a compile fail. On file systems that emulate flock with per-process
// record locks (NFS), threads of one process do not exclude each other and may both compile: slower,
// still correct.
#pragma once

#include <string>

namespace tilescale::jit {

class EntryLock {
 public:
  // Takes the lock of the cache entry at `entry_path`, creating its directory when needed; blocks
  // while another process or thread holds it.
  explicit EntryLock(const std::string& entry_path);
  // Deletes the lock file and releases the lock, when held.
  ~EntryLock();
  EntryLock(const EntryLock&) = delete;
  EntryLock& operator=(const EntryLock&) = delete;

  // False when the lock could not be taken (see above).
  bool held() const { return fd_ >= 0; }

 private:
  std::string lock_path_;
  int fd_ = -1;
};

}  // namespace tilescale::jit
