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

using Sizes = ProgramSizes;  // tilescale/programs.h

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

// Registers every example as a program (tilescale/programs.h) under its name, with its default
// sizes, so that compile_program and the C ABI's ts_program_create reach it. The first call in a
// process registers them; later calls do nothing. libtilescale_capi.so calls it when it is loaded.
void register_example_programs();

// The library's size parser and printer (tilescale/programs.h), which every example's sizes go through.
using tilescale::format_sizes;
using tilescale::parse_sizes;

}  // namespace tilescale::examples
