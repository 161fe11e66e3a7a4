// Every distributed example on the sim transport, at its test sizes, with each of its test rank
// counts: every rank's outputs match the plain-loop reference.
#include <gtest/gtest.h>

#include "distributed/distributed_example.h"

namespace tilescale {
namespace {

struct Case {
  std::string example;
  int ranks;
};

std::string label(const testing::TestParamInfo<Case>& info) {
  return info.param.example + "_" + std::to_string(info.param.ranks) + "_ranks";
}

class DistributedExamples : public testing::TestWithParam<Case> {};

TEST_P(DistributedExamples, MatchReferenceOnSim) {
  const auto* ex = examples::find_distributed_example(GetParam().example);
  ASSERT_NE(ex, nullptr);
  const auto r = examples::run_distributed_example(ex->name, GetParam().ranks, ex->test_sizes);
  EXPECT_TRUE(r.passed()) << ex->name << " with " << GetParam().ranks << " ranks: max relative error "
                          << r.max_relative_error << " > " << r.tolerance;
}

std::vector<Case> cases() {
  std::vector<Case> out;
  for (const auto& ex : examples::distributed_examples())
    for (int ranks : ex.test_ranks) out.push_back({ex.name, ranks});
  return out;
}

INSTANTIATE_TEST_SUITE_P(All, DistributedExamples, testing::ValuesIn(cases()), label);

TEST(DistributedExamples, EveryExampleRunsInCiWithTwoAndFourRanksOrOnAMesh) {
  for (const auto& ex : examples::distributed_examples()) {
    const bool mesh = ex.name == "cannon" || ex.name == "summa";
    EXPECT_EQ(ex.test_ranks, mesh ? std::vector<int>{4} : std::vector<int>({2, 4})) << ex.name;
  }
}

}  // namespace
}  // namespace tilescale
