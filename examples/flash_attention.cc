// flash_attention: O = softmax(Q·Kᵀ / sqrt(D)) · V, forward, for Q, K, V, O [B, H, S, D] in
// float16 (bf16=1: bfloat16) with float32 accumulation; `causal` (0/1) masks the keys after each
// query.
//
// TileLang's FlashAttention structure. Block (bx, by, bz) owns BM queries of head `by` of batch
// `bz`: their Q tile stays in shared memory while the keys and values stream past in BN-row tiles
// (a `stages`-deep pipeline, 2 by default). Per key tile, the scores acc_s = Q·Kᵀ go through an
// online softmax: the running row maximum is updated, what was accumulated so far (acc_o, logsum)
// is rescaled by exp(old max - new max), and the new probabilities, rounded to the input type, are
// multiplied into acc_o by a second gemm with V. The output is acc_o / logsum. Exponentials are
// exp2 with log2(e) folded into the softmax scale.
//
// Masking: keys past S (when S is not a multiple of BN) and, when causal, keys after the query get
// a score of -inf, so exp2 turns them into zeros. A causal block stops at the last key tile its
// queries can see; the blocks run the last (longest) query tiles first, so the short ones fill the
// tail of the launch. Every query row sees key 0 in the first tile, so the running maximum is finite
// from the first tile on and exp2(-inf - max) is a clean 0. Only the tiles that hold a hidden key
// run the mask. Query rows past S read zeros and are not written back.
//
// Knobs (in the sizes, defaults in brackets): BM [64] queries and BN [64] keys per tile, threads
// [128], stages [2], persistent [0] (T::persistent: one block per SM slot walks the query tiles,
// and its producer loads the next tile's keys while the consumers write this tile's output),
// bf16 [0]. Both gemms stack the warps along the queries (P·V reads P from
// registers), so each warp owns BM / (threads / 32) query rows, a multiple of 16. On Hopper the
// compiler puts both gemms on wgmma when every warp owns exactly 16 rows (BM=64 with 128 threads,
// BM=128 with 256); with two or more warpgroups and stages=3 they also take turns at the tensor
// cores, one warpgroup's P·V and next Q·Kᵀ running while the other computes its softmax
// (docs/02_cuda_backend.md, "Warpgroup turns"): BM=128,BN=128,threads=256,stages=3 is the fast
// Hopper configuration for D=128.
#include "examples_list.h"
#include "reference.h"

#include <cmath>

