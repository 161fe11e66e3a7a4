#include "support/python_module.h"

#include <algorithm>
#include <cstdio>
#include <sstream>

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


namespace fs = std::filesystem;

std::vector<fs::path> directory_entries_matching(const fs::path& dir, const std::regex& re) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    if (std::regex_match(it->path().filename().string(), re)) out.push_back(it->path());
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::pair<fs::path, std::string>> python_site_packages(const std::function<const char*(const char*)>& getenv) {
  std::vector<std::pair<fs::path, std::string>> out;
  const std::regex python("python3(\\.[0-9]+)?"), versioned("python3\\.[0-9]+");
  auto add_each_version = [&](const fs::path& lib, const char* leaf, const std::string& found_by) {
    for (const auto& dir : directory_entries_matching(lib, versioned)) out.emplace_back(dir / leaf, found_by);
  };
  const char* path = getenv("PATH");
  std::stringstream entries(path ? path : "");
  for (std::string entry; std::getline(entries, entry, ':');) {
    if (entry.empty()) continue;
    const std::vector<fs::path> pythons = directory_entries_matching(entry, python);
    if (pythons.empty()) continue;
    const fs::path prefix = fs::path(entry) / "..";
    const std::string found_by = "the site-packages of " + pythons.front().string();
    add_each_version(prefix / "lib", "site-packages", found_by);
    add_each_version(prefix / "lib", "dist-packages", found_by);
    out.emplace_back(prefix / "lib/python3/dist-packages", found_by);
    add_each_version(prefix / "local/lib", "dist-packages", found_by);
  }
  if (const char* home = getenv("HOME"); home && *home)
    add_each_version(fs::path(home) / ".local/lib", "site-packages", "the user site-packages (~/.local)");
  return out;
}

}  // namespace tilescale
