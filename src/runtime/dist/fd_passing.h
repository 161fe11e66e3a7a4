// Passing a file descriptor to the other processes of one host, over a Unix-domain socket
// (SCM_RIGHTS). The `ipc` transport (issue 13) shares each rank's symmetric heap this way: the heap
// is a CUDA VMM allocation exported as a POSIX fd, which every other rank receives, imports and maps.
//
//   // on rank r: serve my heap's fd to the world_size - 1 other ranks
//   const std::string mine = fd_socket_name(job_id, r, ::getpid());
//   FdServer server(mine, heap_fd, world_size - 1, std::chrono::seconds(60));
//   std::vector<Bytes> names = rdv.all_gather("heap-sockets", Bytes(mine.begin(), mine.end()));
//   for (int peer = 0; peer < world_size; ++peer)
//     if (peer != r) import(receive_fd(std::string(names[peer].begin(), names[peer].end()), 60s));
//   server.wait();   // every peer has its copy; RuntimeError if some did not come
//
// A socket name is a plain string (no NUL, at most kMaxFdSocketNameLength bytes) naming a socket in
// Linux's abstract namespace: nothing is created on disk, and the name disappears with the socket
// when its process ends, however it ends. Messages write it as ss(8) does, with a leading '@'. The
// abstract namespace is shared by every process of the host's network namespace, so a name must be
// unique on the host: fd_socket_name builds one from a job id, a rank and the server's pid.
//
// The server answers each connection with one message: a fixed magic string (so that a receiver
// connected to some other program's socket says so instead of taking its data for ours) and the
// fd. It serves only processes of its own user (checked with SO_PEERCRED): the abstract namespace
// has no permissions of its own. Every socket and every received fd is close-on-exec.
//
// Time is bounded on both sides: the server gives up when its peers have not all come within its
// timeout, a receiver when no server answers within its timeout (it retries while there is none
// yet, so servers and receivers may start in any order). Failures are RuntimeErrors
// "cannot <X> because <Y>; <do Z>" naming the socket.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <exception>
#include <string>
#include <thread>

#include "support/unique_fd.h"

namespace tilescale::dist {

// The longest socket name: sockaddr_un's sun_path less the abstract namespace's leading NUL.
inline constexpr std::size_t kMaxFdSocketNameLength = 107;

// A name unique on the host for the socket through which `rank` of the job `job_id` (the same on
// every rank of one run and different between runs, e.g. the rendezvous port and a random nonce
// rank 0 shares through it) serves from process `pid`: "tilescale-fd.<job_id>.rank<rank>.pid<pid>".
// job_id must be short enough for the whole name to fit kMaxFdSocketNameLength.
std::string fd_socket_name(const std::string& job_id, int rank, pid_t pid);

// Serves one file descriptor on a socket, from a thread of its own, until `peers` connections
// have received it or `timeout` (counted from construction) has passed. The server keeps its own
// duplicate of `fd`, so the caller may close its copy at once. The socket is closed, and its name
// free again, as soon as the thread ends.
class FdServer {
 public:
  // Binds `name` and starts serving. RuntimeError when the name is already bound on this host
  // (another server, perhaps of an earlier run that is still alive) or the socket cannot be made.
  FdServer(const std::string& name, int fd, int peers, std::chrono::milliseconds timeout);
  // Stops serving (within about 50 ms) if it has not finished; never throws.
  ~FdServer();
  FdServer(const FdServer&) = delete;
  FdServer& operator=(const FdServer&) = delete;

  // Returns once the fd has been sent to `peers` connections; RuntimeError naming the socket and
  // how many peers came when the timeout ran out first (or the socket failed). A peer that dies
  // between connecting and reading still counts: that each peer imported the fd is for the caller
  // to confirm (a rendezvous barrier).
  void wait();

 private:
  void serve(UniqueFd listener, std::chrono::steady_clock::time_point deadline);

  const std::string name_;
  const UniqueFd fd_;  // the server's duplicate of the fd it serves
  const int peers_;
  const std::chrono::milliseconds timeout_;
  std::atomic<bool> stopping_{false};
  std::exception_ptr error_;  // set by the thread, read after joining it
  std::thread thread_;
};

// Connects to the server of socket `name` and returns the fd it serves, close-on-exec and owned by
// the caller. While nothing listens on the name, retries until `timeout`. RuntimeError when the
// timeout passes (naming the socket and the time waited), or when what answers is not an
// FdServer of this user.
UniqueFd receive_fd(const std::string& name, std::chrono::milliseconds timeout);

}  // namespace tilescale::dist
