// Bandwidth-bound examples against the device-to-device copy of the same bytes, measured in the
// same run: the ceiling for a kernel that reads its input once and writes its output once.
#include <cstdio>

#include "bench.h"
#include "runtime/cuda/driver.h"

namespace tilescale::bench {

std::vector<Row> memory_bound(const std::string& name, const std::string& spec) {
  const examples::Example* ex = examples::find_example(name);
  if (!ex) throw RuntimeError(detail::cat("cannot benchmark unknown example ", name));
  const auto sizes = examples::parse_sizes(spec, ex->default_sizes);
  const Kernel kernel = compile(ex->build(sizes), Target::CUDA);
  // The example's own check proves the kernel right at this size before it is timed.
  const auto check = ex->check(kernel, sizes, 3);
  // Inputs: every tensor of the signature, random, on the device; the output is the last one.
  std::vector<Tensor> args;
  double bytes = 0;
  for (const auto& p : kernel.params()) {
    Tensor h = Tensor::empty(p.shape, p.dtype);
    h.fill_random(args.size() + 1);
    args.push_back(h.to(Device::cuda()));
    bytes += static_cast<double>(h.numel()) * tilescale::bytes(p.dtype);
  }
  Row r;
  r.case_name = detail::cat(name, " ", examples::format_sizes(sizes));
  r.max_rel_error = check.max_relative_error;
  r.is_bytes = true;
  r.work = bytes;
  r.ours_ms = time_cuda([&](void* stream) { kernel.call(args, stream); });
  // The peer: copy as many bytes as the kernel reads and writes (half read, half written).
  const Tensor src = Tensor::empty({static_cast<std::int64_t>(bytes / 2)}, DataType::UInt8, Device::cuda());
  const Tensor dst = Tensor::empty({static_cast<std::int64_t>(bytes / 2)}, DataType::UInt8, Device::cuda());
  r.peer_ms = time_cuda([&](void*) {
    TS_CU(MemcpyDtoD, reinterpret_cast<CUdeviceptr>(dst.data()), reinterpret_cast<CUdeviceptr>(src.data()), src.numel());
  });
  return {r};
}

}  // namespace tilescale::bench
