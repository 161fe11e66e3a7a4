// The example programs: each builds a tile program for given sizes, runs it on random inputs and
// checks it against a plain C++ reference. The CLI (`tilescale run/dump/list`) and the tests use
// this registry; examples/registry.cc lists them in order.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "tilescale/tilescale.h"

namespace tilescale::examples {

using Sizes = std::map<std::string, std::int64_t>;

struct CheckResult {
  double max_relative_error = 0;  // tilescale::max_relative_error over the outputs
  double tolerance = 0;           // pass when max_relative_error <= tolerance
  bool passed() const { return max_relative_error <= tolerance; }
};

struct Example {
  std::string name;
  std::string description;
  Sizes default_sizes;  // what `tilescale run <name>` uses; every size the example reads is here
  Sizes test_sizes;     // small, with at least one dimension that is not a multiple of the tile
                        // where the example supports that
  std::function<lang::PrimFunc(const Sizes&)> build;
  // Makes fresh random inputs (from `seed`), poisons the outputs, calls `kernel`, computes the
  // reference with plain loops and compares.
  std::function<CheckResult(const Kernel& kernel, const Sizes& sizes, std::uint64_t seed)> check;
};

const std::vector<Example>& all_examples();
const Example* find_example(const std::string& name);  // null when unknown

// `base` overridden by "M=256,N=128", or by one number for every problem dimension ("512": the
// sizes named by a single capital letter; knobs such as BM or stages and flags keep their values).
// RuntimeError naming the item for a value that is not a non-negative integer of 64 bits, an
// unknown name, or a name given twice.
Sizes parse_sizes(const std::string& spec, const Sizes& base);
std::string format_sizes(const Sizes& sizes);  // "K=256 M=256 N=256"

}  // namespace tilescale::examples
