#include "jit/nvcc.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <mutex>
#include <sstream>

#include "jit/cache.h"
#include "tilescale/errors.h"

extern char** environ;

namespace tilescale::jit {

using tilescale::detail::cat;
namespace fs = std::filesystem;

namespace {

bool is_executable(const std::string& p) { return !p.empty() && ::access(p.c_str(), X_OK) == 0; }

// Runs argv[0] with stdout and stderr into `log_path`; returns the exit status (-1 when it could
// not be started or did not exit normally).
int run(const std::vector<std::string>& argv, const std::string& log_path) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  pid_t pid = 0;
  const int err = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (err != 0) return -1;
  int status = 0;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void write_text(const fs::path& p, std::string_view text) {
  fs::create_directories(p.parent_path());
  std::ofstream out(p, std::ios::binary);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  if (!out) throw RuntimeError(cat("cannot write ", p.string(), " for nvcc"));
}

// A fresh private directory, removed with everything in it when this goes out of scope.
struct TempDir {
  fs::path path;
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "tilescale-nvcc-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw RuntimeError("cannot create a temporary directory for nvcc");
    path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

}  // namespace

std::string nvcc_path() {
  if (const char* p = std::getenv("TILESCALE_NVCC"); p && *p) return p;
  for (const char* env : {"CUDA_HOME", "CUDA_PATH"})
    if (const char* root = std::getenv(env); root && *root)
      if (std::string p = cat(root, "/bin/nvcc"); is_executable(p)) return p;
  if (is_executable("/usr/local/cuda/bin/nvcc")) return "/usr/local/cuda/bin/nvcc";
  if (const char* path = std::getenv("PATH")) {
    std::stringstream ss(path);
    std::string dir;
    while (std::getline(ss, dir, ':'))
      if (std::string p = dir + "/nvcc"; !dir.empty() && is_executable(p)) return p;
  }
  return "";
}

std::string nvcc_version() {
  static std::mutex mu;
  static std::map<std::string, std::string> cached;  // by nvcc path
  const std::string nvcc = nvcc_path();
  if (nvcc.empty()) throw CompileError("cannot compile with nvcc (TILESCALE_JIT=nvcc) because no nvcc was found; set CUDA_HOME or TILESCALE_NVCC");
  std::lock_guard<std::mutex> lock(mu);
  if (auto it = cached.find(nvcc); it != cached.end()) return it->second;
  TempDir dir;
  const std::string log = (dir.path / "version.txt").string();
  if (run({nvcc, "--version"}, log) != 0) throw CompileError(cat("cannot run ", nvcc, " --version"));
  std::string text = read_text(log);
  while (!text.empty() && text.back() == '\n') text.pop_back();
  return cached[nvcc] = text;
}

std::string nvcc_include_dir() {
  const std::string nvcc = nvcc_path();
  if (nvcc.empty()) return "";
  std::error_code ec;
  const fs::path bin = fs::canonical(nvcc, ec);
  const fs::path include = (ec ? fs::path(nvcc) : bin).parent_path().parent_path() / "include";
  return fs::is_directory(include, ec) ? include.string() : "";
}

std::vector<std::string> nvcc_fixed_options(const std::string& arch) {
  const bool ptx_only = arch.rfind("compute_", 0) == 0;
  return {ptx_only ? "-ptx" : "-cubin", "-arch=" + arch, "-std=c++17"};
}

CompiledBinary compile_nvcc(const std::string& source, const std::string& name, const std::string& arch,
                            const std::vector<std::string>& options) {
  const std::string nvcc = nvcc_path();
  if (nvcc.empty()) throw CompileError("cannot compile with nvcc (TILESCALE_JIT=nvcc) because no nvcc was found; set CUDA_HOME or TILESCALE_NVCC");
  const bool ptx_only = arch.rfind("compute_", 0) == 0;

  TempDir dir;
  std::string file = name;  // the kernel's name in nvcc's messages, never a path
  for (char& c : file)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') c = '_';
  const fs::path src = dir.path / (file + ".cu");
  const fs::path bin = dir.path / (ptx_only ? "kernel.ptx" : "kernel.cubin");
  const fs::path log = dir.path / "nvcc.log";
  write_text(src, source);
  for (const auto& h : device_headers()) write_text(dir.path / "include" / std::string(h.include_name), h.contents);

  std::vector<std::string> argv = {nvcc};
  for (const auto& o : nvcc_fixed_options(arch)) argv.push_back(o);
  argv.push_back("-I" + (dir.path / "include").string());
  for (const auto& o : options)
    if (o != "-default-device" && o != "--device-as-default-execution-space") argv.push_back(o);
  argv.insert(argv.end(), {"-o", bin.string(), src.string()});

  const int status = run(argv, log.string());
  CompiledBinary out;
  out.log = read_text(log);
  while (!out.log.empty() && out.log.back() == '\n') out.log.pop_back();
  if (status != 0) {
    std::string command;
    for (const auto& a : argv) command += (command.empty() ? "" : " ") + a;
    const std::string saved = save_failed_compile(source, "command: " + command, out.log);
    throw CompileError(failed_compile_message("nvcc", name, arch, saved,
                                              status < 0 ? cat("could not run ", nvcc, "\n", out.log) : out.log));
  }
  const std::string binary = read_text(bin);
  if (ptx_only)
    out.ptx = binary;
  else
    out.cubin.assign(binary.begin(), binary.end());
  return out;
}

}  // namespace tilescale::jit