namespace tilescale::examples {
namespace {

namespace T = tilescale::lang;

constexpr double kLog2e = 1.4426950408889634;

struct Knobs {
  std::int64_t block_m, block_n;
  int threads, stages;
  DataType dtype;
  bool persistent;
};

// The knobs of `sizes`, or a CompileError naming the one that cannot work and what it may be.
Knobs knobs_of(const Sizes& sizes) {
  const std::int64_t bm = size_of(sizes, "BM"), bn = size_of(sizes, "BN"), threads = size_of(sizes, "threads"),
                     stages = size_of(sizes, "stages");
  auto reject = [](const std::string& knob, std::int64_t value, const std::string& why) {
    return CompileError(detail::cat("cannot build flash_attention with ", knob, "=", value, " because ", why));
  };
  if (threads <= 0 || threads % 32 || threads > 1024)
    throw reject("threads", threads,
                 "a block is made of whole warps: threads must be a multiple of 32 from 32 to 1024; e.g. threads=128 "
                 "or threads=256");
  const std::int64_t warps = threads / 32;
  if (bm <= 0 || bm % (16 * warps))
    throw reject("BM", bm,
                 detail::cat("both gemms split the BM query rows over the ", warps, " warps of threads=", threads,
                             ", 16 rows at a time: BM must be a positive multiple of ", 16 * warps,
                             "; change BM or threads (e.g. BM=64 with threads=128, BM=128 with threads=256)"));
  if (bn <= 0 || bn % 16)
    throw reject("BN", bn,
                 "BN keys are the columns of the Q·K^T gemm and the reduction of the P·V gemm, whose instructions step by "
                 "16: BN must be a positive multiple of 16; e.g. BN=64 or BN=128");
  if (stages < 1)
    throw reject("stages", stages,
                 "the key/value loop needs at least one stage: stages=1 runs it unpipelined, stages=N keeps N key and "
                 "value tiles in flight; pass stages=1 or more");
  return Knobs{bm, bn, static_cast<int>(threads), static_cast<int>(stages),
               flag_of(sizes, "bf16") ? DataType::BFloat16 : DataType::Float16, flag_of(sizes, "persistent")};
}

T::PrimFunc flash_attention_program(const Sizes& sizes) {
  const std::int64_t batch = size_of(sizes, "B"), heads = size_of(sizes, "H"), S = size_of(sizes, "S"),
                     D = size_of(sizes, "D");
  const bool causal = flag_of(sizes, "causal");
  const Knobs knobs = knobs_of(sizes);
  const std::int64_t kBlockM = knobs.block_m, kBlockN = knobs.block_n;
  const int kThreads = knobs.threads, kStages = knobs.stages;
  const DataType in = knobs.dtype;
  const double scale = 1.0 / std::sqrt(static_cast<double>(D)) * kLog2e;
  const bool needs_mask = causal || S % kBlockN != 0;
  return T::prim_func(causal ? "flash_attention_causal" : "flash_attention", [&] {
    auto Q = T::Tensor("Q", {batch, heads, S, D}, in);
    auto K = T::Tensor("K", {batch, heads, S, D}, in);
    auto V = T::Tensor("V", {batch, heads, S, D}, in);
    auto O = T::Tensor("O", {batch, heads, S, D}, in);
    T::Kernel(T::ceildiv(S, kBlockM), heads, batch, T::threads(kThreads), [&](T::Expr block_x, T::Expr by, T::Expr bz) {
      // The query tile of this block (see Masking for the causal order).
      const T::Expr bx = causal ? T::ceildiv(S, kBlockM) - 1 - block_x : block_x;
      if (knobs.persistent) T::persistent();
      auto Q_shared = T::alloc_shared({kBlockM, D}, in, "Q_shared");
      auto K_shared = T::alloc_shared({kBlockN, D}, in, "K_shared");
      auto V_shared = T::alloc_shared({kBlockN, D}, in, "V_shared");
      // Every shared tile is allocated here, as TileLang writes it; a tile lives from its first use
      // to its last (passes/plan_shared_memory.h), so O_shared, first used after the loop, takes the
      // bytes of Q_shared, dead by then, which leaves the key and value stages more room.
      auto O_shared = T::alloc_shared({kBlockM, D}, in, "O_shared");
      auto acc_s = T::alloc_fragment({kBlockM, kBlockN}, T::float32, "acc_s");
      auto acc_s_cast = T::alloc_fragment({kBlockM, kBlockN}, in, "acc_s_cast");
      auto acc_o = T::alloc_fragment({kBlockM, D}, T::float32, "acc_o");
      auto scores_max = T::alloc_fragment({kBlockM}, T::float32, "scores_max");
      auto scores_max_prev = T::alloc_fragment({kBlockM}, T::float32, "scores_max_prev");
      auto scores_scale = T::alloc_fragment({kBlockM}, T::float32, "scores_scale");
      auto scores_sum = T::alloc_fragment({kBlockM}, T::float32, "scores_sum");
      auto logsum = T::alloc_fragment({kBlockM}, T::float32, "logsum");

      T::copy(Q(bz, by, bx * kBlockM, 0), Q_shared);
      T::fill(acc_o, 0);
      T::fill(logsum, 0);
      T::fill(scores_max, -T::infinity(T::float32));

      T::Expr num_tiles = T::ceildiv(S, kBlockN);
      if (causal) num_tiles = T::min(num_tiles, T::ceildiv((bx + 1) * kBlockM, kBlockN));
      T::Pipelined(num_tiles, kStages, [&](T::Expr k) {
        T::copy(K(bz, by, k * kBlockN, 0), K_shared);
        T::gemm(Q_shared, K_shared, acc_s,
                T::GemmOptions{.transpose_B = true, .policy = T::GemmWarpPolicy::FullRow, .clear_accum = true});
        if (needs_mask) {
          // Only the tiles that reach past the block's first query (causal) or past S have keys to
          // hide; a causal block has one or two of those, the others skip the mask.
          const T::Expr last_key = (k + 1) * kBlockN - 1;
          T::Expr partial = causal ? last_key > bx * kBlockM : last_key >= S;
          if (causal && S % kBlockN != 0) partial = partial || last_key >= S;
          T::If(partial, [&] {
            T::Parallel(kBlockM, kBlockN, [&](T::Expr i, T::Expr j) {
              T::Expr key = k * kBlockN + j, query = bx * kBlockM + i;
              T::Expr visible = causal ? key <= query : key < S;
              if (causal && S % kBlockN != 0) visible = visible && key < S;
              acc_s(i, j) = T::if_then_else(visible, acc_s(i, j), -T::infinity(T::float32));
            });
          });
        }
        T::copy(V(bz, by, k * kBlockN, 0), V_shared);

        // Online softmax: new running max, rescale what came before, exponentiate this tile.
        T::copy(scores_max, scores_max_prev);
        T::reduce_max(acc_s, scores_max, 1, /*clear=*/false);
        T::Parallel(kBlockM, [&](T::Expr i) {
          scores_scale(i) = T::exp2(scores_max_prev(i) * scale - scores_max(i) * scale);
        });
        T::Parallel(kBlockM, D, [&](T::Expr i, T::Expr j) { acc_o(i, j) *= scores_scale(i); });
        T::Parallel(kBlockM, kBlockN, [&](T::Expr i, T::Expr j) {
          acc_s(i, j) = T::exp2(acc_s(i, j) * scale - scores_max(i) * scale);
        });
        T::reduce_sum(acc_s, scores_sum, 1);
        T::Parallel(kBlockM, [&](T::Expr i) { logsum(i) = logsum(i) * scores_scale(i) + scores_sum(i); });

        T::copy(acc_s, acc_s_cast);
        T::gemm(acc_s_cast, V_shared, acc_o, T::GemmOptions{.policy = T::GemmWarpPolicy::FullRow});
      });

      T::Parallel(kBlockM, D, [&](T::Expr i, T::Expr j) { acc_o(i, j) /= logsum(i); });
      T::copy(acc_o, O_shared);
      T::copy(O_shared, O(bz, by, bx * kBlockM, 0));
    });
  });
}

// Reference: exact attention in double.
//
// Tolerance. The kernel rounds the probabilities to float16 before the P·V gemm (as every
// FlashAttention does), a relative error of up to 2^-11 per weight that the exact reference does
// not make. Against outputs that are averages of zero-mean values, many of them near zero, that
// error is up to ~0.2 of the 1e-3·max|O| floor of max_relative_error. The inputs are therefore
// chosen so that the metric measures the kernel rather than that rounding: V in [0, 2) makes every
// output a convex combination of positive values, about 1 ± 0.1, where the weight rounding costs
// ~1e-4; Q and K in [-2, 2) give scores of standard deviation ~1.3 after scaling, so attention is
// far from uniform and a wrong mask, scale or rescaling moves the outputs by several percent.
// What remains is the float16 rounding of O (≤ 4.9e-4): kFloat16OutputTolerance.
//
// bfloat16 keeps 8 bits of mantissa where float16 keeps 11, so both roundings (P's and O's) are 8x
// coarser: O's alone is up to 2^-8 ≈ 3.9e-3 relative for outputs just above 1, P's adds ~1e-3, and
// the CPU backend measures 4.3e-3 to 5.1e-3 at the default and test sizes. The tolerance is 8x
// float16's, 1.6e-2, as for the gemm example: 3x the measured error, still below the several
// percent that a wrong mask, scale or rescaling costs.
CheckResult check_flash_attention(const Kernel& kernel, const Sizes& sizes, std::uint64_t seed) {
  const std::int64_t batch = size_of(sizes, "B"), heads = size_of(sizes, "H"), S = size_of(sizes, "S"),
                     D = size_of(sizes, "D");
  const bool causal = flag_of(sizes, "causal");
  const DataType in = knobs_of(sizes).dtype;
  const std::vector<std::int64_t> shape = {batch, heads, S, D};
  Tensor Q = random_input(shape, in, seed, 0, -2.0, 2.0);
  Tensor K = random_input(shape, in, seed, 1, -2.0, 2.0);
  Tensor V = random_input(shape, in, seed, 2, 0.0, 2.0);
  Tensor O = poisoned_output(shape, in);
  run_kernel(kernel, {Q, K, V, O});

  std::vector<double> q = values(Q), k = values(K), v = values(V), o(q.size());
  const double sm_scale = 1.0 / std::sqrt(static_cast<double>(D));
  std::vector<double> p(S);
  for (std::int64_t bh = 0; bh < batch * heads; ++bh) {
    const double* qh = &q[bh * S * D];
    const double* kh = &k[bh * S * D];
    const double* vh = &v[bh * S * D];
    for (std::int64_t i = 0; i < S; ++i) {
      const std::int64_t keys = causal ? i + 1 : S;
      double mx = -INFINITY;
      for (std::int64_t j = 0; j < keys; ++j) {
        double s = 0;
        for (std::int64_t d = 0; d < D; ++d) s += qh[i * D + d] * kh[j * D + d];
        p[j] = s * sm_scale;
        mx = std::max(mx, p[j]);
      }
      double sum = 0;
      for (std::int64_t j = 0; j < keys; ++j) sum += (p[j] = std::exp(p[j] - mx));
      double* out = &o[(bh * S + i) * D];
      for (std::int64_t d = 0; d < D; ++d) out[d] = 0;
      for (std::int64_t j = 0; j < keys; ++j)
        for (std::int64_t d = 0; d < D; ++d) out[d] += p[j] * vh[j * D + d];
      for (std::int64_t d = 0; d < D; ++d) out[d] /= sum;
    }
  }
  return compare(O, o, in == DataType::BFloat16 ? 8 * kFloat16OutputTolerance : kFloat16OutputTolerance);
}

}  // namespace

Example flash_attention_example() {
  return Example{
      .name = "flash_attention",
      .description = "FlashAttention forward, [B, H, S, D] float16 (bf16=1: bfloat16), online softmax; causal=1 masks "
                     "future keys; 64x64 tiles, 128 threads, 2 stages by default",
      .default_sizes = {{"B", 1}, {"H", 4}, {"S", 512}, {"D", 64}, {"causal", 0}, {"BM", 64}, {"BN", 64},
                        {"threads", 128}, {"stages", 2}, {"persistent", 0}, {"bf16", 0}},
      .test_sizes = {{"B", 1}, {"H", 2}, {"S", 128}, {"D", 64}, {"causal", 0}, {"BM", 64}, {"BN", 64},
                     {"threads", 128}, {"stages", 2}, {"persistent", 0}, {"bf16", 0}},
      .build = flash_attention_program,
      .check = check_flash_attention,
  };
}

}  // namespace tilescale::examples
