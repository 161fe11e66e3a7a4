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

lang::PrimFunc readme_gemm(const ReadmeGemm& o) {
  namespace T = lang;
  return T::prim_func("gemm", [&] {
    auto A = T::Tensor("A", {256, 256}, T::float16);
    auto B = T::Tensor("B", {256, 256}, T::float16);
    auto C = T::Tensor("C", {256, 256}, o.c_dtype);
    T::Kernel(2, 2, T::threads(128), [&](T::Expr bx, T::Expr by) {
      if (o.persistent) T::persistent();
      auto A_shared = T::alloc_shared({128, 32}, T::float16, "A_shared");
      auto B_shared = T::alloc_shared({32, 128}, T::float16, "B_shared");
      auto C_local = T::alloc_fragment({128, 128}, T::float32, "C_local");
      T::clear(C_local);
      T::Pipelined(8, 3, [&](T::Expr k) {
        T::copy(A(by * 128, k * 32), A_shared);
        T::copy(B(k * 32, bx * 128), B_shared);
        T::gemm(A_shared, B_shared, C_local);
      });
      if (o.epilogue) o.epilogue(C, C_local, bx, by);
      else T::copy(C_local, C(by * 128, bx * 128));
    });
  });
}

lang::PrimFunc one_gemm(int threads) {
  namespace T = lang;
  return T::prim_func("one_gemm", [threads] {
    auto A = T::Tensor("A", {128, 32}, T::float16);
    auto B = T::Tensor("B", {32, 128}, T::float16);
    auto C = T::Tensor("C", {128, 128}, T::float32);
    T::Kernel(1, T::threads(threads), [&](T::Expr) {
      auto A_shared = T::alloc_shared({128, 32}, T::float16, "A_shared");
      auto B_shared = T::alloc_shared({32, 128}, T::float16, "B_shared");
      auto C_local = T::alloc_fragment({128, 128}, T::float32, "C_local");
      T::copy(A(0, 0), A_shared);
      T::copy(B(0, 0), B_shared);
      T::gemm(A_shared, B_shared, C_local, {.clear_accum = true});
      T::copy(C_local, C(0, 0));
    });
  });
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
