#include "runtime/dist/fd_passing.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <vector>

#include "tilescale/errors.h"

namespace tilescale::dist {

using tilescale::detail::cat;
using Clock = std::chrono::steady_clock;

namespace {

// The one message a server sends: these bytes, with the fd attached.
constexpr char kMagic[16] = "tilescale-fd-v1";
constexpr int kPollMs = 50;  // how soon a server notices that it is being destroyed
constexpr auto kRetryInterval = std::chrono::milliseconds(10);

struct SocketAddress {
  sockaddr_un addr{};
  socklen_t length = 0;
};

SocketAddress abstract_address(const std::string& name) {
  TS_ICHECK(!name.empty() && name.size() <= kMaxFdSocketNameLength && name.find('\0') == std::string::npos,
            "bad fd socket name '", name, "' (", name.size(), " bytes)");
  SocketAddress a;
  a.addr.sun_family = AF_UNIX;
  a.addr.sun_path[0] = '\0';
  std::memcpy(a.addr.sun_path + 1, name.data(), name.size());
  a.length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
  return a;
}

std::string serving(const std::string& name) { return cat("serve a file descriptor on socket @", name); }
std::string receiving(const std::string& name) {
  return cat("receive the file descriptor served on socket @", name);
}

// After a failed system call: "cannot <doing> because <call> failed: <errno's text>; ...".
RuntimeError system_failure(const std::string& doing, const char* call) {
  return RuntimeError(cat("cannot ", doing, " because ", call, " failed: ", std::strerror(errno),
                          "; check the process's open-file limit (ulimit -n) and the host's free memory"));
}

// The user of the process at the other end of `conn`; (uid_t)-1, no one's, if the kernel does not say.
uid_t peer_uid(int conn) {
  ucred cred{};
  socklen_t len = sizeof cred;
  return ::getsockopt(conn, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 ? cred.uid : static_cast<uid_t>(-1);
}

// Sends kMagic with `fd` attached; false when the peer has gone.
bool send_fd(int conn, int fd) {
  iovec iov{const_cast<char*>(kMagic), sizeof kMagic};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(c), &fd, sizeof fd);
  ssize_t n;
  do n = ::sendmsg(conn, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
  while (n < 0 && errno == EINTR);
  return n == static_cast<ssize_t>(sizeof kMagic);
}

// Milliseconds left until `deadline`, at least 0.
int ms_left(Clock::time_point deadline) {
  const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return static_cast<int>(std::clamp<long long>(left, 0, 1 << 30));
}

// A socket connected to `name`, retried while nothing listens there; empty at the deadline.
UniqueFd connect_until(const std::string& name, Clock::time_point deadline) {
  const SocketAddress a = abstract_address(name);
  for (;;) {
    UniqueFd sock(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!sock) throw system_failure(receiving(name), "socket");
    if (::connect(sock.get(), reinterpret_cast<const sockaddr*>(&a.addr), a.length) == 0) return sock;
    // No listener yet (ECONNREFUSED; ENOENT for a path name), or its backlog is full (EAGAIN).
    if (errno != ECONNREFUSED && errno != ENOENT && errno != EAGAIN && errno != EINTR)
      throw system_failure(receiving(name), "connect");
    const auto now = Clock::now();
    if (now >= deadline) return {};
    std::this_thread::sleep_for(std::min<Clock::duration>(kRetryInterval, deadline - now));
  }
}

}  // namespace

std::string fd_socket_name(const std::string& job_id, int rank, pid_t pid) {
  return cat("tilescale-fd.", job_id, ".rank", rank, ".pid", pid);
}

FdServer::FdServer(const std::string& name, int fd, int peers, std::chrono::milliseconds timeout)
    : name_(name), fd_(::fcntl(fd, F_DUPFD_CLOEXEC, 0)), peers_(peers), timeout_(timeout) {
  TS_ICHECK(peers >= 0, "peers ", peers);
  TS_ICHECK(fd_ || errno != EBADF, "fd ", fd, " is not open");
  if (!fd_) throw system_failure(serving(name), "fcntl(F_DUPFD_CLOEXEC)");
  const SocketAddress a = abstract_address(name);
  UniqueFd listener(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!listener) throw system_failure(serving(name), "socket");
  if (::bind(listener.get(), reinterpret_cast<const sockaddr*>(&a.addr), a.length) != 0) {
    if (errno == EADDRINUSE)
      throw RuntimeError(cat("cannot ", serving(name), " because that name is already in use on this host (by "
                             "another server, perhaps of an earlier run that is still alive); give each server a "
                             "name of its own (fd_socket_name)"));
    throw system_failure(serving(name), "bind");
  }
  if (::listen(listener.get(), std::max(peers, 1)) != 0) throw system_failure(serving(name), "listen");
  const auto deadline = Clock::now() + timeout;
  thread_ = std::thread([this, listener = std::move(listener), deadline]() mutable {
    try {
      serve(std::move(listener), deadline);
    } catch (...) {
      error_ = std::current_exception();
    }
  });
}

FdServer::~FdServer() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
}

void FdServer::wait() {
  if (thread_.joinable()) thread_.join();
  if (error_) std::rethrow_exception(error_);
}

void FdServer::serve(UniqueFd listener, Clock::time_point deadline) {
  int served = 0;
  while (served < peers_ && !stopping_) {
    const int left = ms_left(deadline);
    if (left == 0)
      throw RuntimeError(cat("cannot ", serving(name_), " because only ", served, " of ", peers_,
                             " peers fetched it within ", timeout_.count(), " ms; check that every rank started "
                             "and reached the exchange (an error on one stops it there)"));
    pollfd p{listener.get(), POLLIN, 0};
    const int ready = ::poll(&p, 1, std::min(left, kPollMs));
    if (ready < 0 && errno != EINTR) throw system_failure(serving(name_), "poll");
    if (ready <= 0) continue;
    UniqueFd conn(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!conn) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR || errno == ECONNABORTED) continue;
      throw system_failure(serving(name_), "accept4");
    }
    // Another user's process is turned away (it sees the connection close) and not counted.
    if (peer_uid(conn.get()) == ::geteuid() && send_fd(conn.get(), fd_.get())) ++served;
  }
}

