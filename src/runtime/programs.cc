#include "tilescale/programs.h"

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <limits>
#include <mutex>
#include <set>
#include <string_view>
#include <utility>

#include "tilescale/errors.h"

namespace tilescale {

using detail::cat;

namespace {

struct Program {
  ProgramSizes default_sizes;
  ProgramBuilder build;
};

struct Registry {
  std::mutex mutex;
  std::map<std::string, Program> programs;
};

// Built on first use and never destroyed, so that registering from another file's static
// initializer, or compiling from a thread still running at exit, finds it alive.
Registry& registry() {
  static Registry* r = new Registry;
  return *r;
}

Program find(const std::string& name) {
  Registry& r = registry();
  {
    std::lock_guard<std::mutex> lock(r.mutex);
    auto it = r.programs.find(name);
    if (it != r.programs.end()) return it->second;
  }
  const std::vector<std::string> names = program_names();
  if (names.empty())
    throw RuntimeError(cat("cannot build program '", name,
                           "' because no program is registered; register it first (tilescale::register_program)"));
  std::string list;
  for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
  throw RuntimeError(cat("cannot build program '", name, "' because no program of that name is registered; use one of: ",
                         list));
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::int64_t parse_value(std::string_view text, const std::string& spec, const std::string& what) {
  std::string s(trim(text));
  char* end = nullptr;
  errno = 0;
  long long v = s.empty() ? 0 : std::strtoll(s.c_str(), &end, 10);
  if (s.empty() || *end != '\0' || v < 0)
    throw RuntimeError(cat("cannot parse sizes \"", spec, "\" because the value of ", what, " (\"", s,
                           "\") is not a non-negative integer; write e.g. M=256,N=128"));
  if (errno == ERANGE)
    throw RuntimeError(cat("cannot parse sizes \"", spec, "\" because the value of ", what, " (", s,
                           ") does not fit in 64 bits; sizes go up to ", std::numeric_limits<std::int64_t>::max()));
  return v;
}

std::string size_names(const ProgramSizes& sizes) {
  std::string out;
  for (const auto& [name, value] : sizes) out += (out.empty() ? "" : ", ") + name;
  return out.empty() ? std::string("no names (it takes no sizes)") : out;
}

}  // namespace

void register_program(std::string name, ProgramSizes default_sizes, ProgramBuilder build) {
  if (name.empty()) throw RuntimeError("cannot register a program because its name is empty; give it a name");
  if (name.find(',') != std::string::npos)
    throw RuntimeError(cat("cannot register program '", name,
                           "' because its name holds a comma, which separates the names ts_program_names lists; "
                           "choose a name without one"));
  if (!build)
    throw RuntimeError(cat("cannot register program '", name, "' because its builder is empty; pass a function "
                           "that builds the program from its sizes"));
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  if (r.programs.count(name))
    throw RuntimeError(cat("cannot register program '", name,
                           "' because a program of that name is already registered; register each name once"));
  r.programs.emplace(std::move(name), Program{std::move(default_sizes), std::move(build)});
}

std::vector<std::string> program_names() {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  std::vector<std::string> names;
  for (const auto& [name, program] : r.programs) names.push_back(name);
  return names;
}

ProgramSizes program_sizes(const std::string& name, const std::string& spec) {
  return parse_sizes(spec, find(name).default_sizes);
}

lang::PrimFunc build_program(const std::string& name, const ProgramSizes& sizes) {
  const Program program = find(name);
  for (const auto& [size, value] : sizes)
    if (!program.default_sizes.count(size))
      throw RuntimeError(cat("cannot build program '", name, "' because it has no size ", size, "; its sizes are ",
                             size_names(program.default_sizes)));
  for (const auto& [size, value] : program.default_sizes)
    if (!sizes.count(size))
      throw RuntimeError(cat("cannot build program '", name, "' because size ", size,
                             " is missing; pass every one of its sizes (program_sizes gives them)"));
  return program.build(sizes);
}

Kernel compile_program(const std::string& name, const std::string& spec, Target target) {
  return compile(build_program(name, program_sizes(name, spec)), target);
}

ProgramSizes parse_sizes(const std::string& spec, const ProgramSizes& base) {
  ProgramSizes sizes = base;
  std::string_view all = trim(spec);
  if (all.empty()) return sizes;
  if (all.find('=') == std::string_view::npos) {
    // One number sets every problem dimension (single capital letters: M, N, K, S...), not the
    // tuning knobs and flags (BM, stages, causal...).
    std::int64_t v = parse_value(all, spec, "every dimension");
    for (auto& [name, value] : sizes)
      if (name.size() == 1 && std::isupper(static_cast<unsigned char>(name[0]))) value = v;
    return sizes;
  }
  // Items separated by commas or blanks, so that format_sizes' output parses back.
  std::set<std::string> given;
  std::size_t pos = 0;
  while (pos < all.size()) {
    std::size_t next = all.find_first_of(", \t", pos);
    if (next == std::string_view::npos) next = all.size();
    std::string_view item = trim(all.substr(pos, next - pos));
    pos = next + 1;
    if (item.empty()) continue;
    std::size_t eq = item.find('=');
    if (eq == std::string_view::npos)
      throw RuntimeError(cat("cannot parse sizes \"", spec, "\" because \"", item,
                             "\" is not of the form NAME=VALUE; write e.g. M=256,N=128"));
    std::string name(trim(item.substr(0, eq)));
    if (!sizes.count(name))
      throw RuntimeError(cat("cannot set size ", name, " because the program has no such size; use ", size_names(base)));
    if (!given.insert(name).second)
      throw RuntimeError(cat("cannot parse sizes \"", spec, "\" because it sets ", name,
                             " more than once; give each size once"));
    sizes[name] = parse_value(item.substr(eq + 1), spec, name);
  }
  return sizes;
}

std::string format_sizes(const ProgramSizes& sizes) {
  std::string out;
  for (const auto& [name, value] : sizes) {
    if (!out.empty()) out += ' ';
    out += name + "=" + std::to_string(value);
  }
  return out;
}

}  // namespace tilescale
