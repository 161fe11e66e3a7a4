// Benchmarks: tilescale against a peer in the same process, printed as one table.
//
// Timing (time_cuda): CUDA events around each run after warm-up runs, the L2 cache flushed before
// every timed run (a 256 MB memset: the H100 has 50 MB of L2), the median of the runs reported.
// Each row checks our result against the peer's (relative error) before it is timed.
//
//   tilescale bench gemm                 GEMM fp16/bf16 over the shape sweep vs cuBLAS
//   tilescale bench softmax|layernorm    vs the device-to-device copy bandwidth of the same bytes
//   tilescale bench gemm --compile       cold NVRTC compile, then the cached load in a new process
//   tilescale bench gemm --tune          autotune the gemm example per shape of the sweep, bench the winners
//   tilescale bench gemm --tune --size S autotune one shape over the full knob grid, bench the winner
//   tilescale bench gemm_fp8             fp8 e4m3 GEMM (4096³, 8192³; --quick: 8192³) vs cuBLASLt fp8
//   tilescale bench gemm_types           tf32 and int8 GEMM, operands K- or MN-major (4096³, 8192³;
//                                        --quick: 4096³) vs cuBLAS on the same storage
//
// The distributed benchmarks (bench/dist_harness.h: P ranks in one process on the local transport,
// --ranks P, default the number of GPUs if more than one, else 2; each run timed on every rank, the
// slowest counted; ranks sharing a GPU give correctness only, and the output says so; a case the
// machine cannot run, e.g. a launch whose waiting blocks cannot all be resident, prints as skipped
// with the reason; the exit status is 1 when a result was wrong):
//   tilescale bench allgather [--ranks P] [--size MiB;...] [--quick]
//                                        allgather_push/pull at 1 MiB..1 GiB per rank (--quick: 1, 64,
//                                        1024; ranks sharing a GPU: 1, 4, 16) vs ncclAllGather, bus GB/s
//   tilescale bench all_to_all [--ranks P] [--size T=..,H=..,E=..,K=..]
//                                        MoE dispatch and combine (4096 tokens, hidden 7168, 256
//                                        experts, top-8, float16) in GB/s, beside DeepEP's published
//                                        329 / 287 GB/s (8×H100)
//   tilescale bench allgather_gemm|gemm_rs [--ranks P] [--size M=..,N=..,K=..]
//                                        M=8192 N=28672 K=8192 float16 (then smaller sizes) vs cuBLAS
//                                        GEMM + ncclAllGather / ncclReduceScatter one after the other
//   tilescale bench cannon|summa [--ranks P] [--size M=..,N=..,K=..]
//                                        16384³ float16 on a √P×√P mesh (default P: 4, or the largest
//                                        square up to the GPUs), TFLOP/s vs P × one GPU's cuBLAS
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "example.h"

