#include "pass_test.h"

#include <sstream>

#include "ir/printer.h"
#include "pipeline.h"
#include "tilescale/errors.h"

namespace tilescale::testing {

AroundPass around_pass(const lang::PrimFunc& func, const std::string& pass, Target target, int sm, bool tma) {
  const std::vector<std::string> names = pipeline_pass_names(target);
  std::string previous;
  for (const auto& n : names) {
    if (n == pass) break;
    previous = n;
  }
  const ir::PrimFunc before = previous.empty() ? func.node() : run_pipeline(func.node(), {target, previous, sm, tma});
  return {ir::print(before), ir::print(run_pipeline(func.node(), {target, pass, sm, tma}))};
}

std::string kernel_body(const std::string& printed) {
  std::istringstream in(printed);
  std::string line, out;
  bool inside = false;
  while (std::getline(in, line)) {
    if (!inside) {
      inside = line.find("with T.Kernel(") != std::string::npos;
      continue;
    }
    out += line.substr(std::min<std::size_t>(8, line.find_first_not_of(' '))) + "\n";
  }
  return out;
}

}  // namespace tilescale::testing
