// The all_to_all example (MoE dispatch and combine) at DeepEP's size: 4096 tokens per rank, hidden
// 7168, top-8 of 256 experts, in GB/s per rank beside DeepEP's published numbers. There is no peer
// in the process: NCCL has no MoE dispatch.
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <limits>

#include "dist_harness.h"
#include "distributed/distributed_example.h"
#include "reference.h"
#include "runtime/cuda/driver.h"
#include "tilescale/errors.h"

namespace tilescale::bench {

namespace {

using tilescale::detail::cat;

struct Problem {
  std::int64_t T, H, E, K;
  std::vector<Tensor> x, weights;        // per rank, on the host
  std::vector<std::vector<int>> route;   // per rank: route[t·K + k], K distinct experts per token
};

Problem make_problem(const examples::Sizes& s, int P) {
  Problem pr{s.at("T"), s.at("H"), s.at("E"), s.at("K"), {}, {}, {}};
  for (int r = 0; r < P; ++r) {
    pr.x.push_back(random_host({pr.T, pr.H}, DataType::Float16, 6000 + r));
    pr.weights.push_back(random_host({pr.T, pr.K}, DataType::Float32, 7000 + r));
    std::uint64_t state = examples::derive_seed(8000, r);
    std::vector<int> route;
    for (std::int64_t t = 0; t < pr.T; ++t)
      for (std::int64_t k = 0; k < pr.K; ++k) {
        int e;
        do {
          state = examples::derive_seed(state, 7);
          e = static_cast<int>(state % pr.E);
        } while (std::find(route.end() - k, route.end(), e) != route.end());
        route.push_back(e);
      }
    pr.route.push_back(std::move(route));
  }
  return pr;
}

// 0 when rank q's receive buffer holds, per local expert, rank 0's tokens for it in order, then
// rank 1's..., byte for byte; else infinity.
double dispatch_error(const Problem& pr, int P, int q, const Tensor& recv) {
  const std::int64_t El = pr.E / P, row = pr.H * 2;
  std::vector<const std::byte*> expected;
  for (std::int64_t el = 0; el < El; ++el)
    for (int p = 0; p < P; ++p)
      for (std::int64_t i = 0; i < pr.T * pr.K; ++i)
        if (pr.route[p][i] == q * El + el) expected.push_back(static_cast<const std::byte*>(pr.x[p].data()) + i / pr.K * row);
  std::vector<std::byte> got(expected.size() * row);
  TS_CU(MemcpyDtoH, got.data(), reinterpret_cast<CUdeviceptr>(recv.data()), got.size());
  for (std::size_t i = 0; i < expected.size(); ++i)
    if (std::memcmp(got.data() + i * row, expected[i], row) != 0) return std::numeric_limits<double>::infinity();
  return 0;
}

// Rank r's combined tokens against out[t] = sum_k w[t, k] (e_k + 1) x[t].
double combine_error(const Problem& pr, int r, const Tensor& out) {
  Tensor expected = Tensor::empty({pr.T, pr.H}, DataType::Float32);
  auto* e = static_cast<float*>(expected.data());
  const auto* w = static_cast<const float*>(pr.weights[r].data());
  const auto* x = static_cast<const std::byte*>(pr.x[r].data());
  for (std::int64_t t = 0; t < pr.T; ++t) {
    double factor = 0;
    for (std::int64_t k = 0; k < pr.K; ++k) factor += double(w[t * pr.K + k]) * (pr.route[r][t * pr.K + k] + 1);
    for (std::int64_t h = 0; h < pr.H; ++h)
      e[t * pr.H + h] = static_cast<float>(factor * load_as_double(DataType::Float16, x + (t * pr.H + h) * 2));
  }
  return max_relative_error(out.to(Device::cpu()), expected);
}

std::vector<Row> measure(int P, const examples::Sizes& sizes) {
  const examples::DistributedExample* ex = examples::find_distributed_example("all_to_all");
  if (const std::string why = ex->unsupported(sizes, P); !why.empty())
    throw RuntimeError(cat("cannot run all_to_all at ", examples::format_sizes(sizes), " because ", why));
  const auto funcs = ex->build(sizes, P);
  const Kernel splits_k = compile(funcs.at(0), Target::CUDA), dispatch_k = compile(funcs.at(1), Target::CUDA),
               combine_k = compile(funcs.at(2), Target::CUDA);
  const Problem pr = make_problem(sizes, P);
  const std::int64_t T = pr.T, H = pr.H, K = pr.K;
  const auto recv_shape = param_shape(dispatch_k, "recv"), arrived_shape = param_shape(dispatch_k, "arrived"),
             splits_shape = param_shape(dispatch_k, "splits");
  const DataType f16 = DataType::Float16, i32 = DataType::Int32;
  const std::size_t heap = 2 * heap_bytes_of({T, H}, f16) + 3 * heap_bytes_of({T, K}, i32) + heap_bytes_of(splits_shape, i32) +
                           heap_bytes_of({P}, i32) + heap_bytes_of(recv_shape, f16) +
                           heap_bytes_of(arrived_shape, DataType::UInt64) + heap_bytes_of({T, K, H}, f16);
  const dist::World world = bench_world(P, heap);
  const auto timings = time_on_ranks(world, [&](dist::Rank& rank) {
    const int r = rank.rank();
    const auto stream = static_cast<CUstream>(rank.stream());
    const auto& route = pr.route[r];
    const Tensor x = rank.heap().empty({T, H}, f16), topk = rank.heap().empty({T, K}, i32);
    const Tensor weights = rank.heap().empty({T, K}, DataType::Float32);
    x.copy_from(pr.x[r]);
    topk.copy_from(Tensor::wrap(const_cast<int*>(route.data()), {T, K}, i32));
    weights.copy_from(pr.weights[r]);
    const Tensor splits = rank.heap().empty(splits_shape, i32), ready = rank.heap().zeros({P}, i32);
    const Tensor recv = rank.heap().empty(recv_shape, f16), arrived = rank.heap().zeros(arrived_shape, DataType::UInt64);
    const Tensor slot = rank.heap().empty({T, K}, i32), gathered = rank.heap().empty({T, K, H}, f16);
    const Tensor out = rank.heap().empty({T, H}, f16);
    for (const Tensor& t : {recv, out})  // NaN until written
      fill_bytes(t, 0xff, stream);
    RankCase dispatch{
        .reset =
            [=] {
              fill_bytes(ready, 0, stream);
              fill_bytes(arrived, 0, stream);
            },
        .ours =
            [=] {
              splits_k(topk, splits, ready);
              dispatch_k(x, topk, splits, recv, arrived, slot);
            },
        .check = [&pr, P, r, recv] { return dispatch_error(pr, P, r, recv); },
    };
    RankCase combine{
        .ours = [=] { combine_k(topk, weights, recv, slot, gathered, out); },
        .check = [&pr, r, out] { return combine_error(pr, r, out); },
        .tolerance = examples::kFloat16OutputTolerance,
    };
    return std::vector<RankCase>{dispatch, combine};
  });
  const double bytes = double(T) * K * H * 2;  // token copies each rank sends (dispatch) or receives (combine)
  const std::string at = examples::format_sizes(sizes);
  return {timed_row("dispatch " + at, timings[0], bytes, true), timed_row("combine " + at, timings[1], bytes, true)};
}

}  // namespace

int all_to_all_bench(const DistBenchOptions& o) {
  const int P = o.ranks > 0 ? o.ranks : default_ranks();
  std::printf("\nall_to_all (MoE dispatch + combine), %d ranks; float16 tokens (the example has no bfloat16 variant); "
              "GB/s per rank: T x K x H x 2 bytes each rank sends (dispatch) or gathers back (combine), copies to its "
              "own experts included\n", P);
  print_setup(P, "none in this process (NCCL has no MoE dispatch); DeepEP's published numbers below");
  std::vector<Row> rows;
  for (const auto& spec : split_specs(o.size)) {
    const examples::Sizes sizes = examples::parse_sizes(spec, {{"T", 4096}, {"H", 7168}, {"E", 256}, {"K", 8}});
    const auto r = rows_or_skipped(examples::format_sizes(sizes), [&] { return measure(P, sizes); });
    rows.insert(rows.end(), r.begin(), r.end());
  }
  print_table(cat("all_to_all, ", P, " ranks"), "peer", rows);
  std::printf("reference: DeepEP, 8xH100 (published): dispatch 329 GB/s, combine 287 GB/s (4096 tokens, hidden 7168, top-8, bf16)\n");
  return exit_status(rows);
}

}  // namespace tilescale::bench
