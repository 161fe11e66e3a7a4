#include "jit/nvshmem_installation.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <utility>

#include "support/python_module.h"
#include "tilescale/errors.h"

namespace tilescale::jit {

using tilescale::detail::cat;
namespace fs = std::filesystem;

namespace {

const char* const kWheelRemedy = "install the pip wheel: python3 -m pip install nvidia-nvshmem-cu13";

std::string join(const std::vector<std::string>& items, const char* sep = ", ") {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : sep) + s;
  return out;
}

bool is_there(const fs::path& p) {
  std::error_code ec;
  return fs::exists(p, ec);
}

// The value of `#define <name> <number>` in `text`, or -1.
int defined_number(const std::string& text, const std::string& name) {
  std::smatch m;
  if (!std::regex_search(text, m, std::regex("#define[ \t]+" + name + "[ \t]+([0-9]+)"))) return -1;
  return std::stoi(m[1]);
}

// Fills `found` from `root` and returns what `root` lacks (empty when it is a usable installation).
std::vector<std::string> probe(const fs::path& root, NvshmemInstallation& found) {
  std::vector<std::string> missing;
  found.root = root.string();
  found.include_dir = (root / "include").string();
  if (!is_there(root / "include/nvshmem.h")) missing.push_back("include/nvshmem.h");

  const fs::path headers[] = {root / "include/non_abi/nvshmem_version.h", root / "include/nvshmem_version.h"};
  const auto header = std::find_if(std::begin(headers), std::end(headers), [](const fs::path& p) { return is_there(p); });
  if (header == std::end(headers)) {
    missing.push_back("include/non_abi/nvshmem_version.h");
  } else {
    std::ifstream in(*header);
    std::stringstream text;
    text << in.rdbuf();
    const int major = defined_number(text.str(), "NVSHMEM_VENDOR_MAJOR_VERSION");
    const int minor = defined_number(text.str(), "NVSHMEM_VENDOR_MINOR_VERSION");
    const int patch = defined_number(text.str(), "NVSHMEM_VENDOR_PATCH_VERSION");
    if (major < 0 || minor < 0 || patch < 0)
      missing.push_back(cat("NVSHMEM_VENDOR_MAJOR/MINOR/PATCH_VERSION in ", fs::relative(*header, root).string()));
    else
      found.version = cat(major, ".", minor, ".", patch);
  }

  const fs::path lib = root / "lib";
  int host_abi = -1;  // the N of libnvshmem_host.so.N; 0 for a bare libnvshmem_host.so
  for (const auto& p : directory_entries_matching(lib, std::regex("libnvshmem_host\\.so(\\.[0-9]+)?"))) {
    const std::string ext = p.filename().string().substr(std::string("libnvshmem_host.so").size());
    const int n = ext.empty() ? 0 : std::stoi(ext.substr(1));
    if (n > host_abi) host_abi = n, found.host_library = p.string();
  }
  if (found.host_library.empty()) missing.push_back("lib/libnvshmem_host.so.N");

  if (is_there(lib / "libnvshmem_device.a")) found.device_archive = (lib / "libnvshmem_device.a").string();
  if (is_there(lib / "libnvshmem_device.bc")) found.device_bitcode = (lib / "libnvshmem_device.bc").string();
  for (const auto& p : directory_entries_matching(lib, std::regex("libnvshmem_device_sm_[0-9]+\\.bc"))) {
    const std::string name = p.filename().string();
    found.device_bitcode_sms.push_back(std::stoi(name.substr(std::string("libnvshmem_device_sm_").size())));
  }
  std::sort(found.device_bitcode_sms.begin(), found.device_bitcode_sms.end());
  if (found.device_archive.empty() && found.device_bitcode.empty() && found.device_bitcode_sms.empty())
    missing.push_back("device library (lib/libnvshmem_device.a, .bc or _sm_XX.bc)");
  return missing;
}

}  // namespace

