// The all-to-alls around sequence-parallel attention (Ulysses): switching a [B, H, S, D] activation
// between "each rank holds S/P positions of every head" and "each rank holds H/P heads of every
// position". With P ranks, Sp = S/P and Hp = H/P:
//
//   pre_attn_all2all             [B, H, Sp, D] -> [B, Hp, S, D]   (head h goes to rank h / Hp)
//   pre_attn_all2all_transpose   [B, Sp, H, D] -> [B, Hp, S, D]
//   post_attn_all2all_transpose  [B, Hp, S, D] -> [B, Sp, H, D]   (position s goes to rank s / Sp)
//
// pre_attn_all2all moves contiguous [Sp, D] slabs: block (h, b) puts one with put_block, then one
// thread adds 1 to the receiver's counter for this rank (release); blocks (p, 0) wait until this
// rank's counter for rank p has seen all B·Hp slabs of p. The transposing forms move D-element rows:
// each warp of block (s, b) puts (pre) or gets (post) the rows of every 4th head, with put_warp /
// get_warp; pre signals per block as above, post reads inputs made ready before the launch.
#include "distributed_list.h"
#include "support.h"

namespace tilescale::examples {
namespace {

namespace T = tilescale::lang;

constexpr int kWarps = 4;

struct Dims {
  std::int64_t B, H, S, D, Hp, Sp;
};
Dims dims(const Sizes& s, int P) {
  Dims d{size_of(s, "B"), size_of(s, "H"), size_of(s, "S"), size_of(s, "D"), 0, 0};
  d.Hp = d.H / P, d.Sp = d.S / P;
  return d;
}

std::string unsupported(const Sizes& s, int P) {
  return divides_all(P, {{"H", size_of(s, "H")}, {"S", size_of(s, "S")}});
}

T::PrimFunc pre_program(const Sizes& sizes, int P) {
  const Dims d = dims(sizes, P);
  return T::prim_func("pre_attn_all2all", [&] {
    auto x = T::Tensor("x", {d.B, d.H, d.Sp, d.D}, T::float16);
    auto y = T::Tensor("y", {d.B, d.Hp, d.S, d.D}, T::float16);
    auto arrived = T::Tensor("arrived", {P}, T::int32);
    T::Kernel(d.H, d.B, T::threads(128), [&](T::Expr h, T::Expr b) {
      T::Expr me = T::get_rank(), owner = h / d.Hp;
      T::put_block(x(b, h, 0, 0), y(b, h % d.Hp, me * d.Sp, 0), d.Sp * d.D, owner);
      T::If(T::get_thread_binding() == 0, [&] { T::atom_add(arrived(me), 1, T::MemScope::SYS, T::MemSem::Release, owner); });
      T::If(b == 0 && h < P, [&] { T::wait_eq(arrived(h), static_cast<int>(d.B * d.Hp)); });
    });
  });
}

T::PrimFunc pre_transpose_program(const Sizes& sizes, int P) {
  const Dims d = dims(sizes, P);
  return T::prim_func("pre_attn_all2all_transpose", [&] {
    auto x = T::Tensor("x", {d.B, d.Sp, d.H, d.D}, T::float16);
    auto y = T::Tensor("y", {d.B, d.Hp, d.S, d.D}, T::float16);
    auto arrived = T::Tensor("arrived", {P}, T::int32);
    T::Kernel(d.Sp, d.B, T::threads(32 * kWarps), [&](T::Expr s, T::Expr b) {
      T::Expr me = T::get_rank(), warp = T::get_thread_binding() / 32;
      T::serial(T::ceildiv(d.H, kWarps), [&](T::Expr i) {
        T::Expr h = i * kWarps + warp;
        T::If(h < d.H, [&] { T::put_warp(x(b, s, h, 0), y(b, h % d.Hp, me * d.Sp + s, 0), d.D, h / d.Hp, 2, true); });
      });
      // Every rank receives Sp·B blocks' rows from each rank: one count per block and rank.
      T::If(T::get_thread_binding() < P, [&] {
        T::atom_add(arrived(me), 1, T::MemScope::SYS, T::MemSem::Release, T::get_thread_binding());
      });
      T::If(b == 0 && s == 0, [&] {
        T::serial(P, [&](T::Expr p) { T::wait_eq(arrived(p), static_cast<int>(d.B * d.Sp)); });
      });
    });
  });
}

T::PrimFunc post_transpose_program(const Sizes& sizes, int P) {
  const Dims d = dims(sizes, P);
  return T::prim_func("post_attn_all2all_transpose", [&] {
    auto y = T::Tensor("y", {d.B, d.Hp, d.S, d.D}, T::float16);
    auto out = T::Tensor("out", {d.B, d.Sp, d.H, d.D}, T::float16);
    T::Kernel(d.Sp, d.B, T::threads(32 * kWarps), [&](T::Expr s, T::Expr b) {
      T::Expr me = T::get_rank(), warp = T::get_thread_binding() / 32;
      T::serial(T::ceildiv(d.H, kWarps), [&](T::Expr i) {
        T::Expr h = i * kWarps + warp;
        T::If(h < d.H, [&] { T::get_warp(y(b, h % d.Hp, me * d.Sp + s, 0), out(b, s, h, 0), d.D, h / d.Hp, 2, true); });
      });
    });
  });
}

enum class Kind { Pre, PreTranspose, PostTranspose };

T::PrimFunc program(Kind k, const Sizes& s, int P) {
  switch (k) {
    case Kind::Pre: return pre_program(s, P);
    case Kind::PreTranspose: return pre_transpose_program(s, P);
    case Kind::PostTranspose: return post_transpose_program(s, P);
  }
  return pre_program(s, P);
}

// The host reference moves elements one by one: in[] is every rank's input, indexed [rank][...],
// regenerated on the host from the seed.
CheckResult run(Kind kind, const Sizes& sizes, const dist::World& world, std::uint64_t seed) {
  const int P = world.size();
  const Dims d = dims(sizes, P);
  const Kernel kernel = compile(program(kind, sizes, P), world.target());
  const bool post = kind == Kind::PostTranspose;
  const std::vector<std::int64_t> in_shape = kind == Kind::Pre ? std::vector<std::int64_t>{d.B, d.H, d.Sp, d.D}
                                             : post            ? std::vector<std::int64_t>{d.B, d.Hp, d.S, d.D}
                                                               : std::vector<std::int64_t>{d.B, d.Sp, d.H, d.D};
  const std::vector<std::int64_t> out_shape = post ? std::vector<std::int64_t>{d.B, d.Sp, d.H, d.D}
                                                   : std::vector<std::int64_t>{d.B, d.Hp, d.S, d.D};
  std::vector<Tensor> out(P);  // per local rank, on the host
  world.run([&](dist::Rank& rank) {
    Tensor x = symmetric_random(rank, in_shape, DataType::Float16, seed, 0);
    Tensor y = symmetric_poisoned(rank, out_shape, DataType::Float16);
    if (post) {
      rank.barrier();
      kernel(x, y);
    } else {
      Tensor arrived = rank.heap().zeros({P}, DataType::Int32);
      rank.barrier();
      kernel(x, y, arrived);
    }
    rank.barrier();
    out[rank.rank()] = y.to(Device::cpu());
  });
  std::vector<Tensor> in(P);
  for (int p = 0; p < P; ++p) in[p] = host_random(in_shape, DataType::Float16, seed, p, 0);
  return check_local_ranks(world, [&](int r) {
    std::vector<double> expected;
    for (std::int64_t b = 0; b < d.B; ++b)
      for (std::int64_t i = 0; i < out_shape[1]; ++i)
        for (std::int64_t j = 0; j < out_shape[2]; ++j)
          for (std::int64_t e = 0; e < d.D; ++e) {
            if (post) {  // out[b, sl, h, e] = y_p[b, h % Hp, r·Sp + sl, e], p = h / Hp
              const std::int64_t sl = i, h = j;
              expected.push_back(in[h / d.Hp].get({b, h % d.Hp, r * d.Sp + sl, e}));
            } else {  // out[b, hl, s, e] = x_p[b, r·Hp + hl, s % Sp, e], p = s / Sp (or transposed)
              const std::int64_t hl = i, s = j, p = s / d.Sp, h = r * d.Hp + hl;
              expected.push_back(kind == Kind::Pre ? in[p].get({b, h, s % d.Sp, e}) : in[p].get({b, s % d.Sp, h, e}));
            }
          }
    return compare(out[r], expected, kExactTolerance);
  });
}

DistributedExample make(Kind kind, const char* name, const char* description) {
  return DistributedExample{
      .name = name,
      .description = description,
      .default_sizes = {{"B", 2}, {"H", 16}, {"S", 256}, {"D", 64}},
      .test_sizes = {{"B", 2}, {"H", 8}, {"S", 16}, {"D", 16}},
      .test_ranks = {2, 4},
      .unsupported = unsupported,
      .build = [kind](const Sizes& s, int p) { return std::vector<lang::PrimFunc>{program(kind, s, p)}; },
      .run = [kind](const Sizes& s, const dist::World& w, std::uint64_t seed) { return run(kind, s, w, seed); },
  };
}

}  // namespace

DistributedExample pre_attn_all2all_example() {
  return make(Kind::Pre, "pre_attn_all2all",
              "[B, H, S/P, D] -> [B, H/P, S, D] float16 (sequence- to head-parallel): put_block slabs, release counters");
}
DistributedExample pre_attn_all2all_transpose_example() {
  return make(Kind::PreTranspose, "pre_attn_all2all_transpose",
              "[B, S/P, H, D] -> [B, H/P, S, D] float16: put_warp rows per head, release counters, waits");
}
DistributedExample post_attn_all2all_transpose_example() {
  return make(Kind::PostTranspose, "post_attn_all2all_transpose",
              "[B, H/P, S, D] -> [B, S/P, H, D] float16 (head- back to sequence-parallel): get_warp rows per head");
}

}  // namespace tilescale::examples
