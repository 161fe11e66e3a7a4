// Running a program in a child process through the shell, as a user runs it: its exit status and
// everything it printed (stdout and stderr together).
#pragma once

#include <sys/wait.h>

#include <cstdio>
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

}  // namespace tilescale::testing
