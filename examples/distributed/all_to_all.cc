// all_to_all: MoE token dispatch and combine. Each rank holds T tokens x [T, H] (float16), each
// routed to K distinct experts of E (topk [T, K]) with weights [T, K]; expert e lives on rank
// e / El (El = E / P experts per rank).
//
// Three kernels:
//  * moe_splits: each rank counts its tokens per expert (its split sizes), puts the counts into
//    row `rank` of every rank's splits [P, E], raises a ready flag there (release) and waits for
//    every rank's row: afterwards every rank knows every split, so everyone can compute where each
//    block of tokens lands (a prefix sum, no further handshake).
//  * moe_dispatch: block e sends this rank's tokens for expert e to its owner q. The owner's
//    receive buffer holds, per local expert, the tokens of rank 0, then rank 1..., so this rank's
//    range starts at the sum of the splits before it. Each token goes with NVSHMEM's
//    putmem_signal_nbi_block, whose signal (add 1 to arrived[rank, expert] on q) lands after the
//    data; the slot each token went to is recorded for the combine. Block e also receives: it waits
//    (signal_wait_until) until rank e / El's tokens for local expert e % El have all arrived.
//  * moe_combine (after a host barrier; the experts' work, multiplying by e + 1, is folded in
//    here): each token gets its K expert outputs back with get_block from the recorded slots and
//    sums them, weighted.
#include <algorithm>
#include <numeric>

#include "distributed_list.h"
#include "support.h"

