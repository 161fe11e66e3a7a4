// Printing the IR as TileLang-like text.
//
// The text reads like the TileLang program that would build the same IR, and it is stable: tests
// compare it verbatim, and the pass dumps diff it. For example
//
//   @T.prim_func
//   def scale(A: T.Tensor((N,), "float32")):
//       with T.Kernel((N + 127) / 128, 1, 1, threads=128) as (bx, by, bz):
//           A_local = T.alloc_fragment((128,), "float32")
//           T.copy(A[bx * 128 : +128], A_local)
//           for i in T.Parallel(128):
//               A[bx * 128 + i] = A_local[i] * 0.5
//
// Conventions:
//  * Indentation is 4 spaces. An empty statement list prints as `pass`.
//  * A Region prints as `buf[base : +extent, ...]`, or as just `buf` when it covers the whole buffer.
//  * A TileOp prints as `T.<op>(regions..., args..., key=value...)`, attributes in key order (an
//    integer list as `[1, 2]`); a Builtin call as `T.<op>(args..., key=value...)` (a memory operand
//    prints as the element it names, `flag[0]`), its template arguments, if any, in brackets after
//    the name (`T.tl.gemm_ss[128, 2, False, "float16"](A_shared[0, 0], ...)`); an Evaluate
//    statement as its call alone.
//  * Loops print as `T.serial(extent)` / `T.serial(min, min + extent)` (likewise `T.unroll`,
//    `T.Parallel`), `T.Pipelined(extent, num_stages=S, order=[...], stage=[...])`. Directly nested
//    Parallel loops from 0 print as one `for i, j in T.Parallel(m, n):` line.
//  * A Kernel whose body mentions its thread variable opens with `tx = T.get_thread_binding()`.
//  * A Scoped statement prints as `with T.<key>(key=value...):` above its body.
//  * `T.device_assert(cond, "msg")`, `T.print(value_or_buffer, msg="...")`,
//    `T.annotate_layout({buf: <Layout::to_string()>})`, `T.use_swizzle(panel_size=8, order="row")`;
//    an annotation of another key prints as `T.annotate("key", buf, attrs...)`.
//  * Expressions use C operator precedence with the fewest parentheses; `&&`, `||` print as `and`,
//    `or`; min, max, floordiv, floormod, select, casts and intrinsics print as `T.` calls.
//  * Immediates: int32 plain (`5`), other integers `T.int64(5)`, bool `True`/`False`, float32 as the
//    shortest decimal that reads back to the same value (`0.5`, `1e-05`, `inf`), other floats
//    `T.float16(0.5)`.
//  * Names: distinct variables or buffers that share a name get suffixes `_1`, `_2`... in order of
//    first appearance, so every printed name denotes one object.
#pragma once

#include <functional>
#include <ostream>
#include <string>

#include "ir/IR.h"

namespace tilescale::ir {

std::string print(const PrimFunc& f);  // ends with a newline
// With a note per statement (empty for none), printed as a `# comment` at the end of its first
// line: `tilescale dump --thread-level` marks thread-level statements so.
using StmtNote = std::function<std::string(const StmtNode&)>;
std::string print(const PrimFunc& f, const StmtNote& note);
std::string print(const Stmt& s);      // one line per statement, each ending with a newline
std::string print(const Expr& e);
std::string print(const Region& r);

std::ostream& operator<<(std::ostream& os, const PrimFunc& f);
std::ostream& operator<<(std::ostream& os, const Stmt& s);
std::ostream& operator<<(std::ostream& os, const Expr& e);
// A Var would otherwise go to the standard library's shared_ptr overload and print an address.
std::ostream& operator<<(std::ostream& os, const Var& v);

}  // namespace tilescale::ir
