#include "launch.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "support/checked.h"
#include "tilescale/errors.h"

namespace tilescale::launcher {

using tilescale::detail::cat;

namespace {

using Clock = std::chrono::steady_clock;

[[noreturn]] void fail(const std::string& what) {
  throw RuntimeError(cat("cannot launch the ranks because ", what, " failed: ", std::strerror(errno)));
}

// A port nothing listens on now, for rank 0's rendezvous (another process may take it before rank 0
// binds it; rank 0 then reports the port in use).
int free_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) fail("socket()");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  const bool ok = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
                  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
  close(fd);
  if (!ok) fail("finding a free port");
  return ntohs(addr.sin_port);
}

struct Rank {
  pid_t pid = -1;
  int out = -1;             // read end of its merged stdout/stderr; -1 once closed
  std::string partial;      // output after its last newline
  std::string last_line;    // its last complete line of output
  bool running = true;
  int status = 0;           // from waitpid once it ended
};

void print_line(int r, Rank& rank, const std::string& line) {
  std::printf("[rank %d] %s\n", r, line.c_str());
  if (!line.empty()) rank.last_line = line;
}

void drain(int r, Rank& rank) {
  char buf[4096];
  const ssize_t n = read(rank.out, buf, sizeof buf);
  if (n <= 0) {
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
    if (!rank.partial.empty()) print_line(r, rank, rank.partial), rank.partial.clear();
    close(rank.out);
    rank.out = -1;
    return;
  }
  rank.partial.append(buf, static_cast<std::size_t>(n));
  for (std::size_t nl; (nl = rank.partial.find('\n')) != std::string::npos;) {
    print_line(r, rank, rank.partial.substr(0, nl));
    rank.partial.erase(0, nl + 1);
  }
  std::fflush(stdout);
}

volatile sig_atomic_t interrupted = 0;
void on_interrupt(int) { interrupted = 1; }

std::string how_it_ended(int status) {
  if (WIFSIGNALED(status)) return cat("killed by signal ", WTERMSIG(status), " (", strsignal(WTERMSIG(status)), ")");
  return cat("exit status ", WEXITSTATUS(status));
}

// The i-th GPU of the launcher's CUDA_VISIBLE_DEVICES ("i" when unset or empty).
std::string visible_device(int i) {
  const char* visible = std::getenv("CUDA_VISIBLE_DEVICES");
  if (!visible || !*visible) return std::to_string(i);
  std::string list = visible;
  for (int k = 0; k < i; ++k) list = list.substr(list.find(',') + 1);
  return list.substr(0, list.find(','));
}

pid_t start(const Options& o, int r, int port, const std::string& addr, int out) {
  const pid_t pid = fork();
  if (pid < 0) fail("fork()");
  if (pid > 0) return pid;
  // The rank: its own process group (so that stopping it stops what it started), its output into
  // the launcher's pipe, its identity in the environment.
  setpgid(0, 0);
  dup2(out, STDOUT_FILENO);
  dup2(out, STDERR_FILENO);
  close(out);
  const std::string n = std::to_string(o.ranks), rank = std::to_string(r);
  setenv("RANK", rank.c_str(), 1);
  setenv("LOCAL_RANK", rank.c_str(), 1);
  setenv("WORLD_SIZE", n.c_str(), 1);
  setenv("LOCAL_WORLD_SIZE", n.c_str(), 1);
  setenv("MASTER_ADDR", addr.c_str(), 1);
  setenv("MASTER_PORT", std::to_string(port).c_str(), 1);
  if (o.gpus > 0) setenv("CUDA_VISIBLE_DEVICES", visible_device(r % o.gpus).c_str(), 1);
  std::vector<char*> argv;
  for (const auto& a : o.command) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  execvp(argv[0], argv.data());
  std::fprintf(stderr, "cannot run '%s': %s\n", argv[0], std::strerror(errno));
  _exit(127);
}

}  // namespace

