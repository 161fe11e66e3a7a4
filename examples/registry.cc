#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <limits>
#include <set>
#include <string_view>

#include "examples_list.h"

namespace tilescale::examples {

const std::vector<Example>& all_examples() {
  static const std::vector<Example> examples = {
      gemm_example(),
      gemm_relu_example(),
      softmax_example(),
      layernorm_example(),
      elementwise_add_example(),
      transpose_example(),
      flash_attention_example(),
      masked_scale_example(),
  };
  return examples;
}

const Example* find_example(const std::string& name) {
  for (const Example& e : all_examples())
    if (e.name == name) return &e;
  return nullptr;
}

namespace {

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
    throw RuntimeError(detail::cat("cannot parse sizes \"", spec, "\" because the value of ", what, " (\"", s,
                                   "\") is not a non-negative integer; write e.g. M=256,N=128"));
  if (errno == ERANGE)
    throw RuntimeError(detail::cat("cannot parse sizes \"", spec, "\" because the value of ", what, " (", s,
                                   ") does not fit in 64 bits; sizes go up to ",
                                   std::numeric_limits<std::int64_t>::max()));
  return v;
}

std::string size_names(const Sizes& sizes) {
  std::string out;
  for (const auto& [name, value] : sizes) out += (out.empty() ? "" : ", ") + name;
  return out.empty() ? std::string("no names (it takes no sizes)") : out;
}

}  // namespace

Sizes parse_sizes(const std::string& spec, const Sizes& base) {
  Sizes sizes = base;
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
      throw RuntimeError(detail::cat("cannot parse sizes \"", spec, "\" because \"", item,
                                     "\" is not of the form NAME=VALUE; write e.g. M=256,N=128"));
    std::string name(trim(item.substr(0, eq)));
    if (!sizes.count(name))
      throw RuntimeError(detail::cat("cannot set size ", name, " because this example has no such size; use ",
                                     size_names(base)));
    if (!given.insert(name).second)
      throw RuntimeError(detail::cat("cannot parse sizes \"", spec, "\" because it sets ", name,
                                     " more than once; give each size once"));
    sizes[name] = parse_value(item.substr(eq + 1), spec, name);
  }
  return sizes;
}

std::string format_sizes(const Sizes& sizes) {
  std::string out;
  for (const auto& [name, value] : sizes) {
    if (!out.empty()) out += ' ';
    out += name + "=" + std::to_string(value);
  }
  return out;
}

}  // namespace tilescale::examples
