// Running a program in a child process through the shell, as a user runs it: its exit status and
// everything it printed (stdout and stderr together).
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <initializer_list>
#include <string>

namespace tilescale::testing {

struct CommandResult {
  int status = -1;     // exit status; -1 when the process did not exit normally
  std::string output;  // stdout and stderr together
};

inline CommandResult run_command(const std::string& command) {
  CommandResult r;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (!pipe) return r;
  char buf[4096];
  for (size_t n; (n = fread(buf, 1, sizeof buf, pipe)) > 0;) r.output.append(buf, n);
  const int status = pclose(pipe);
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  if (WIFSIGNALED(status)) r.output += "\n[killed by signal " + std::to_string(WTERMSIG(status)) + "]";
  return r;
}

// `ranks` processes of `command` started by the shell with torchrun's variables (MASTER_PORT a
// free port), each run to its end (tilescale launch would stop the others when the first fails),
// "[rank r] " before each line of theirs; the status is the shell's (0).
inline CommandResult run_every_rank(int ranks, const std::string& command) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t n = sizeof a;
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &n);
  const std::string port = std::to_string(ntohs(a.sin_port));
  ::close(fd);
  const std::string size = std::to_string(ranks);
  return run_command("sh -c 'for r in $(seq 0 " + std::to_string(ranks - 1) + "); do RANK=$r LOCAL_RANK=$r WORLD_SIZE=" + size +
                     " LOCAL_WORLD_SIZE=" + size + " MASTER_ADDR=127.0.0.1 MASTER_PORT=" + port + " " + command +
                     " 2>&1 | sed \"s/^/[rank $r] /\" & done; wait'");
}

// Success when `r` exited with `status` and printed every one of `parts`; else what differed, with
// the whole output.
inline ::testing::AssertionResult exited_with(const CommandResult& r, int status, std::initializer_list<std::string> parts) {
  if (r.status != status)
    return ::testing::AssertionFailure() << "exit status " << r.status << ", expected " << status << ":\n" << r.output;
  for (const auto& p : parts)
    if (r.output.find(p) == std::string::npos)
      return ::testing::AssertionFailure() << "output lacks \"" << p << "\":\n" << r.output;
  return ::testing::AssertionSuccess();
}

}  // namespace tilescale::testing

#define EXPECT_EXIT_WITH(result, status, ...) EXPECT_TRUE(::tilescale::testing::exited_with(result, status, {__VA_ARGS__}))
