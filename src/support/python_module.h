// Where the pythons of this machine keep packages, and where the python3 on PATH finds one: the last resort of the searches for NVIDIA's wheels
// (NVSHMEM's headers, NCCL's library) when their site-packages cannot be found on the file system.
#pragma once

#include <filesystem>
#include <functional>
#include <regex>
#include <string>
#include <utility>
#include <vector>

namespace tilescale {

// `module.__path__[0]` as `python3 -c 'import <module>'` sees it; "" when python3 is missing or
// cannot import it. Runs a python3 process: call it only when nothing cheaper found the package.
std::string python_module_dir(const std::string& module);

// The site-packages directories where a wheel may be, each with how it was found ("the
// site-packages of /usr/bin/python3", "the user site-packages (~/.local)"), in search order: for
// each PATH entry (read through `getenv`) holding a python3, <entry>/../lib/python3.*/site-packages
// and dist-packages, <entry>/../lib/python3/dist-packages and <entry>/../local/lib/python3.*/
// dist-packages (Debian's pip as root); then ~/.local/lib/python3.*/site-packages. Runs no python.
std::vector<std::pair<std::filesystem::path, std::string>> python_site_packages(
    const std::function<const char*(const char*)>& getenv);

// The entries of `dir` whose whole name matches `re`, in name order; none when `dir` cannot be read.
std::vector<std::filesystem::path> directory_entries_matching(const std::filesystem::path& dir, const std::regex& re);

}  // namespace tilescale
