#include "support/python_module.h"

#include <cstdio>

namespace tilescale {

std::string python_module_dir(const std::string& module) {
  const std::string command = "python3 -c 'import " + module + "; print(" + module + ".__path__[0])' 2>/dev/null";
  FILE* p = popen(command.c_str(), "r");
  if (!p) return "";
  char buf[4096];
  std::string out;
  while (std::fgets(buf, sizeof buf, p)) out += buf;
  pclose(p);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

}  // namespace tilescale
