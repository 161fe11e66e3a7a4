#include "runtime/dist/rendezvous.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <new>
#include <optional>
#include <thread>

#include "tilescale/errors.h"

namespace tilescale::dist {

using tilescale::detail::cat;
using Clock = std::chrono::steady_clock;
using Deadline = std::optional<Clock::time_point>;  // nullopt: none

namespace {

// Wire format: every message is a 4-byte big-endian length and that many bytes. A request starts
// with its Op, a reply with its Status; strings and byte strings are length-prefixed the same way.
constexpr char kMagic[] = "tilescale-rendezvous-1";
constexpr std::uint32_t kMaxMessage = 1u << 30;

enum class Op : std::uint8_t { Hello, Set, Wait, Bye };
enum class Status : std::uint8_t { Ok, Missing, AlreadySet, Error };

struct Malformed {};  // a message that is not of this protocol

class Writer {
 public:
  Writer& u8(std::uint8_t v) { out.push_back(v); return *this; }
  Writer& op(Op v) { return u8(static_cast<std::uint8_t>(v)); }
  Writer& status(Status v) { return u8(static_cast<std::uint8_t>(v)); }
  Writer& u32(std::uint32_t v) {
    for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<std::uint8_t>(v >> s));
    return *this;
  }
  Writer& bytes(const void* p, std::size_t n) {
    u32(static_cast<std::uint32_t>(n));
    out.insert(out.end(), static_cast<const std::uint8_t*>(p), static_cast<const std::uint8_t*>(p) + n);
    return *this;
  }
  Writer& str(const std::string& s) { return bytes(s.data(), s.size()); }
  Bytes out;
};

class Reader {
 public:
  explicit Reader(const Bytes& in) : in_(in) {}
  std::uint8_t u8() { need(1); return in_[pos_++]; }
  std::uint32_t u32() {
    need(4);
    std::uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v = (v << 8) | in_[pos_++];
    return v;
  }
  Bytes bytes() {
    const std::uint32_t n = u32();
    need(n);
    Bytes out(in_.begin() + pos_, in_.begin() + pos_ + n);
    pos_ += n;
    return out;
  }
  // A count of items that follow, each at least a byte: no more than the bytes left.
  std::uint32_t count() {
    const std::uint32_t n = u32();
    need(n);
    return n;
  }
  std::string str() {
    const Bytes b = bytes();
    return std::string(b.begin(), b.end());
  }

