// The distributed example programs: each builds its kernels for a number of ranks, runs them in a
// World of any transport (tilescale/dist.h) on random inputs, and checks the outputs of the ranks
// this process drives against a reference computed on the host with plain loops from every rank's
// inputs, which the host regenerates from the seed (support.h). `tilescale run <name> --ranks N`
// and the tests (tests/dist) use this registry; registry.cc lists them in order.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "example.h"

namespace tilescale::examples {

struct DistributedExample {
  std::string name;
  std::string description;
  Sizes default_sizes;          // what `tilescale run <name> --ranks N` uses
  Sizes test_sizes;             // small: the CI runs finish in seconds on the CPU backend
  std::vector<int> test_ranks;  // the rank counts CI checks it with
  // Why the example cannot run with `ranks` ranks at `sizes` ("" when it can).
  std::function<std::string(const Sizes& sizes, int ranks)> unsupported;
  // Its kernels, built for `ranks` ranks (for dumps and the NVRTC compile tests).
  std::function<std::vector<lang::PrimFunc>(const Sizes& sizes, int ranks)> build;
  // Runs it on every rank of `world` (kernels compiled for world.target(), inputs from `seed`) and
  // compares the outputs of world.local_ranks() with the reference. Call it from outside
  // world.run, on every process of the world.
  std::function<CheckResult(const Sizes& sizes, const dist::World& world, std::uint64_t seed)> run;
};

const std::vector<DistributedExample>& distributed_examples();
const DistributedExample* find_distributed_example(const std::string& name);  // null when unknown

// What `tilescale run <name> --ranks N [--size SPEC] [--seed S]` does, in `world`: RuntimeError
// naming the problem when the example is unknown or world.size() ranks do not suit it at `sizes`.
CheckResult run_distributed_example(const std::string& name, const dist::World& world, const Sizes& sizes,
                                    std::uint64_t seed = 1);

}  // namespace tilescale::examples
