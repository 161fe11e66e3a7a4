// The C ABI of include/tilescale/capi.h: every entry point catches what tilescale throws and turns it
// into a return value plus ts_last_error().
#include "tilescale/capi.h"

#include <cstdint>
#include <exception>
#include <string>
#include <vector>

#include "tilescale/errors.h"
#include "tilescale/programs.h"
#include "tilescale/runtime.h"
#include "tilescale/tensor.h"

namespace ts = tilescale;

struct ts_kernel {
  ts::Kernel kernel;
  std::vector<ts::ParamInfo> params;
  std::string description;
};

namespace {

thread_local std::string last_error;
thread_local std::string program_list;  // ts_program_names' answer

// Runs f, turning any exception into `failed` and a message in last_error: tilescale's errors as
// they are, anything else as detail::rethrow_as_error makes it (with `doing` as its context).
template <typename F, typename R>
R guarded(const char* doing, F&& f, R failed) {
  try {
    last_error.clear();
    try {
      return f();
    } catch (...) {
      ts::detail::rethrow_as_error(doing);
    }
  } catch (const std::exception& e) {
    last_error = e.what();
  }
  return failed;
}

std::string param_names(const std::vector<ts::ParamInfo>& params) {
  std::string out;
  for (const auto& p : params) out += (out.empty() ? "" : ", ") + p.name;
  return out;
}

const ts::ParamInfo* param(const ts_kernel* k, int index) {
  if (!k || index < 0 || index >= static_cast<int>(k->params.size())) return nullptr;
  return &k->params[index];
}

// The value of a scalar parameter of type `dtype` (int32, int64 or float32) that `value` points to.
ts::Arg scalar_at(const void* value, ts::DataType dtype) {
  switch (dtype) {
    case ts::DataType::Int32: return *static_cast<const std::int32_t*>(value);
    case ts::DataType::Int64: return *static_cast<const std::int64_t*>(value);
    case ts::DataType::Float32: return *static_cast<const float*>(value);
    default: throw ts::InternalError(ts::detail::cat("scalar parameter of type ", ts::name(dtype)));
  }
}

// "flash_attention [B=1 ...] on cpu"; `sizes` is null for a kernel that did not come from a program.
std::string describe(const std::string& name, const ts::Kernel& kernel, const ts::ProgramSizes* sizes) {
  std::string out = name;
  if (sizes) out += ts::detail::cat(" [", ts::format_sizes(*sizes), "]");
  out += ts::detail::cat(" on ", ts::name(kernel.target()));
  if (kernel.target() != ts::Target::CPU) {
    const ts::CompileInfo& info = kernel.compile_info();
    out += ts::detail::cat(" (", info.arch, "), ", info.cache_hit ? "cache hit " : "NVRTC ", info.jit_ms, " ms");
  }
  return out;
}

}  // namespace

extern "C" {

ts_kernel* ts_program_create(const char* name, const char* sizes, const char* target) {
  return guarded(
      "create a kernel through the C ABI",
      [&]() -> ts_kernel* {
        const std::string program = name ? name : "";
        const ts::ProgramSizes s = ts::program_sizes(program, sizes ? sizes : "");
        const ts::Target t = ts::parse_target(target && *target ? target : "auto");
        ts::Kernel kernel = ts::compile(ts::build_program(program, s), t);
        return new ts_kernel{kernel, kernel.params(), describe(program, kernel, &s)};
      },
      static_cast<ts_kernel*>(nullptr));
}

const char* ts_program_names(void) {
  return guarded(
      "list the programs through the C ABI",
      []() -> const char* {
        std::string out;
        for (const auto& n : ts::program_names()) out += (out.empty() ? "" : ",") + n;
        program_list = std::move(out);
        return program_list.c_str();
      },
      "");
}

int ts_kernel_num_params(const ts_kernel* kernel) { return kernel ? static_cast<int>(kernel->params.size()) : -1; }

const char* ts_kernel_param_name(const ts_kernel* kernel, int index) {
  const ts::ParamInfo* p = param(kernel, index);
  return p ? p->name.c_str() : nullptr;
}

const char* ts_kernel_param_dtype(const ts_kernel* kernel, int index) {
  const ts::ParamInfo* p = param(kernel, index);
  return p ? ts::name(p->dtype) : nullptr;
}

int ts_kernel_param_is_scalar(const ts_kernel* kernel, int index) {
  const ts::ParamInfo* p = param(kernel, index);
  return p ? static_cast<int>(p->scalar) : -1;
}

int ts_kernel_param_rank(const ts_kernel* kernel, int index) {
  const ts::ParamInfo* p = param(kernel, index);
  return p ? static_cast<int>(p->shape.size()) : -1;
}

int64_t ts_kernel_param_dim(const ts_kernel* kernel, int index, int dim) {
  const ts::ParamInfo* p = param(kernel, index);
  if (!p || dim < 0 || dim >= static_cast<int>(p->shape.size())) return -1;
  return p->shape[dim];
}

const char* ts_kernel_describe(const ts_kernel* kernel) { return kernel ? kernel->description.c_str() : nullptr; }

int ts_kernel_call(const ts_kernel* kernel, void* const* args, int num_args, void* stream) {
  return guarded(
      "call a kernel through the C ABI",
      [&]() -> int {
        if (!kernel) throw ts::RuntimeError("cannot call a kernel through the C ABI because the handle is null");
        const auto& params = kernel->params;
        if (num_args != static_cast<int>(params.size()))
          throw ts::RuntimeError(ts::detail::cat("cannot call ", kernel->kernel.name(), " with ", num_args,
                                                 " pointers because it takes ", params.size(), " (", param_names(params),
                                                 "); pass one pointer per parameter, in that order"));
        if (num_args > 0 && !args)
          throw ts::RuntimeError(ts::detail::cat("cannot call ", kernel->kernel.name(), " because args is null; pass an "
                                                 "array of ", num_args, " pointers (", param_names(params), ")"));
        const ts::Device device = kernel->kernel.target() != ts::Target::CPU ? ts::Device::cuda() : ts::Device::cpu();
        std::vector<ts::Arg> values;
        for (int i = 0; i < num_args; ++i) {
          const ts::ParamInfo& p = params[i];
          if (!args[i])
            throw ts::RuntimeError(ts::detail::cat("cannot call ", kernel->kernel.name(), " because the pointer for parameter ",
                                                   p.name, " (argument ", i, ") is null; pass ",
                                                   p.scalar ? "a pointer to its value" : "its tensor's data pointer"));
          if (p.scalar) {
            values.push_back(scalar_at(args[i], p.dtype));
            continue;
          }
          for (std::int64_t extent : p.shape)
            if (extent < 0)
              throw ts::RuntimeError(ts::detail::cat(
                  "cannot call ", kernel->kernel.name(), " through the C ABI because parameter ", p.name,
                  " has a symbolic dimension, and a bare pointer does not say its extent; build the program with "
                  "constant shapes"));
          values.push_back(ts::Tensor::wrap(args[i], p.shape, p.dtype, {}, device));
        }
        kernel->kernel.call(values, stream);
        return 0;
      },
      1);
}

void ts_kernel_destroy(ts_kernel* kernel) { delete kernel; }

const char* ts_last_error(void) { return last_error.c_str(); }

}  // extern "C"

ts_kernel* tilescale::to_c_kernel(Kernel kernel) {
  return new ts_kernel{kernel, kernel.params(), describe(kernel.name(), kernel, nullptr)};
}
