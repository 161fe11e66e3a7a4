// Programs by name: a process-wide registry of tile programs built from named sizes, so that code
// that knows only a name and a size string ("M=256,N=128") can compile them. The C ABI
// (tilescale/capi.h: ts_program_create) reaches a C++ engine's programs this way, from C, Rust, Go
// or Python's ctypes.
//
//   namespace T = tilescale::lang;
//   tilescale::register_program("scale", {{"N", 1024}}, [](const tilescale::ProgramSizes& s) {
//     const std::int64_t n = s.at("N");
//     return T::prim_func("scale", [&] {
//       auto A = T::Tensor("A", {n}, T::float32);
//       auto B = T::Tensor("B", {n}, T::float32);
//       T::Kernel(T::ceildiv(n, 128), T::threads(128), [&](T::Expr bx) {
//         T::Parallel(128, [&](T::Expr i) { T::If(bx * 128 + i < n, [&] { B(bx * 128 + i) = A(bx * 128 + i) * 2.0f; }); });
//       });
//     });
//   });
//   tilescale::Kernel k = tilescale::compile_program("scale", "N=4096", tilescale::Target::CPU);
//
// A builder receives the program's default sizes overridden by the caller's, so it reads every
// size it declared (s.at("N")) and no other. Registering, looking up and compiling are
// thread-safe; a builder runs outside the registry's lock, so it may itself look programs up.
// Programs stay registered until the process ends.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "tilescale/lang.h"
#include "tilescale/runtime.h"

namespace tilescale {

using ProgramSizes = std::map<std::string, std::int64_t>;
using ProgramBuilder = std::function<lang::PrimFunc(const ProgramSizes&)>;

// Registers `build` under `name`, with the sizes it takes and their default values.
// RuntimeError naming the program when the name is already registered, is empty or holds a comma
// (ts_program_names separates names with commas), or when `build` is empty.
void register_program(std::string name, ProgramSizes default_sizes, ProgramBuilder build);

// The registered names, sorted.
std::vector<std::string> program_names();

// The program's default sizes overridden by `spec` (parse_sizes). RuntimeError listing the
// registered names when there is no program called `name`, and parse_sizes' errors.
ProgramSizes program_sizes(const std::string& name, const std::string& spec = "");

// The program built at `sizes` (program_sizes' result): what its builder returns.
// RuntimeError as program_sizes for an unknown name, or naming the size when `sizes` lacks one of
// the program's sizes or has one it does not take.
lang::PrimFunc build_program(const std::string& name, const ProgramSizes& sizes);

// build_program(name, program_sizes(name, spec)), compiled for `target`.
Kernel compile_program(const std::string& name, const std::string& spec, Target target = Target::Auto);

// `base` overridden by "M=256,N=128" (items separated by commas or blanks), or by one number for
// every problem dimension ("512": the sizes named by a single capital letter; knobs such as BM or
// stages and flags keep their values). "" keeps `base`. RuntimeError naming the item for a value
// that is not a non-negative integer of 64 bits, a name `base` does not have, or a name given twice.
ProgramSizes parse_sizes(const std::string& spec, const ProgramSizes& base);
std::string format_sizes(const ProgramSizes& sizes);  // "K=256 M=256 N=256", which parse_sizes reads back

}  // namespace tilescale
