// Builtins: the distributed operators of the language, as ir::BuiltinNode calls.
//
// A builtin is an expression with effects (IR.h, "Effects"): it may read or write this rank's or a
// peer's memory with given memory-ordering semantics, wait, synchronise, or depend on the thread
// that evaluates it. Each is defined once (a BuiltinDef), in the file of its family:
//
//   dist_rank.cc        get_rank, get_num_ranks
//   dist_ld_st.cc       ld, st (weak/volatile/relaxed/acquire/release, cta/gpu/sys scope, 2-16 bytes)
//   dist_wait.cc        wait_eq, wait_ne, wait_ge, wait_le, wait_gt, wait_lt
//   dist_atom_add.cc    atom_add
//   dist_fence.cc       fence_cta, fence_gpu, fence_sys
//   dist_barrier.cc     barrier_blocks, sync_blocks (cross-rank), sync_grid (the blocks of a kernel)
//   dist_warp.cc        warp_any, warp_all, shuffle_elect, sync_warp
//   dist_copy.cc        put_warp, get_warp, put_block, get_block
//   nvshmem_rma.cc      putmem{,_nbi}{,_warp,_block}, getmem{,_nbi}{,_warp,_block}, int_p
//   nvshmem_signal.cc   putmem_signal{,_nbi}{,_warp,_block}, signal_op, signal_wait_until
//   nvshmem_sync.cc     quiet, fence, barrier_all{,_block,_warp}, sync_all{,_block,_warp}
//
// A definition says who executes the builtin (its scope, below), which arguments are memory
// operands (Loads naming the element meant), what a well-formed use is (verify: CompileError naming
// the op and the buffer), how the CPU backend runs it (run_cpu, with the sim transport for ranks,
// remote addresses and waits), and the CUDA expression it becomes (lower_cuda; device code in
// device/tilescale/dist.h, and for the NVSHMEM-level builtins in device/tilescale/dist_shmem.h, or
// NVSHMEM's device calls, through nvshmem_calls.h's wrappers, when the target asks for them:
// cuda::Target::nvshmem_calls). Every builtin the language exposes lowers on both backends.
//
// Ranks and remote addresses. A `pe` argument names a rank; -1 (or the own rank) means this rank.
// A memory operand accessed on another rank must be a global tensor in the symmetric heap: its
// address there is base[pe] + (address - base[me]) (src/codegen/cuda/kernel_spec.h describes the
// table on CUDA; the sim transport translates between its per-rank heaps).
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "ops/lower_context.h"
#include "ir/IR.h"

namespace tilescale::sim {
class Participant;
struct RankView;
}  // namespace tilescale::sim

namespace tilescale::ops {

// Who executes a builtin.
//   Uniform  any thread, with the same result for all (get_rank, waits, fences): allowed anywhere;
//            the CPU backend runs it once in block-uniform code.
//   Thread   each thread that reaches it (ld, st, atom_add, putmem...): in block-uniform code every
//            thread of the block (the CPU backend runs such a statement once per thread), in a
//            T::Parallel loop once per element.
//   Warp     each warp that reaches it, all 32 lanes together with the same arguments (put_warp,
//            putmem_warp, warp_any...); not inside T::Parallel. The CPU backend runs a warp
//            builtin that returns nothing once per warp, when the warp's lane 0 reaches it.
//   Block    the whole block together, in block-uniform code only (put_block, barrier_blocks...).
enum class BuiltinScope { Uniform, Thread, Warp, Block };

// A memory operand as the CPU backend sees it: the element's address in this rank's memory.
struct CpuAddress {
  std::byte* data = nullptr;
  std::int64_t elements = 0;  // elements from `data` to the end of its buffer (for counts)
  const ir::BufferNode* buffer = nullptr;
  std::string text;  // the operand as written, "flag[0]"
};

// A builtin's result on the CPU backend (integers in i, floats in f).
struct CpuValue {
  std::int64_t i = 0;
  double f = 0;
};

// One evaluation of a builtin on the CPU backend: its arguments (evaluated on request) and where
// it runs.
class BuiltinCpuCall {
 public:
  virtual ~BuiltinCpuCall() = default;
  virtual CpuAddress address(std::size_t arg) = 0;
  virtual std::int64_t int_arg(std::size_t arg) = 0;
  virtual double float_arg(std::size_t arg) = 0;
  // The argument as thread `thread` of the block evaluates it (warp votes read every lane's value).
  virtual std::int64_t int_arg_of_thread(std::size_t arg, std::int64_t thread) = 0;