 private:
  void need(std::size_t n) const {
    if (in_.size() - pos_ < n) throw Malformed{};
  }
  const Bytes& in_;
  std::size_t pos_ = 0;
};

enum class Io { Ok, Closed, TimedOut, Failed };  // Failed: errno says why

// Waits until `fd` is ready for `events` or the deadline passes.
Io wait_ready(int fd, short events, Deadline deadline) {
  for (;;) {
    int ms = -1;
    if (deadline) {
      const auto left = std::chrono::ceil<std::chrono::milliseconds>(*deadline - Clock::now()).count();
      if (left <= 0) return Io::TimedOut;
      ms = static_cast<int>(std::min<long long>(left, 1 << 30));
    }
    pollfd p{fd, events, 0};
    const int n = ::poll(&p, 1, ms);
    if (n > 0) return Io::Ok;  // readiness, a hang-up or an error: the next read or write says which
    if (n < 0 && errno != EINTR) return Io::Failed;
  }
}

Io send_all(int fd, const std::uint8_t* p, std::size_t n, Deadline deadline) {
  while (n > 0) {
    if (Io r = wait_ready(fd, POLLOUT, deadline); r != Io::Ok) return r;
    const ssize_t k = ::send(fd, p, n, MSG_NOSIGNAL);
    if (k < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (k < 0) return errno == EPIPE || errno == ECONNRESET ? Io::Closed : Io::Failed;
    p += k;
    n -= static_cast<std::size_t>(k);
  }
  return Io::Ok;
}

Io recv_all(int fd, std::uint8_t* p, std::size_t n, Deadline deadline) {
  while (n > 0) {
    if (Io r = wait_ready(fd, POLLIN, deadline); r != Io::Ok) return r;
    const ssize_t k = ::recv(fd, p, n, 0);
    if (k < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (k == 0 || (k < 0 && errno == ECONNRESET)) return Io::Closed;
    if (k < 0) return Io::Failed;
    p += k;
    n -= static_cast<std::size_t>(k);
  }
  return Io::Ok;
}

Io send_message(int fd, const Bytes& payload, Deadline deadline) {
  Writer w;
  w.bytes(payload.data(), payload.size());
  return send_all(fd, w.out.data(), w.out.size(), deadline);
}

Io recv_message(int fd, Bytes& payload, Deadline deadline) {
  std::uint8_t header[4];
  if (Io r = recv_all(fd, header, 4, deadline); r != Io::Ok) return r;
  const Bytes h(header, header + 4);
  const std::uint32_t n = Reader(h).u32();
  if (n > kMaxMessage) throw Malformed{};
  payload.resize(n);
  return recv_all(fd, payload.data(), n, deadline);
}

std::string ranks_list(const std::vector<int>& ranks) {
  std::string out = ranks.size() == 1 ? "rank " : "ranks ";
  for (std::size_t i = 0; i < ranks.size(); ++i) out += cat(i ? ", " : "", ranks[i]);
  return out;
}

std::string not_a_rendezvous_reply(const std::string& addr, int port) {
  return cat("rank 0's rendezvous server at ", addr, ":", port, " answered with something other than a tilescale "
             "rendezvous reply; is MASTER_PORT another service's port?");
}

// A connected, non-blocking socket to addr:port, retried until the deadline.
int connect_to(const std::string& addr, int port, std::chrono::milliseconds timeout) {
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (int rc = ::getaddrinfo(addr.c_str(), nullptr, &hints, &found); rc != 0)
    throw RuntimeError(cat("cannot connect to the rendezvous server at ", addr, ":", port, " because ", addr,
                           " is not an IPv4 address or a known host name (", ::gai_strerror(rc),
                           "); set MASTER_ADDR to rank 0's host"));
  sockaddr_in target = *reinterpret_cast<const sockaddr_in*>(found->ai_addr);
  ::freeaddrinfo(found);
  target.sin_port = htons(static_cast<std::uint16_t>(port));

  const auto deadline = Clock::now() + timeout;
  std::string last_error = "no attempt";
  for (;;) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      last_error = cat("socket: ", std::strerror(errno));
    } else {
      int err = ::connect(fd, reinterpret_cast<const sockaddr*>(&target), sizeof target) == 0 ? 0 : errno;
      if (err == EINPROGRESS) {
        err = ETIMEDOUT;
        if (wait_ready(fd, POLLOUT, deadline) == Io::Ok) {
          socklen_t len = sizeof err;
          ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
        }
      }
      if (err == 0) {
        const int one = 1;
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        return fd;
      }
      last_error = cat("connect: ", std::strerror(err));
      ::close(fd);
    }
    if (Clock::now() + std::chrono::milliseconds(20) >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  throw RuntimeError(cat("cannot connect to the rendezvous server at ", addr, ":", port, " because nothing accepted "
                         "the connection within ", timeout.count(), " ms (", last_error, "); is rank 0 running? is "
                         "MASTER_PORT free? start rank 0 with the same MASTER_ADDR and MASTER_PORT as this rank"));
}

}  // namespace

// Rank 0's store: an accepting thread and one thread per connection.
class Rendezvous::Server {
 public:
  Server(int port, int world_size) : world_size_(world_size), joined_(world_size, false) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    const int one = 1;
    sockaddr_in any{};
    any.sin_family = AF_INET;
    any.sin_addr.s_addr = htonl(INADDR_ANY);
    any.sin_port = htons(static_cast<std::uint16_t>(port));
    socklen_t len = sizeof any;
    const char* step = listen_fd_ < 0                                                                  ? "socket"
                       : ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0     ? "setsockopt"
                       : ::bind(listen_fd_, reinterpret_cast<const sockaddr*>(&any), sizeof any) != 0 ? "bind"
                       : ::listen(listen_fd_, SOMAXCONN) != 0                                           ? "listen"
                       : ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&any), &len) != 0        ? "getsockname"
                                                                                                        : nullptr;
    if (step) {
      const int err = errno;
      if (listen_fd_ >= 0) ::close(listen_fd_);
      throw RuntimeError(cat("cannot serve the rendezvous on port ", port, " because rank 0 cannot listen there (",
                             step, ": ", std::strerror(err), "); is another process (an earlier run?) using it? set "
                             "MASTER_PORT to a free port"));
    }
    port_ = ntohs(any.sin_port);
    acceptor_ = std::thread([this] { accept_loop(); });
  }

  ~Server() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
      for (int fd : conn_fds_) ::shutdown(fd, SHUT_RDWR);  // wakes their threads
    }
    cv_.notify_all();
    acceptor_.join();
    for (auto& t : conns_) t.join();
    for (int fd : conn_fds_) ::close(fd);
    ::close(listen_fd_);
  }

  int port() const { return port_; }

  // Returns once every rank has joined and left again (said goodbye or closed its connection), or
  // at the deadline.
  void wait_for_departures(Clock::time_point deadline) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_until(lock, deadline, [&] { return departed_ == world_size_; });
  }

 private:
  void accept_loop() {
    std::unique_lock<std::mutex> lock(mu_);
    while (!stopping_) {
      lock.unlock();
      pollfd p{listen_fd_, POLLIN, 0};
      const bool ready = ::poll(&p, 1, 50) > 0;
      const int fd = ready ? ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC) : -1;
      lock.lock();
      if (fd < 0) continue;
      if (stopping_) {
        ::close(fd);
        break;
      }
      conn_fds_.push_back(fd);
      conns_.emplace_back([this, fd] { serve(fd); });
    }
  }

  void serve(int fd) {
    int rank = -1;
    try {
      Bytes request;
      while (recv_message(fd, request, std::nullopt) == Io::Ok) {
        Reader in(request);
        const auto op = static_cast<Op>(in.u8());
        if (op == Op::Bye) break;
        Writer reply;
        if (op == Op::Hello) {
          if (in.str() != kMagic) break;
          const auto claimed_rank = static_cast<int>(in.u32());
          const auto world_size = static_cast<int>(in.u32());
          rank = hello(claimed_rank, world_size, reply);
        } else if (rank < 0) {
          break;
        } else if (op == Op::Set) {
          const std::string key = in.str();
          Bytes value = in.bytes();
          set(key, std::move(value), reply);
        } else if (op == Op::Wait) {
          const auto timeout = std::chrono::milliseconds(in.u32());
          std::vector<std::string> keys(in.count());
          for (auto& k : keys) k = in.str();
          wait(keys, Clock::now() + timeout, reply);
        } else {
          break;
        }
        if (send_message(fd, reply.out, std::nullopt) != Io::Ok) break;
      }
    } catch (const Malformed&) {  // not one of our clients: hang up
    } catch (const std::bad_alloc&) {
    }
    ::shutdown(fd, SHUT_RDWR);  // the client sees the hang-up; ~Server closes the fd
    std::lock_guard<std::mutex> lock(mu_);
    if (rank >= 0) ++departed_;
    cv_.notify_all();
  }

  // The rank the client joins as, or -1 (with an error reply).
  int hello(int rank, int world_size, Writer& reply) {
    std::lock_guard<std::mutex> lock(mu_);
    std::string refused;
    if (world_size != world_size_)
      refused = cat("rank 0 serves a world of ", world_size_, " ranks and rank ", rank, " says it has ", world_size,
                    "; launch every rank with the same world size");
    else if (rank < 0 || rank >= world_size_ || joined_[rank])
      refused = cat("rank ", rank, " has already joined; launch every rank with a distinct rank");
    if (!refused.empty()) {
      reply.status(Status::Error).str(refused);
      return -1;
    }
    joined_[rank] = true;
    reply.status(Status::Ok);
    return rank;
  }

  void set(const std::string& key, Bytes value, Writer& reply) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!store_.emplace(key, std::move(value)).second) {
        reply.status(Status::AlreadySet);
        return;
      }
    }
    cv_.notify_all();
    reply.status(Status::Ok);
  }

  void wait(const std::vector<std::string>& keys, Clock::time_point deadline, Writer& reply) {
    std::unique_lock<std::mutex> lock(mu_);
    auto all_set = [&] {
      for (const auto& k : keys)
        if (!store_.count(k)) return false;
      return true;
    };
    // When the server stops, the reply goes nowhere: the connection is shut down.
    cv_.wait_until(lock, deadline, [&] { return stopping_ || all_set(); });
    if (all_set()) {
      reply.status(Status::Ok).u32(static_cast<std::uint32_t>(keys.size()));
      for (const auto& k : keys) reply.bytes(store_[k].data(), store_[k].size());
    } else {
      std::vector<std::uint32_t> missing;
      for (std::size_t i = 0; i < keys.size(); ++i)
        if (!store_.count(keys[i])) missing.push_back(static_cast<std::uint32_t>(i));
      reply.status(Status::Missing).u32(static_cast<std::uint32_t>(missing.size()));
      for (auto i : missing) reply.u32(i);
    }
  }

  const int world_size_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, Bytes> store_;
  std::vector<bool> joined_;
  int departed_ = 0;  // joined ranks that said goodbye or closed their connection
  bool stopping_ = false;
  std::vector<int> conn_fds_;
  std::vector<std::thread> conns_;
  std::thread acceptor_;
};