UniqueFd receive_fd(const std::string& name, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  UniqueFd conn = connect_until(name, deadline);
  if (!conn)
    throw RuntimeError(cat("cannot ", receiving(name), " because no server listened there within ", timeout.count(),
                           " ms; check that the rank serving it is running and uses the same name"));
  if (const uid_t uid = peer_uid(conn.get()); uid != ::geteuid())
    throw RuntimeError(cat("cannot ", receiving(name), " because the process serving it runs as user ", uid,
                           ", not as this process's user ", ::geteuid(), "; run every rank as the same user"));

  for (;;) {
    pollfd p{conn.get(), POLLIN, 0};
    const int left = ms_left(deadline);
    const int ready = ::poll(&p, 1, left);
    if (ready > 0) break;
    if (ready < 0 && errno != EINTR) throw system_failure(receiving(name), "poll");
    if (ready == 0)
      throw RuntimeError(cat("cannot ", receiving(name), " because its server accepted the connection but sent "
                             "nothing within ", timeout.count(), " ms; is another program using that name?"));
  }

  char payload[sizeof kMagic + 1];  // one byte more, to see a longer message
  iovec iov{payload, sizeof payload};
  constexpr int kMaxFds = 8;  // more than one is a foreign server's: each is taken and closed
  alignas(cmsghdr) char control[CMSG_SPACE(kMaxFds * sizeof(int))];
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n;
  do n = ::recvmsg(conn.get(), &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
  while (n < 0 && errno == EINTR);
  if (n < 0) throw system_failure(receiving(name), "recvmsg");

  std::vector<UniqueFd> fds;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    const std::size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (std::size_t i = 0; i < count; ++i) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
      fds.emplace_back(fd);
    }
  }
  if (n == 0 && fds.empty())
    throw RuntimeError(cat("cannot ", receiving(name), " because its server closed the connection without sending "
                           "it; a server serves a fixed number of peers, and only processes of its own user: check "
                           "that each rank receives each peer's fd once and that every rank runs as the same user"));
  const bool magic_ok = n == static_cast<ssize_t>(sizeof kMagic) && std::memcmp(payload, kMagic, sizeof kMagic) == 0;
  if (!magic_ok || fds.size() != 1 || (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)))
    throw RuntimeError(cat("cannot ", receiving(name), " because what answered there is not a tilescale fd server (it "
                           "sent ", (msg.msg_flags & MSG_TRUNC) ? "more than " : "", n, " bytes",
                           magic_ok ? "" : " without tilescale's magic", " and ", fds.size(),
                           (msg.msg_flags & MSG_CTRUNC) ? " or more" : "",
                           " file descriptors); is another program using that name?"));
  return std::move(fds.front());
}

}  // namespace tilescale::dist