int launch(const Options& o) {
  const char* addr_env = std::getenv("MASTER_ADDR");
  const char* port_env = std::getenv("MASTER_PORT");
  const std::string addr = addr_env && *addr_env ? addr_env : "127.0.0.1";
  int port = 0;
  if (port_env && *port_env) {
    const auto v = parse_integer(port_env, 1, 65535);
    if (!v)
      throw RuntimeError(cat("cannot launch the ranks with MASTER_PORT=", port_env,
                             " because a port is a whole number from 1 to 65535; set another, or unset it for a free one"));
    port = static_cast<int>(*v);
  } else {
    port = free_port();
  }
  std::fflush(stdout);
  std::vector<Rank> ranks(static_cast<std::size_t>(o.ranks));
  for (int r = 0; r < o.ranks; ++r) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) fail("pipe()");
    ranks[r].pid = start(o, r, port, addr, fds[1]);
    close(fds[1]);
    ranks[r].out = fds[0];
  }
  // Ctrl-C or a SIGTERM to the launcher stops the ranks, which run in process groups of their own.
  struct sigaction action{};
  action.sa_handler = on_interrupt;
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  int failed = -1;  // the first rank that failed
  bool stopping = false, stopped_others = false;
  Clock::time_point kill_at{};
  auto stop_all = [&] {
    stopping = true;
    kill_at = Clock::now() + o.grace;
    for (const auto& other : ranks)
      if (other.running) kill(-other.pid, SIGTERM), stopped_others = true;
  };
  for (int live = o.ranks;;) {
    std::vector<pollfd> fds;
    std::vector<int> owner;
    for (int r = 0; r < o.ranks; ++r)
      if (ranks[r].out >= 0) fds.push_back({ranks[r].out, POLLIN, 0}), owner.push_back(r);
    if (fds.empty() && live == 0) break;
    if (!fds.empty() && poll(fds.data(), fds.size(), 50) > 0) {
      for (std::size_t i = 0; i < fds.size(); ++i)
        if (fds[i].revents) drain(owner[i], ranks[owner[i]]);
    } else if (live == 0) {
      // Every rank has ended and 50 ms passed without output: what still holds a pipe open is a
      // process a rank left behind, which the launcher does not wait for.
      for (int r = 0; r < o.ranks; ++r)
        if (ranks[r].out >= 0) {
          if (!ranks[r].partial.empty()) print_line(r, ranks[r], ranks[r].partial);
          close(ranks[r].out);
          ranks[r].out = -1;
        }
    } else if (fds.empty()) {
      usleep(20000);
    }
    for (int r = 0; r < o.ranks; ++r) {
      if (!ranks[r].running || waitpid(ranks[r].pid, &ranks[r].status, WNOHANG) != ranks[r].pid) continue;
      ranks[r].running = false;
      --live;
      const bool ok = WIFEXITED(ranks[r].status) && WEXITSTATUS(ranks[r].status) == 0;
      if (!ok && failed < 0 && !stopping) {
        failed = r;
        stop_all();
      }
    }
    if (interrupted && !stopping) stop_all();
    if (stopping && live > 0 && Clock::now() > kill_at) {
      for (const auto& other : ranks)
        if (other.running) kill(-other.pid, SIGKILL);
      kill_at = Clock::time_point::max();
    }
  }
  std::fflush(stdout);
  if (failed < 0 && !interrupted) return 0;
  const char* others = stopped_others ? "; the ranks still running were stopped" : "";
  if (failed < 0) {
    std::fprintf(stderr, "error: the launcher was interrupted%s\n", others);
    return 1;
  }
  const Rank& f = ranks[failed];
  std::fprintf(stderr, "error: rank %d of %d failed (%s%s)%s\n", failed, o.ranks, how_it_ended(f.status).c_str(),
               f.last_line.empty() ? "" : cat("; its last output: \"", f.last_line, "\"").c_str(), others);
  return 1;
}

}  // namespace tilescale::launcher