Rendezvous::Rendezvous(const LaunchEnv& env, std::chrono::milliseconds timeout)
    : rank_(env.rank), world_size_(env.world_size), addr_(env.master_addr), port_(env.master_port), timeout_(timeout) {
  TS_ICHECK(env.world_size >= 1 && env.rank >= 0 && env.rank < env.world_size, "rank ", env.rank, " of ",
            env.world_size);
  TS_ICHECK(env.master_port > 0 || env.rank == 0, "only rank 0 can take any free port");
  if (rank_ == 0) {
    server_ = std::make_unique<Server>(port_, world_size_);
    port_ = server_->port();
  }
  fd_ = connect_to(addr_, port_, timeout_);
  try {
    Writer hello;
    hello.op(Op::Hello).str(kMagic).u32(rank_).u32(world_size_);
    call(hello.out, cat("join the rendezvous at ", addr_, ":", port_));
  } catch (...) {
    if (fd_ >= 0) ::close(fd_);
    throw;
  }
}

Rendezvous::~Rendezvous() {
  if (fd_ >= 0) {
    send_message(fd_, Writer().op(Op::Bye).out, Clock::now() + timeout_);
    ::close(fd_);
  }
  if (server_) server_->wait_for_departures(Clock::now() + timeout_);
}

RuntimeError Rendezvous::disconnect(const std::string& doing, const std::string& why) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  return RuntimeError(cat("cannot ", doing, " because ", why));
}