namespace tilescale::bench {

struct TimingOptions {
  int warmup = 5;
  int reps = 30;
  bool flush_l2 = true;
};

// Median milliseconds of `run(stream)` on the current device.
double time_cuda(const std::function<void(void* stream)>& run, const TimingOptions& options = {});
// Median milliseconds of `ours` and of `peer`, timed alternately (ours, peer, ours, ...), so that
// clock and temperature drift during the measurement affects both alike.
std::pair<double, double> time_cuda_pair(const std::function<void(void* stream)>& ours, const std::function<void(void* stream)>& peer,
                                         const TimingOptions& options = {});

struct Row {
  std::string case_name;
  double ours_ms = 0, peer_ms = 0;
  double work = 0;          // flops (for TFLOP/s) or bytes moved (for GB/s)
  bool is_bytes = false;
  double max_rel_error = 0; // ours against the peer
  std::string note;         // printed under the row: why it (or its peer) did not run, or that it is wrong
  bool wrong = false;       // ours gave a wrong result (and was not timed)
};

// max |got - want| / max |want| over two host tensors of one shape: the error measure of results
// that round differently (fp8, tf32), where an element-wise relative error says little.
double normwise_difference(const Tensor& got, const Tensor& want);

// Prints the table: case, ours ms, peer ms, ours/peer speed ratio, achieved TFLOP/s or GB/s. A row
// with no time of ours (skipped, wrong) prints its note in place of the numbers; one without the
// peer's time prints "-" in the peer's columns.
void print_table(const std::string& title, const std::string& peer, const std::vector<Row>& rows);

// cuBLAS's C = A · B for row-major CUDA tensors (cublasGemmEx, the default algorithm), enqueued on
// `stream` (a CUstream on the tensors' device; null: the legacy default stream). A and B float16 or
// bfloat16 with C of their type or float32 (float32 accumulation), float32 with C float32 (tf32
// tensor cores: CUBLAS_COMPUTE_32F_FAST_TF32), or int8 with C int32. A is stored [M, K], or [K, M]
// with transpose_a; B [K, N], or [N, K] with transpose_b. One handle per thread and device.
void cublas_gemm(const Tensor& A, const Tensor& B, const Tensor& C, void* stream = nullptr, bool transpose_a = false,
                 bool transpose_b = false);
// One GEMM row: the gemm example at `sizes` (M, N, K, bf16 and the knobs) against cuBLAS.
Row gemm_case(const examples::Sizes& sizes);
// The GEMM sweep's shapes: M=N=K in {1024..8192}, two skinny shapes, 4096x4096x16384 and
// 8192x8192x1024 (quick: 8192³ only).
struct Shape {
  std::int64_t M, N, K;
};
std::vector<Shape> gemm_shapes(bool quick);
// The GEMM sweep (fp16 and bf16 over gemm_shapes) against cuBLAS. `knobs` overrides the gemm
// example's tile configuration (e.g. "BM=128,BN=256,threads=256").
std::vector<Row> gemm_sweep(const std::string& knobs, bool quick);
// The sweep with each shape and dtype autotuned over a small grid of warp-specialized wgmma
// configurations (128x256, 128x128 and 64-row tiles, persistent or not): what a user who tunes gets.
// `only` may restrict it to one dtype ("bf16=0" or "bf16=1").
std::vector<Row> gemm_tuned_sweep(bool quick, const std::string& only);
// Autotunes the gemm example in fp16 at `sizes` (a parse_sizes spec over M=N=K=4096) over BM, BN in
// {128, 256}, BK in {32, 64}, stages in {2, 3, 4} and threads in {128, 256} (skipping tiles whose
// shared memory or accumulators cannot fit), each checked against cuBLAS; prints the configs tried
// and the winner, and returns the winner's row.
Row gemm_tune(const std::string& sizes);
// The gemm example with fp8=1 (e4m3 A [M, K] and B^T [N, K], `knobs` or BM=128,BN=256,BK=128,
// threads=256,stages=4) at 4096³ and 8192³ (quick: 8192³) against cuBLASLt's fp8 matmul with its
// default and its fast accumulation; prints the table (bench/gemm_fp8_bench.cc). Without a cuBLASLt
// fp8 algorithm it says so and reports ours alone.
void gemm_fp8_bench(const std::string& knobs, bool quick);
// float32 (as tf32) and int8 GEMM (examples/typed_gemm.h: 128x128 tiles, 3 stages) with each
// operand stored K-major or MN-major, at 4096³ and 8192³ (quick: 4096³), against cuBLAS on the same
// storage; prints the table (bench/gemm_types_bench.cc).
void gemm_types_bench(bool quick);
// softmax or layernorm at a bandwidth-bound size against a device-to-device copy of the same bytes.
std::vector<Row> memory_bound(const std::string& example, const std::string& sizes);
// Prints the cold compile time of `example` (fresh cache directory) and, from a new process, the
// cached load.
void compile_times(const std::string& example, const std::string& self_path);
// Cold compiles of kernels that call NVSHMEM (Target::NVSHMEM) into a fresh cache directory: every
// distributed example's kernels that use NVSHMEM-level builtins, in order, each line saying whether
// that compile also built tilescale's NVSHMEM wrappers (the first does; src/jit/nvshmem.h).
void nvshmem_compile_times();
// Host time per Kernel::call of a 3-tensor kernel beside a raw cuLaunchKernel of the same function
// (bench/call_overhead_bench.cc).
void call_overhead_bench();

// Spec lists separated by ';' ("M=256;M=512" → {"M=256", "M=512"}; "" → {""}).
std::vector<std::string> split_specs(const std::string& specs);

// What the distributed benchmarks take from the command line.
struct DistBenchOptions {
  int ranks = 0;     // 0: each benchmark's default
  std::string size;  // ';'-separated specs replacing the benchmark's sizes; "" for its own
  bool quick = false;
};
// The distributed benchmarks (the list at the top of this file); each prints its table and returns
// the exit status. Their files: allgather_bench.cc, all_to_all_bench.cc, allgather_gemm_bench.cc,
// gemm_rs_bench.cc, mesh_gemm_bench.cc (`which`: "cannon" or "summa").
int allgather_bench(const DistBenchOptions& options);
int all_to_all_bench(const DistBenchOptions& options);
int allgather_gemm_bench(const DistBenchOptions& options);
int gemm_rs_bench(const DistBenchOptions& options);
int mesh_gemm_bench(const std::string& which, const DistBenchOptions& options);

}  // namespace tilescale::bench

namespace tilescale::bench {

// `tilescale bench <example> [--size SPEC] [--knobs SPEC] [--quick] [--compile] [--tune] [--ranks P]`: the command
// line's bench command (args after "bench"; self_path re-runs the program for --compile).
int bench_command(const std::vector<std::string>& args, const std::string& self_path);

}  // namespace tilescale::bench
