// Device builtins: the functions of the device headers (device/tilescale/*.h) that thread-level IR
// calls, one registry of what each one is.
//
// In thread-level IR (design/thread-level-ir.md §2) a device call is `Evaluate(Builtin)` with op
// `tl.<name>`, its template arguments in BuiltinNode::targs and its operands as arguments, memory
// operands as a Load of the first element meant, destination first:
//
//   T.tl.cp_async[16](A_shared[s, r, c], A[by * 128 + r, k * 32 + c], p)
//   T.tl.gemm_ss[128, 128, 32, 2, 2, False, False, "float16", "float32"](A_shared[s, 0, 0], B_shared[s, 0, 0], C_local[0])
//
// A DeviceBuiltin says what the call is to the passes that place, pipeline and synchronize it:
// its template signature, the role of each operand, who executes it, which proxy its memory
// accesses go through, how it synchronizes, and, for an asynchronous operation, its family and its
// step in it (issue, commit, wait), so that an async group needs no IR node of its own. Passes ask
// these properties, never names; the code generator asks the C++ name and header.
//
//   const DeviceBuiltin& d = device_builtin(call.op);
//   if (d.async == AsyncFamily::CpAsync && d.step == AsyncStep::Wait) ...   // not `call.op == "tl.cp_async_wait"`
//
// The entries are the device functions the generator emits today (src/codegen/cuda, src/ops);
// tests/unit/test_device_builtins.cc checks them against the headers and against what the
// generator emits.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "ir/IR.h"

namespace tilescale::ops {

// The kind of a template parameter, and so of the BuiltinNode::targs entry that fills it (in the
// order of ir::TemplateArg's alternatives).
enum class TemplateParam { Int, Bool, Type };

// What an operand (an argument of the call) is.
//   MemoryRead   a Load naming the first element read (shared or global memory)
//   MemoryWrite  a Load naming the first element written
//   Mbarrier     a Load naming an mbarrier (a Shared uint64 element)
//   Registers    a Load naming the first element of a Local register array, read and written
//   Value        an expression passed by value (a count, a parity, a predicate)
enum class OperandRole { MemoryRead, MemoryWrite, Mbarrier, Registers, Value };

// Who executes a call.
//   Thread     each thread that reaches it, on its own behalf
//   OneThread  one thread on the block's behalf (the IR selects it: `if tx == 0`, elect_one)
//   Warp       all 32 lanes of a warp together (.sync.aligned; named barriers count whole warps)
//   Warpgroup  the 128 threads of a warpgroup together
//   Block      every thread of the block, or of its warp role, together
enum class Executor { Thread, OneThread, Warp, Warpgroup, Block };

// Which proxy the call's memory operands are accessed through. Shared memory written through the
// generic proxy must be fenced (a Fence below) before an Async call reads it.
enum class Proxy { Generic, Async };

// How a call synchronizes threads or proxies.
//   Barrier  waits until the participating threads arrive (__syncthreads, a named barrier)
//   Arrive   arrives without waiting (a named barrier's or an mbarrier's arrival)
//   Fence    orders memory between proxies (fence_proxy_async, fence_mbarrier_init)
enum class Sync { None, Barrier, Arrive, Fence };

// Asynchronous operations: an Issue starts one whose effects land later; a Commit closes the
// thread's open group (or arms the mbarrier the issues report to); a Wait returns once groups (or
// the mbarrier's phase) completed. A call of family None has finished its effects on return.
enum class AsyncFamily { None, CpAsync, Wgmma, BulkStore, MbarrierTx };
enum class AsyncStep { None, Issue, Commit, Wait };

struct DeviceBuiltin {
  const char* name;    // the IR op: "tl.gemm_ss"
  const char* cpp;     // "tl::gemm_ss"; with `rank_suffix`, "tl::tma_load" stands for tl::tma_load_2d...
  bool rank_suffix;    // the C++ name ends in _<rank>d, the rank of the global memory operand (1..5)
  const char* header;  // "tilescale/gemm_sm80.h"; null for CUDA's own (__syncthreads, __syncwarp)
  int min_sm;          // 80 or 90
  bool arch_specific;  // needs the sm_90a target (setmaxnreg)
  std::vector<TemplateParam> targs;
  std::vector<OperandRole> operands;
  bool returns_value;  // an expression (elect_one, the reductions' values: device_value); else an Evaluate
  Executor executor;
  Proxy proxy;
  Sync sync;
  AsyncFamily async;
  AsyncStep step;
};

// The entry of IR op `name` ("tl.gemm_ss"); InternalError when none.
const DeviceBuiltin& device_builtin(std::string_view name);
// The same, or null when `name` is not a device builtin (a language builtin, src/ops/builtin.h).
const DeviceBuiltin* find_device_builtin(std::string_view name);
// InternalError unless `call` fills the template parameters and operands of its entry (a pass built
// it wrong): the verifier's check of device calls.
void check_device_call(const ir::BuiltinNode& call);
// A statement that calls device builtin `name`: Evaluate(Builtin) with its operands, template
// arguments and attrs.
ir::Stmt device_call(const char* name, std::vector<ir::Expr> operands = {}, std::vector<ir::TemplateArg> targs = {}, ir::Attrs attrs = {});
// A buffer as a device call's memory or register operand: a Load of its first element.
ir::Expr first_element(const ir::Buffer& b);
// A barrier over the threads that run the statement: __syncthreads, or inside a warp role the
// role's named barrier (as the generator prints `tl.syncthreads` there).
ir::Stmt block_barrier();
// An expression that calls value-returning device builtin `name` (returns_value), of dtype `t`.
ir::Expr device_value(DataType t, const char* name, std::vector<ir::Expr> operands = {}, std::vector<ir::TemplateArg> targs = {});
// Every entry, in registry order.
const std::vector<DeviceBuiltin>& device_builtins();
// The entries of `family` that take `step`: what issues, commits or waits for its groups.
std::vector<const DeviceBuiltin*> async_builtins(AsyncFamily family, AsyncStep step);
// The C++ function a call of `d` names: "tl::gemm_ss", or for a rank-suffixed one "tl::tma_load_2d"
// with rank 2.
std::string cpp_name(const DeviceBuiltin& d, int rank = 0);

}  // namespace tilescale::ops
