#include <mutex>

#include "examples_list.h"

namespace tilescale::examples {

const std::vector<Example>& all_examples() {
  static const std::vector<Example> examples = {
      gemm_example(),
      gemm_relu_example(),
      softmax_example(),
      layernorm_example(),
      elementwise_add_example(),
      transpose_example(),
      flash_attention_example(),
      masked_scale_example(),
  };
  return examples;
}

const Example* find_example(const std::string& name) {
  for (const Example& e : all_examples())
    if (e.name == name) return &e;
  return nullptr;
}

void register_example_programs() {
  static std::once_flag once;
  std::call_once(once, [] {
    for (const Example& e : all_examples()) register_program(e.name, e.default_sizes, e.build);
  });
}

}  // namespace tilescale::examples