Bytes Rendezvous::call(const Bytes& request, const std::string& doing) {
  const std::string server = cat("rank 0's rendezvous server at ", addr_, ":", port_);
  const std::string ended = "; rank 0 has probably failed or ended: see its output";
  const std::string not_ours = not_a_rendezvous_reply(addr_, port_);
  if (fd_ < 0) throw disconnect(doing, cat("an earlier call lost the connection to ", server, ended));
  // A wait ends on the server by the timeout; a second of grace covers the way back.
  const auto deadline = Clock::now() + timeout_ + std::chrono::seconds(1);
  Bytes reply;
  Io io = Io::Ok;
  errno = 0;
  try {
    io = send_message(fd_, request, deadline);
    if (io == Io::Ok) io = recv_message(fd_, reply, deadline);
  } catch (const Malformed&) {
    throw disconnect(doing, not_ours);
  }
  const int err = errno;
  if (io == Io::TimedOut)
    throw disconnect(doing, cat(server, " did not answer within ", timeout_.count() + 1000, " ms; rank 0 may be stuck: "
                                "see its output"));
  if (io == Io::Closed) throw disconnect(doing, cat("the connection to ", server, " was lost", ended));
  if (io == Io::Failed)
    throw disconnect(doing, cat("the connection to ", server, " failed (", std::strerror(err), ")", ended));
  if (reply.empty() || reply[0] > static_cast<std::uint8_t>(Status::Error)) throw disconnect(doing, not_ours);
  if (reply[0] == static_cast<std::uint8_t>(Status::Error)) {
    Reader in(reply);
    in.u8();
    std::string why;
    try {
      why = in.str();
    } catch (const Malformed&) {
      throw disconnect(doing, not_ours);
    }
    throw RuntimeError(cat("cannot ", doing, " because ", why));
  }
  return reply;
}