NvshmemSearch find_nvshmem_from(const std::function<const char*(const char*)>& getenv,
                                const std::function<std::string(const std::string&)>& python_module_dir) {
  NvshmemInstallation found;
  if (const char* home = getenv("NVSHMEM_HOME"); home && *home) {
    const std::vector<std::string> missing = probe(fs::path(home).lexically_normal(), found);
    found.found_by = "NVSHMEM_HOME";
    if (missing.empty()) return {found, ""};
    const std::string lacks = is_there(home) ? "has no " + join(missing, ", no ") : "does not exist";
    return {std::nullopt, cat("NVSHMEM_HOME=", home, " ", lacks,
                              "; point NVSHMEM_HOME at an NVSHMEM installation (the directory holding include/ and "
                              "lib/), or unset it and ", kWheelRemedy)};
  }
  std::vector<std::string> searched, passed_over;
  std::set<fs::path> seen;
  auto try_place = [&](const fs::path& dir, const std::string& found_by) {
    std::error_code ec;
    const fs::path root = fs::canonical(dir, ec);
    if (ec || !seen.insert(root).second) return false;
    found = NvshmemInstallation{};
    const std::vector<std::string> missing = probe(root, found);
    found.found_by = found_by;
    if (missing.empty()) return true;
    passed_over.push_back(cat(root.string(), " (it has no ", join(missing, ", no "), ")"));
    return false;
  };
  for (const auto& [dir, found_by] : python_site_packages(getenv)) {
    if (!is_there(dir)) continue;
    searched.push_back(fs::weakly_canonical(dir).string());
    if (try_place(dir / "nvidia/nvshmem", found_by)) return {found, ""};
  }
  if (const std::string dir = python_module_dir("nvidia.nvshmem"); !dir.empty())
    if (try_place(dir, "python3 -c 'import nvidia.nvshmem'")) return {found, ""};
  const std::string where = searched.empty() ? "no site-packages beside a python3 on PATH or in ~/.local"
                                             : "searched " + join(searched);
  const std::string incomplete = passed_over.empty() ? "" : "; passed over the incomplete " + join(passed_over);
  return {std::nullopt, cat("NVSHMEM_HOME is not set and no python3 on PATH has the pip wheel nvidia-nvshmem-cu13 (or "
                            "-cu12) (",
                            where, incomplete, "); set NVSHMEM_HOME to an NVSHMEM installation, or ", kWheelRemedy)};
}

const NvshmemSearch& find_nvshmem() {
  static const NvshmemSearch search =
      find_nvshmem_from([](const char* name) -> const char* { return std::getenv(name); }, python_module_dir);
  return search;
}

std::string nvshmem_device_bitcode(const NvshmemInstallation& nvshmem, const std::string& arch) {
  std::smatch m;
  TS_ICHECK(std::regex_match(arch, m, std::regex("sm_([0-9]+)[a-z]?")), "not an architecture: '", arch, "'");
  if (!nvshmem.device_bitcode.empty()) return nvshmem.device_bitcode;
  const int sm = std::stoi(m[1]);
  int best = -1;
  std::vector<std::string> shipped;
  for (int s : nvshmem.device_bitcode_sms) {
    if (s <= sm) best = s;
    shipped.push_back(cat("sm_", s));
  }
  if (best >= 0) return cat(nvshmem.root, "/lib/libnvshmem_device_sm_", best, ".bc");
  const std::string has = shipped.empty() ? "ships no device bitcode"
                                          : "ships device bitcode for " + join(shipped) + " only";
  throw RuntimeError(cat("cannot link NVSHMEM's device library for ", arch, " because NVSHMEM ", nvshmem.version, " at ",
                         nvshmem.root, " ", has,
                         "; compile for an architecture it ships, or use an NVSHMEM installation that ships "
                         "lib/libnvshmem_device.bc or lib/libnvshmem_device_sm_XX.bc for ",
                         arch));
}

std::string describe(const NvshmemInstallation& nvshmem) {
  std::vector<std::string> parts = {"from " + nvshmem.found_by,
                                    "host library " + fs::path(nvshmem.host_library).filename().string()};
  if (!nvshmem.device_archive.empty()) parts.push_back("device library libnvshmem_device.a");
  if (!nvshmem.device_bitcode.empty()) parts.push_back("device bitcode libnvshmem_device.bc for every arch");
  std::vector<std::string> sms;
  for (int s : nvshmem.device_bitcode_sms) sms.push_back(cat("sm_", s));
  if (!sms.empty()) parts.push_back("device bitcode for " + join(sms));
  return cat(nvshmem.version, " at ", nvshmem.root, " (", join(parts, "; "), ")");
}

}  // namespace tilescale::jit