  virtual const sim::RankView& rank() const = 0;
  // The block's participant in the simulation; waits go through it.
  virtual sim::Participant& participant() const = 0;
  virtual std::int64_t thread() const = 0;  // -1 in block-uniform code
  virtual std::array<std::int64_t, 3> block() const = 0;
  virtual std::array<std::int64_t, 3> grid() const = 0;
  virtual int threads() const = 0;
  virtual std::string where() const = 0;  // "in kernel k, rank 0, block (0, 0, 0), thread 3"
};

struct BuiltinDef {
  const char* name;
  BuiltinScope scope;
  bool returns_value;
  bool blocks;   // may wait for other blocks or ranks: the CPU backend runs every block on its own thread
  // An NVSHMEM-level builtin (the nvshmem_*.cc families): lowers to tl::dist's implementation over
  // the Context (dist_shmem.h), or, when the target calls NVSHMEM (cuda::Target::nvshmem_calls), to
  // the wrapper of NVSHMEM's device call of the same name (device/tilescale/nvshmem_calls.h).
  bool nvshmem;
  // Whether argument `arg` is a memory operand (a Load naming the element meant).
  bool (*is_address)(const ir::BuiltinNode& call, std::size_t arg);
  // CompileError when the call is malformed (dtypes, scopes, semantics, constant counts).
  void (*verify)(const ir::BuiltinNode& call);
  CpuValue (*run_cpu)(const ir::BuiltinNode& call, BuiltinCpuCall& cpu);
  // The C++ expression the call becomes (a void call for builtins without a result).
  std::string (*lower_cuda)(const ir::BuiltinNode& call, cuda::LowerContext& ctx);
};

// The definition of a registered builtin; InternalError for an unknown name.
const BuiltinDef& builtin(const std::string& name);
// Every registered builtin, in family order (tests walk them).
const std::vector<const BuiltinDef*>& all_builtins();

// Families, one per file; builtin.cc lists them.
const std::vector<BuiltinDef>& rank_builtins();
const std::vector<BuiltinDef>& ld_st_builtins();
const std::vector<BuiltinDef>& wait_builtins();
const std::vector<BuiltinDef>& atom_add_builtins();
const std::vector<BuiltinDef>& fence_builtins();
const std::vector<BuiltinDef>& barrier_builtins();
const std::vector<BuiltinDef>& warp_builtins();
const std::vector<BuiltinDef>& copy_builtins();
const std::vector<BuiltinDef>& nvshmem_rma_builtins();
const std::vector<BuiltinDef>& nvshmem_signal_builtins();
const std::vector<BuiltinDef>& nvshmem_sync_builtins();

// "T::put_block": the call as the user wrote it, for messages.
std::string user_name(const ir::BuiltinNode& call);

// Where a builtin call sits, for the placement rules of its scope (the verifier asks).
struct BuiltinPlace {
  bool in_parallel = false;       // inside a T::Parallel loop
  bool thread_dependent = false;  // under control flow that depends on the thread
  bool evaluated = false;         // the value of an Evaluate statement (its result dropped)
};
// CompileError when `call` is used wrongly, there (scope rules, then the definition's verify).
void verify_builtin(const ir::BuiltinNode& call, const BuiltinPlace& place);

// Thread- and warp-scope builtins give each thread (warp) its own value, like an expression of the
// thread index: the thread-level analysis (ops/thread_level.h) follows them.
// Whether a program calls builtins at all; blocking ones (the CPU backend then runs each block on
// its own thread); NVSHMEM-level ones.
bool uses_builtins(const ir::Stmt& s);
bool uses_blocking_builtins(const ir::Stmt& s);
bool uses_nvshmem_builtins(const ir::Stmt& s);

// ------------------------------------------------------------------------------------------------
// Shared by the definitions.

// Memory operand `arg` of `call`: its Load (InternalError when it is not one).
const ir::LoadNode& address_operand(const ir::BuiltinNode& call, std::size_t arg);
// CompileError unless memory operand `arg` is an element of a global tensor or (unless
// `global_only`) of a shared buffer. `role` names it in the message ("source", "flag").
void require_memory(const ir::BuiltinNode& call, std::size_t arg, bool global_only, const char* role);
// CompileError unless memory operand `arg` has dtype `t`.
void require_dtype(const ir::BuiltinNode& call, std::size_t arg, DataType t, const char* role);
// The string attribute `key` of `call`, checked against `allowed` (CompileError naming the legal
// values, with `why` saying what they are: "a load takes").
const std::string& checked_attr(const ir::BuiltinNode& call, const std::string& key,
                                const std::vector<std::string>& allowed, const char* why);
// CompileError unless `e` is an integer expression; `what` names it ("the rank", "the count").
void require_integer(const ir::BuiltinNode& call, const ir::Expr& e, const char* what);
// CompileError unless `n` is an integer byte count that is not a negative constant.
void require_byte_count(const ir::BuiltinNode& call, const ir::Expr& n);
// CPU: RuntimeError unless `pe` names a rank of the run (the sim would read -1 as this rank).
void check_peer(const ir::BuiltinNode& call, BuiltinCpuCall& cpu, std::int64_t pe);

// CUDA: the name of the kernel's distributed context parameter (kernel_spec.h) and C++ for a
// memory operand: a pointer to the element on this rank, or on rank `pe` (remote-base table).
inline constexpr const char* kCudaDistContext = "ts_dist";
std::string cuda_pointer(const ir::BuiltinNode& call, std::size_t arg, cuda::LowerContext& ctx);
std::string cuda_remote_pointer(const ir::BuiltinNode& call, std::size_t arg, const ir::Expr& pe, cuda::LowerContext& ctx);
// CUDA for a call of NVSHMEM-level builtin `call` with arguments `args` (C++ expressions): when the
// target calls NVSHMEM (cuda::Target::nvshmem_calls), the wrapper of NVSHMEM's device call,
// `ts_nvshmem_<op>(args)` (device/tilescale/nvshmem_calls.h); else tl::dist's own,
// `tl::dist::<op>(ts_dist, args)` (device/tilescale/dist_shmem.h).
std::string cuda_shmem_call(const ir::BuiltinNode& call, const cuda::LowerContext& ctx, const std::vector<std::string>& args);

// CPU: the bytes of `count` elements of memory operand `address` (RuntimeError naming the op when
// they run past the end of its buffer), and the same bytes on rank `pe`.
std::int64_t checked_bytes(const ir::BuiltinNode& call, BuiltinCpuCall& cpu, const CpuAddress& address, std::int64_t count);
std::byte* cpu_remote(const ir::BuiltinNode& call, BuiltinCpuCall& cpu, const CpuAddress& address, std::int64_t bytes,
                      std::int64_t pe);
// RuntimeError unless the operand's address is aligned to `bytes` (as the GPU requires).
void check_aligned(const ir::BuiltinNode& call, BuiltinCpuCall& cpu, const CpuAddress& address, int bytes);
// Memory accesses with semantics `sem` (weak, volatile, relaxed, acquire, release, acq_rel): 2, 4
// and 8 bytes go through std::atomic_ref with the matching C++ order unless weak (volatile reads as
// relaxed: the simulated memory is coherent), 16 bytes are copied after an acquire fence or before
// a release fence. Plain data (puts, gets) is copied without ordering.
void cpu_load(void* dst, const std::byte* src, int bytes, const std::string& sem);
void cpu_store(std::byte* dst, const void* src, int bytes, const std::string& sem);
std::memory_order cpu_order(const std::string& sem);
// A value as stored in `t` at `p`, its text, and a relation (eq, ne, ge, le, gt, lt) between two.
CpuValue cpu_read(DataType t, const void* p);
std::string cpu_text(DataType t, const CpuValue& v);
bool cpu_holds(const std::string& relation, DataType t, const CpuValue& v, const CpuValue& expected);
// Waits until the `t` at `p` (this rank's or a peer's memory, loaded with `sem`) stands in
// `relation` to `expected`; returns the value seen. `target` describes the location for reports
// ("flag[0] on rank 1").
CpuValue cpu_wait(const ir::BuiltinNode& call, BuiltinCpuCall& cpu, const std::byte* p, DataType t,
                  const std::string& relation, const CpuValue& expected, const std::string& sem, const std::string& target);
// "flag[0]" or "flag[0] on rank 1".
std::string cpu_target(const CpuAddress& a, std::int64_t pe, const BuiltinCpuCall& cpu);

}  // namespace tilescale::ops