std::vector<Bytes> Rendezvous::wait_for(const std::vector<std::string>& keys, std::vector<int>& missing,
                                        const std::string& doing) {
  Writer request;
  request.op(Op::Wait)
      .u32(static_cast<std::uint32_t>(std::min<long long>(timeout_.count(), UINT32_MAX)))
      .u32(static_cast<std::uint32_t>(keys.size()));
  for (const auto& k : keys) request.str(k);
  const Bytes reply = call(request.out, doing);
  Reader in(reply);
  std::vector<Bytes> values;
  try {
    const auto status = static_cast<Status>(in.u8());
    const std::uint32_t n = in.count();
    for (std::uint32_t i = 0; i < n; ++i) {
      if (status == Status::Ok)
        values.push_back(in.bytes());
      else
        missing.push_back(static_cast<int>(in.u32()));
    }
    if (status == Status::Ok && values.size() != keys.size()) throw Malformed{};
  } catch (const Malformed&) {
    throw disconnect(doing, not_a_rendezvous_reply(addr_, port_));
  }
  return values;
}

bool Rendezvous::put(const std::string& key, const Bytes& value, const std::string& doing) {
  const Bytes reply = call(Writer().op(Op::Set).str(key).bytes(value.data(), value.size()).out, doing);
  return reply[0] != static_cast<std::uint8_t>(Status::AlreadySet);
}

void Rendezvous::set(const std::string& key, const Bytes& value) {
  const std::string doing = cat("set rendezvous key '", key, "'");
  if (!put(key, value, doing))
    throw RuntimeError(cat("cannot ", doing, " because it is already set; use a new key for each value"));
}

Bytes Rendezvous::get(const std::string& key) {
  const std::string doing = cat("get rendezvous key '", key, "'");
  std::vector<int> missing;
  std::vector<Bytes> values = wait_for({key}, missing, doing);
  if (!missing.empty())
    throw RuntimeError(cat("cannot ", doing, " because no rank set it within ", timeout_.count(), " ms; check that "
                           "some rank sets it (a rank that failed or ended early never does)"));
  return std::move(values[0]);
}

std::vector<Bytes> Rendezvous::gather(const std::string& key, const Bytes& mine, const std::string& doing) {
  if (!put(cat(key, "/", rank_), mine, doing))
    throw RuntimeError(cat("cannot ", doing, " because this rank has already used that key; use a new key for each "
                           "all_gather"));
  std::vector<std::string> keys;
  for (int r = 0; r < world_size_; ++r) keys.push_back(cat(key, "/", r));
  std::vector<int> missing;
  std::vector<Bytes> values = wait_for(keys, missing, doing);
  if (!missing.empty())
    throw RuntimeError(cat("cannot ", doing, " because ", ranks_list(missing), " did not arrive within ",
                           timeout_.count(), " ms; check that every rank gets there (a rank that failed or ended early "
                           "never does)"));
  return values;
}

void Rendezvous::barrier(const std::string& name) {
  const int k = barriers_passed_[name]++;
  gather(cat("barrier\n", name, "\n", k), {}, cat("pass rendezvous barrier '", name, "'"));
}

std::vector<Bytes> Rendezvous::all_gather(const std::string& key, const Bytes& mine) {
  return gather(cat("all_gather\n", key), mine, cat("all_gather rendezvous key '", key, "'"));
}

}  // namespace tilescale::dist
