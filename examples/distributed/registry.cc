#include "distributed_list.h"

namespace tilescale::examples {

using tilescale::detail::cat;

const std::vector<DistributedExample>& distributed_examples() {
  static const std::vector<DistributedExample> examples = {
      simple_shift_example(),
      allgather_push_example(),
      allgather_pull_example(),
      all_to_all_example(),
      pre_attn_all2all_example(),
      pre_attn_all2all_transpose_example(),
      post_attn_all2all_transpose_example(),
      allgather_gemm_example(),
      gemm_rs_example(),
      reduce_scatter_example(),
      allreduce_example(),
      cannon_example(),
      summa_example(),
  };
  return examples;
}

const DistributedExample* find_distributed_example(const std::string& name) {
  for (const auto& e : distributed_examples())
    if (e.name == name) return &e;
  return nullptr;
}

CheckResult run_distributed_example(const std::string& name, const dist::World& world, const Sizes& sizes,
                                    std::uint64_t seed) {
  const DistributedExample* ex = find_distributed_example(name);
  if (!ex) {
    std::string names;
    for (const auto& e : distributed_examples()) names += (names.empty() ? "" : ", ") + e.name;
    throw RuntimeError(cat("cannot run distributed example ", name, " because there is none of that name; use one of ", names));
  }
  const int ranks = world.size();
  if (std::string why = ex->unsupported(sizes, ranks); !why.empty())
    throw RuntimeError(cat("cannot run ", name, " with ", ranks, ranks == 1 ? " rank" : " ranks", " at sizes ",
                           format_sizes(sizes), " because ", why));
  return ex->run(sizes, world, seed);
}

}  // namespace tilescale::examples
