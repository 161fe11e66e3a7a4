// Passing a file descriptor between processes (runtime/dist/fd_passing.h): a memfd served to
// threads and to forked processes that map it, write it and are seen to have written it; and every
// error, with its message, checked to leave no descriptor open. Timeouts are ~200 ms.
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <cstring>
#include <filesystem>
#include <functional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "runtime/dist/fd_passing.h"
#include "test_util.h"

namespace tilescale::test {
namespace {

using dist::FdServer;
using dist::receive_fd;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr std::size_t kMemBytes = 4096;
constexpr char kGreeting[] = "shared by rank 0";

// A name no other test (nor another run of this one) uses.
std::string unique_name() {
  const auto* test = ::testing::UnitTest::GetInstance()->current_test_info();
  return dist::fd_socket_name(detail::cat(test->name(), ".", std::random_device{}()), 0, ::getpid());
}

// A memfd of kMemBytes starting with kGreeting.
UniqueFd greeting_memfd() {
  UniqueFd fd(::memfd_create("fd-passing-test", MFD_CLOEXEC));
  EXPECT_TRUE(fd);
  EXPECT_EQ(::ftruncate(fd.get(), kMemBytes), 0);
  EXPECT_EQ(::pwrite(fd.get(), kGreeting, sizeof kGreeting, 0), static_cast<ssize_t>(sizeof kGreeting));
  return fd;
}

int open_fd_count() {
  int n = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

bool same_file(int a, int b) {
  struct stat sa {}, sb {};
  return ::fstat(a, &sa) == 0 && ::fstat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

bool is_cloexec(int fd) { return (::fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0; }

// Runs `body` in a child process; its return value (or 100 for an exception, printed) is the exit code.
pid_t fork_child(const std::function<int()>& body) {
  const pid_t pid = ::fork();
  if (pid != 0) return pid;
  int code = 100;
  try {
    code = body();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "child %d: %s\n", ::getpid(), e.what());
  }
  std::fflush(stderr);
  ::_exit(code);  // no destructors, no atexit: the parent's objects are not the child's to tear down
}

int exit_code(pid_t pid) {
  int status = 0;
  if (::waitpid(pid, &status, 0) != pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 200 + WTERMSIG(status);
}

// A bare SEQPACKET listener on `name`, standing in for a server that is not an FdServer.
UniqueFd foreign_listener(const std::string& name) {
  UniqueFd sock(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::memcpy(a.sun_path + 1, name.data(), name.size());
  const auto length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
  EXPECT_EQ(::bind(sock.get(), reinterpret_cast<const sockaddr*>(&a), length), 0);
  EXPECT_EQ(::listen(sock.get(), 4), 0);
  return sock;
}

// Sends `bytes` with `fds` attached on `conn`.
void send_with_fds(int conn, const std::string& bytes, const std::vector<int>& fds) {
  iovec iov{const_cast<char*>(bytes.data()), bytes.size()};
  std::vector<char> control(CMSG_SPACE(fds.size() * sizeof(int)));
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.data();
  msg.msg_controllen = control.size();
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(fds.size() * sizeof(int));
  std::memcpy(CMSG_DATA(c), fds.data(), fds.size() * sizeof(int));
  ASSERT_EQ(::sendmsg(conn, &msg, MSG_NOSIGNAL), static_cast<ssize_t>(bytes.size()));
}

TEST(FdPassing, SocketNameSaysJobRankAndPid) {
  EXPECT_EQ(dist::fd_socket_name("29500.1a2b", 3, 4242), "tilescale-fd.29500.1a2b.rank3.pid4242");
}

TEST(FdPassing, ThreeProcessesMapTheServedMemoryAndWriteIt) {
  const std::string name = unique_name();
  // The receivers start first: they retry until the server is there.
  std::vector<pid_t> children;
  for (int i = 0; i < 3; ++i)
    children.push_back(fork_child([&name, i] {
      UniqueFd fd = receive_fd(name, 5s);
      if (!is_cloexec(fd.get())) return 1;
      auto* mem = static_cast<char*>(::mmap(nullptr, kMemBytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0));
      if (mem == MAP_FAILED) return 2;
      if (std::memcmp(mem, kGreeting, sizeof kGreeting) != 0) return 3;
      mem[100 + i] = static_cast<char>('a' + i);
      ::munmap(mem, kMemBytes);
      return 0;
    }));

  const UniqueFd mem_fd = greeting_memfd();
  FdServer server(name, mem_fd.get(), 3, 5s);
  server.wait();
  for (pid_t child : children) EXPECT_EQ(exit_code(child), 0);

  char written[3] = {};
  ASSERT_EQ(::pread(mem_fd.get(), written, 3, 100), 3);
  EXPECT_EQ(std::string(written, 3), "abc");
}

TEST(FdPassing, ThreadsReceiveTheSameFileCloseOnExec) {
  const std::string name = unique_name();
  const int before = open_fd_count();
  {
    UniqueFd mem_fd = greeting_memfd();
    FdServer server(name, mem_fd.get(), 2, 2s);
    mem_fd.reset();  // the server keeps its own duplicate
    UniqueFd got[2];
    std::thread a([&] { got[0] = receive_fd(name, 2s); });
    std::thread b([&] { got[1] = receive_fd(name, 2s); });
    a.join();
    b.join();
    server.wait();
    ASSERT_TRUE(got[0] && got[1]);
    EXPECT_TRUE(same_file(got[0].get(), got[1].get()));
    EXPECT_TRUE(is_cloexec(got[0].get()) && is_cloexec(got[1].get()));
    char text[sizeof kGreeting] = {};
    ASSERT_EQ(::pread(got[0].get(), text, sizeof text, 0), static_cast<ssize_t>(sizeof text));
    EXPECT_STREQ(text, kGreeting);
  }
  EXPECT_EQ(open_fd_count(), before);
}

TEST(FdPassing, ServerReleasesItsNameOnceEveryPeerHasTheFd) {
  const std::string name = unique_name();
  const UniqueFd mem_fd = greeting_memfd();
  FdServer server(name, mem_fd.get(), 1, 2s);
  EXPECT_TRUE(receive_fd(name, 2s));
  server.wait();
  FdServer again(name, mem_fd.get(), 0, 2s);  // the name is free
  again.wait();
}

TEST(FdPassing, NoServerIsATimeoutNamingTheSocket) {
  const std::string name = unique_name();
  const int before = open_fd_count();
  const auto start = Clock::now();
  EXPECT_RUNTIME_ERROR(receive_fd(name, 200ms),
                       "cannot receive the file descriptor served on socket @" + name +
                           " because no server listened there within 200 ms; check that the rank serving it is "
                           "running and uses the same name");
  EXPECT_GE(Clock::now() - start, 200ms);
  EXPECT_EQ(open_fd_count(), before);
}

TEST(FdPassing, NameAlreadyInUseIsRefused) {
  const std::string name = unique_name();
  const UniqueFd mem_fd = greeting_memfd();
  FdServer first(name, mem_fd.get(), 1, 2s);
  const int before = open_fd_count();
  EXPECT_RUNTIME_ERROR(FdServer(name, mem_fd.get(), 1, 2s),
                       "cannot serve a file descriptor on socket @" + name +
                           " because that name is already in use on this host",
                       "give each server a name of its own (fd_socket_name)");
  EXPECT_EQ(open_fd_count(), before);
}

TEST(FdPassing, TooFewPeersWithinTheTimeoutFailsWait) {
  const std::string name = unique_name();
  const UniqueFd mem_fd = greeting_memfd();
  FdServer server(name, mem_fd.get(), 3, 200ms);
  EXPECT_TRUE(receive_fd(name, 2s));
  EXPECT_RUNTIME_ERROR(server.wait(), "cannot serve a file descriptor on socket @" + name +
                                          " because only 1 of 3 peers fetched it within 200 ms; check that every "
                                          "rank started and reached the exchange");
}

TEST(FdPassing, DestroyingAServerStopsItPromptly) {
  const std::string name = unique_name();
  const UniqueFd mem_fd = greeting_memfd();
  const auto start = Clock::now();
  { FdServer server(name, mem_fd.get(), 2, 60s); }
  EXPECT_LT(Clock::now() - start, 1s);
  EXPECT_RUNTIME_ERROR(receive_fd(name, 50ms), "because no server listened there within 50 ms");
}

TEST(FdPassing, ForeignServerSendingOtherBytesAndFdsIsRefused) {
  const std::string name = unique_name();
  const UniqueFd listener = foreign_listener(name);
  const int before = open_fd_count();
  std::thread foreign([&] {
    UniqueFd conn(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
    const UniqueFd mem_fd = greeting_memfd();
    send_with_fds(conn.get(), "hello", {mem_fd.get(), mem_fd.get()});
  });
  EXPECT_RUNTIME_ERROR(receive_fd(name, 2s),
                       "cannot receive the file descriptor served on socket @" + name +
                           " because what answered there is not a tilescale fd server (it sent 5 bytes without "
                           "tilescale's magic and 2 file descriptors); is another program using that name?");
  foreign.join();
  EXPECT_EQ(open_fd_count(), before);  // both fds received were closed
}

TEST(FdPassing, ForeignServerClosingAtOnceIsRefused) {
  const std::string name = unique_name();
  const UniqueFd listener = foreign_listener(name);
  std::thread foreign([&] { UniqueFd conn(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC)); });
  EXPECT_RUNTIME_ERROR(receive_fd(name, 2s),
                       "cannot receive the file descriptor served on socket @" + name +
                           " because its server closed the connection without sending it",
                       "check that each rank receives each peer's fd once and that every rank runs as the same user");
  foreign.join();
}

TEST(FdPassing, ServerThatNeverSendsIsATimeout) {
  const std::string name = unique_name();
  const UniqueFd listener = foreign_listener(name);  // listens, never accepts
  EXPECT_RUNTIME_ERROR(receive_fd(name, 200ms),
                       "cannot receive the file descriptor served on socket @" + name +
                           " because its server accepted the connection but sent nothing within 200 ms; is another "
                           "program using that name?");
}

TEST(FdPassing, AnotherUsersServerOrReceiverIsRefused) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root, to run a child process as another user";
  constexpr uid_t kNobody = 65534;
  {  // a server of another user: the receiver refuses it
    const std::string name = unique_name();
    const pid_t child = fork_child([&name] {
      if (::setuid(kNobody) != 0) return 1;
      const UniqueFd mem_fd = greeting_memfd();
      FdServer server(name, mem_fd.get(), 1, 300ms);
      try {
        server.wait();  // whether the refused fd counts depends on who was first: sending or closing
      } catch (const RuntimeError&) {
      }
      return 0;
    });
    EXPECT_RUNTIME_ERROR(receive_fd(name, 2s),
                         "cannot receive the file descriptor served on socket @" + name +
                             " because the process serving it runs as user 65534, not as this process's user 0; "
                             "run every rank as the same user");
    EXPECT_EQ(exit_code(child), 0);
  }
  {  // a receiver of another user: the server turns it away and does not count it
    const std::string name = unique_name();
    const UniqueFd mem_fd = greeting_memfd();
    FdServer server(name, mem_fd.get(), 1, 300ms);
    const pid_t child = fork_child([&name] {
      if (::setuid(kNobody) != 0) return 1;
      try {
        receive_fd(name, 2s);
      } catch (const RuntimeError&) {
        return 0;
      }
      return 2;
    });
    EXPECT_EQ(exit_code(child), 0);
    EXPECT_RUNTIME_ERROR(server.wait(), "because only 0 of 1 peers fetched it within 300 ms");
  }
}

TEST(FdPassing, OpenFileLimitReachedIsASystemFailure) {
  const UniqueFd mem_fd = greeting_memfd();
  rlimit saved{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &saved), 0);
  rlimit low = saved;
  low.rlim_cur = static_cast<rlim_t>(open_fd_count() + 8);
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &low), 0);
  const std::string name = unique_name();
  std::vector<UniqueFd> filler;
  for (UniqueFd fd(::dup(0)); fd; fd = UniqueFd(::dup(0))) filler.push_back(std::move(fd));
  EXPECT_RUNTIME_ERROR(FdServer(name, mem_fd.get(), 1, 200ms),
                       "cannot serve a file descriptor on socket @" + name +
                           " because fcntl(F_DUPFD_CLOEXEC) failed: Too many open files; check the process's "
                           "open-file limit (ulimit -n)");
  filler.clear();
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &saved), 0);
}

}  // namespace
}  // namespace tilescale::test
