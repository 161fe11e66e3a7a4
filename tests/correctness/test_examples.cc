// Every example program at its test sizes passes its own check on the CPU backend (and
// flash_attention also with the causal mask flipped on).
#include <ostream>

#include "example.h"
#include "test_util.h"

namespace tilescale::test {
namespace {

struct ExampleCase {
  const examples::Example* example;
  std::string label;
  examples::Sizes sizes;
  friend std::ostream& operator<<(std::ostream& os, const ExampleCase& c) {
    return os << c.label << " {" << examples::format_sizes(c.sizes) << "}";
  }
};

std::vector<ExampleCase> example_cases() {
  std::vector<ExampleCase> cases;
  for (const auto& e : examples::all_examples()) {
    cases.push_back({&e, e.name, e.test_sizes});
    if (e.test_sizes.count("causal")) {
      examples::Sizes flipped = e.test_sizes;
      flipped["causal"] = flipped["causal"] ? 0 : 1;
      cases.push_back({&e, e.name + (flipped["causal"] ? "_causal" : "_noncausal"), flipped});
      // A sequence length that is not a multiple of the key/query tiles exercises the tail mask.
      if (e.test_sizes.count("S") && e.test_sizes.at("S") > 28)
        for (std::int64_t causal : {0, 1}) {
          examples::Sizes ragged = e.test_sizes;
          ragged["S"] -= 28;
          ragged["causal"] = causal;
          cases.push_back({&e, e.name + "_ragged" + (causal ? "_causal" : ""), ragged});
        }
    }
  }
  return cases;
}

class Examples : public ::testing::TestWithParam<ExampleCase> {};

TEST_P(Examples, PassesItsCheck) {
  const auto& c = GetParam();
  Kernel k = cpu(c.example->build(c.sizes));
  for (std::uint64_t seed : {1, 2}) {
    const examples::CheckResult r = c.example->check(k, c.sizes, seed);
    EXPECT_TRUE(r.passed()) << c << " seed " << seed << ": max relative error " << r.max_relative_error
                            << " > tolerance " << r.tolerance;
  }
}

INSTANTIATE_TEST_SUITE_P(All, Examples, ::testing::ValuesIn(example_cases()),
                         [](const auto& info) { return info.param.label; });

TEST(ExamplesRegistry, EveryExampleHasTestSizesAndIsFoundByName) {
  ASSERT_FALSE(examples::all_examples().empty());
  bool has_flash_causal = false;
  for (const auto& e : examples::all_examples()) {
    EXPECT_FALSE(e.test_sizes.empty()) << e.name;
    EXPECT_TRUE(e.build) << e.name;
    EXPECT_TRUE(e.check) << e.name;
    EXPECT_EQ(examples::find_example(e.name), &e);
    has_flash_causal |= e.name == "flash_attention" && e.test_sizes.count("causal");
  }
  EXPECT_TRUE(has_flash_causal) << "flash_attention should take a causal size";
}

}  // namespace
}  // namespace tilescale::test