namespace tilescale::examples {
namespace {

namespace T = tilescale::lang;

constexpr std::int64_t kTokensPerBlock = 4;

struct Dims {
  std::int64_t T, H, E, K, El, R;  // R: receive rows per rank
};
Dims dims(const Sizes& s, int P) {
  Dims d{size_of(s, "T"), size_of(s, "H"), size_of(s, "E"), size_of(s, "K"), 0, 0};
  d.El = d.E / P;
  d.R = P * d.T * std::min(d.K, d.El);
  return d;
}

T::PrimFunc splits_program(const Dims& d, int P) {
  return T::prim_func("moe_splits", [&] {
    auto topk = T::Tensor("topk", {d.T, d.K}, T::int32);
    auto splits = T::Tensor("splits", {P, d.E}, T::int32);
    auto ready = T::Tensor("ready", {P}, T::int32);
    T::Kernel(P, T::threads(128), [&](T::Expr peer) {
      auto counts = T::alloc_shared({d.E}, T::int32, "counts");
      T::Expr me = T::get_rank();
      T::clear(counts);
      T::Parallel(d.T, d.K, [&](T::Expr t, T::Expr k) { T::atomic_add(counts(topk(t, k)), 1); });
      T::put_block(counts(0), splits(me, 0), d.E, peer);
      T::If(T::get_thread_binding() == 0, [&] { T::st(ready(me), 1, T::MemScope::SYS, T::MemSem::Release, false, peer); });
      T::wait_eq(ready(peer), 1);
    });
  });
}

T::PrimFunc dispatch_program(const Dims& d, int P) {
  return T::prim_func("moe_dispatch", [&] {
    auto x = T::Tensor("x", {d.T, d.H}, T::float16);
    auto topk = T::Tensor("topk", {d.T, d.K}, T::int32);
    auto splits = T::Tensor("splits", {P, d.E}, T::int32);
    auto recv = T::Tensor("recv", {d.R, d.H}, T::float16);
    auto arrived = T::Tensor("arrived", {P, d.El}, T::uint64);
    auto slot = T::Tensor("slot", {d.T, d.K}, T::int32);
    T::Kernel(d.E, T::threads(128), [&](T::Expr e) {
      T::Expr me = T::get_rank(), owner = e / d.El, local = e % d.El;
      // Where this rank's tokens for e start in the owner's buffer: after the owner's earlier
      // experts (all ranks' tokens), then after the earlier ranks' tokens for e.
      auto start = T::alloc_var(T::int32, 0, "start");
      T::serial(owner * d.El, e, [&](T::Expr e2) { T::serial(P, [&](T::Expr p) { start += splits(p, e2); }); });
      T::serial(me, [&](T::Expr p) { start += splits(p, e); });
      auto sent = T::alloc_var(T::int32, 0, "sent");
      T::serial(d.T, [&](T::Expr t) {
        T::serial(d.K, [&](T::Expr k) {
          T::If(topk(t, k) == e, [&] {
            T::putmem_signal_nbi_block(recv(start + sent, 0), x(t, 0), d.H * 2, arrived(me, local), 1, T::SignalOp::Add, owner);
            slot(t, k) = start + sent;
            sent += 1;
          });
        });
      });
      // Receive: rank e / El's tokens for this rank's local expert e % El.
      T::Expr source = e / d.El;
      T::signal_wait_until(arrived(source, local), T::Cmp::EQ, T::cast(splits(source, me * d.El + local), T::uint64));
      T::quiet();
    });
  });
}

T::PrimFunc combine_program(const Dims& d, int P) {
  return T::prim_func("moe_combine", [&] {
    auto topk = T::Tensor("topk", {d.T, d.K}, T::int32);
    auto weights = T::Tensor("weights", {d.T, d.K}, T::float32);
    auto recv = T::Tensor("recv", {d.R, d.H}, T::float16);
    auto slot = T::Tensor("slot", {d.T, d.K}, T::int32);
    auto gathered = T::Tensor("gathered", {d.T, d.K, d.H}, T::float16);
    auto out = T::Tensor("out", {d.T, d.H}, T::float16);
    T::Kernel(T::ceildiv(d.T, kTokensPerBlock), T::threads(128), [&](T::Expr bx) {
      T::serial(kTokensPerBlock, [&](T::Expr i) {
        T::Expr t = bx * kTokensPerBlock + i;
        T::If(t < d.T, [&] {
          T::serial(d.K, [&](T::Expr k) { T::get_block(recv(slot(t, k), 0), gathered(t, k, 0), d.H, topk(t, k) / d.El); });
        });
      });
      T::Parallel(kTokensPerBlock, d.H, [&](T::Expr i, T::Expr h) {
        T::Expr t = bx * kTokensPerBlock + i;
        T::If(t < d.T, [&] {
          T::Expr sum = 0.0f;
          for (std::int64_t k = 0; k < d.K; ++k)
            sum = sum + weights(t, k) * T::cast(topk(t, k) + 1, T::float32) * T::cast(gathered(t, k, h), T::float32);
          out(t, h) = sum;
        });
      });
    });
  });
}

// K distinct experts per token, from (seed, rank).
std::vector<int> routing(const Dims& d, std::uint64_t seed, int rank) {
  std::uint64_t state = derive_seed(seed, 1000 + rank);
  auto next = [&] {
    state = derive_seed(state, 7);
    return state;
  };
  std::vector<int> out;
  for (std::int64_t t = 0; t < d.T; ++t) {
    std::vector<int> experts(d.E);
    std::iota(experts.begin(), experts.end(), 0);
    for (std::int64_t k = 0; k < d.K; ++k) {
      std::swap(experts[k], experts[k + next() % (d.E - k)]);
      out.push_back(experts[k]);
    }
  }
  return out;
}

// Rank `rank`'s routing as an int32 [T, K] tensor on the host.
Tensor routing_tensor(const Dims& d, std::uint64_t seed, int rank) {
  const std::vector<int> route = routing(d, seed, rank);
  Tensor t = Tensor::empty({d.T, d.K}, DataType::Int32);
  for (std::int64_t i = 0; i < d.T * d.K; ++i) t.set_flat(i, route[i]);
  return t;
}

// Every rank's inputs come from the seed, so the reference regenerates the tokens and routing of
// all ranks on the host.
CheckResult run_all_to_all(const Sizes& sizes, const dist::World& world, std::uint64_t seed) {
  const int P = world.size();
  const Dims d = dims(sizes, P);
  const Kernel splits_k = compile(splits_program(d, P), world.target());
  const Kernel dispatch_k = compile(dispatch_program(d, P), world.target());
  const Kernel combine_k = compile(combine_program(d, P), world.target());
  std::vector<Tensor> recv(P), out(P);  // per local rank, on the host
  world.run([&](dist::Rank& rank) {
    const int r = rank.rank();
    Tensor x = symmetric_random(rank, {d.T, d.H}, DataType::Float16, seed, 0);
    Tensor weights = symmetric_random(rank, {d.T, d.K}, DataType::Float32, seed, 1, 0.0, 1.0);
    Tensor topk = symmetric_copy(rank, routing_tensor(d, seed, r));
    Tensor splits = symmetric_poisoned(rank, {P, d.E}, DataType::Int32);
    Tensor ready = rank.heap().zeros({P}, DataType::Int32);
    Tensor received = symmetric_poisoned(rank, {d.R, d.H}, DataType::Float16);
    Tensor arrived = rank.heap().zeros({P, d.El}, DataType::UInt64);
    Tensor slot = symmetric_poisoned(rank, {d.T, d.K}, DataType::Int32);
    Tensor gathered = symmetric_poisoned(rank, {d.T, d.K, d.H}, DataType::Float16);
    Tensor combined = symmetric_poisoned(rank, {d.T, d.H}, DataType::Float16);
    rank.barrier();
    splits_k(topk, splits, ready);
    dispatch_k(x, topk, splits, received, arrived, slot);
    rank.barrier();  // every expert's tokens have arrived (the experts would run here)
    combine_k(topk, weights, received, slot, gathered, combined);
    rank.barrier();
    recv[r] = received.to(Device::cpu());
    out[r] = combined.to(Device::cpu());
  });

  std::vector<Tensor> x(P);
  std::vector<std::vector<int>> route(P);
  for (int p = 0; p < P; ++p) {
    x[p] = host_random({d.T, d.H}, DataType::Float16, seed, p, 0);
    route[p] = routing(d, seed, p);
  }
  return check_local_ranks(world, [&](int q) {
    // Dispatch: rank q's buffer holds, per local expert, rank 0's tokens in order, then rank 1's...
    std::vector<double> expected;
    for (std::int64_t el = 0; el < d.El; ++el)
      for (int p = 0; p < P; ++p)
        for (std::int64_t t = 0; t < d.T; ++t)
          for (std::int64_t k = 0; k < d.K; ++k)
            if (route[p][t * d.K + k] == q * d.El + el)
              for (std::int64_t h = 0; h < d.H; ++h) expected.push_back(x[p].get({t, h}));
    const std::int64_t rows = static_cast<std::int64_t>(expected.size()) / d.H;
    Tensor got = Tensor::empty({rows, d.H}, DataType::Float16);
    for (std::int64_t i = 0; i < rows * d.H; ++i) got.set_flat(i, recv[q].get_flat(i));
    const CheckResult dispatch = compare(got, expected, kExactTolerance);
    // Combine: out[t] = sum_k w[t, k] (e_k + 1) x[t].
    const Tensor weights = host_random({d.T, d.K}, DataType::Float32, seed, q, 1, 0.0, 1.0);
    std::vector<double> combined;
    for (std::int64_t t = 0; t < d.T; ++t)
      for (std::int64_t h = 0; h < d.H; ++h) {
        double s = 0;
        for (std::int64_t k = 0; k < d.K; ++k) s += weights.get({t, k}) * (route[q][t * d.K + k] + 1) * x[q].get({t, h});
        combined.push_back(s);
      }
    return worst({dispatch, compare(out[q], combined, kFloat16OutputTolerance)});
  });
}

}  // namespace

DistributedExample all_to_all_example() {
  return DistributedExample{
      .name = "all_to_all",
      .description = "MoE dispatch and combine of T float16 tokens to top-K of E experts: split sizes exchanged, "
                     "putmem_signal_nbi_block per token, signal_wait_until, get_block back, weighted sum",
      .default_sizes = {{"T", 256}, {"H", 256}, {"E", 16}, {"K", 4}},
      .test_sizes = {{"T", 12}, {"H", 16}, {"E", 8}, {"K", 2}},
      .test_ranks = {2, 4},
      .unsupported =
          [](const Sizes& s, int P) {
            if (std::string why = divides_all(P, {{"E", size_of(s, "E")}}); !why.empty()) return why;
            if (size_of(s, "K") > size_of(s, "E"))
              return detail::cat("K=", size_of(s, "K"), " exceeds the E=", size_of(s, "E"), " experts");
            return std::string();
          },
      .build =
          [](const Sizes& s, int p) {
            const Dims d = dims(s, p);
            return std::vector<lang::PrimFunc>{splits_program(d, p), dispatch_program(d, p), combine_program(d, p)};
          },
      .run = run_all_to_all,
  };
}

}  // namespace tilescale::examples
