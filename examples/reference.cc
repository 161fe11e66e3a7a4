#include "reference.h"

#include <cmath>
#include <limits>

namespace tilescale::examples {

std::int64_t size_of(const Sizes& sizes, const std::string& name) {
  auto it = sizes.find(name);
  if (it == sizes.end())
    throw CompileError(detail::cat("cannot build the example because size ", name, " is missing from {",
                                   format_sizes(sizes), "}; pass it as ", name, "=<value>"));
  return it->second;
}

bool flag_of(const Sizes& sizes, const std::string& name) {
  const std::int64_t v = size_of(sizes, name);
  if (v != 0 && v != 1)
    throw CompileError(detail::cat("cannot build the example with ", name, "=", v, " because ", name, " is a switch; pass ",
                                   name, "=0 or ", name, "=1"));
  return v == 1;
}

std::uint64_t derive_seed(std::uint64_t seed, int stream) {
  // splitmix64 of (seed, stream): nearby seeds and streams give unrelated generators.
  std::uint64_t z = seed * 0x9E3779B97F4A7C15ull + static_cast<std::uint64_t>(stream + 1) * 0xD1B54A32D192ED03ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

Tensor random_input(const std::vector<std::int64_t>& shape, DataType dtype, std::uint64_t seed, int stream,
                    double lo, double hi) {
  Tensor t = Tensor::empty(shape, dtype);
  t.fill_random(derive_seed(seed, stream), lo, hi);
  return t;
}

Tensor poisoned_output(const std::vector<std::int64_t>& shape, DataType dtype) {
  Tensor t = Tensor::empty(shape, dtype);
  if (is_float(dtype))
    t.fill(std::numeric_limits<double>::quiet_NaN());
  else if (is_bool(dtype))
    t.fill(1.0);
  else
    t.fill(static_cast<double>((std::int64_t{1} << (bits(dtype) - 1)) - 1));
  return t;
}

void run_kernel(const Kernel& kernel, const std::vector<Arg>& host_args) {
  if (kernel.target() == Target::CPU) {
    kernel.call(host_args);
    return;
  }
  // On the GPU: every tensor (outputs poisoned too) goes to the device and comes back.
  std::vector<Arg> device_args;
  for (const auto& a : host_args)
    device_args.push_back(a.kind() == Arg::Kind::Tensor ? Arg(a.tensor().to(Device::cuda())) : a);
  kernel.call(device_args);
  for (size_t i = 0; i < host_args.size(); ++i)
    if (host_args[i].kind() == Arg::Kind::Tensor) host_args[i].tensor().copy_from(device_args[i].tensor());
}

std::vector<double> values(const Tensor& t) {
  std::vector<double> v(static_cast<std::size_t>(t.numel()));
  for (std::int64_t i = 0; i < t.numel(); ++i) v[i] = t.get_flat(i);
  return v;
}

std::vector<double> matmul(const std::vector<double>& a, const std::vector<double>& b, std::int64_t M, std::int64_t N,
                           std::int64_t K) {
  std::vector<double> c(M * N, 0.0);
  for (std::int64_t i = 0; i < M; ++i)
    for (std::int64_t k = 0; k < K; ++k)
      for (std::int64_t j = 0; j < N; ++j) c[i * N + j] += a[i * K + k] * b[k * N + j];
  return c;
}

CheckResult compare(const Tensor& got, const std::vector<double>& expected, double tolerance) {
  if (static_cast<std::int64_t>(expected.size()) != got.numel())
    throw InternalError(detail::cat("reference of ", expected.size(), " elements for output ", got.describe()));
  Tensor want = Tensor::empty(got.shape(), DataType::Float64);
  for (std::int64_t i = 0; i < got.numel(); ++i) want.set_flat(i, expected[i]);
  CheckResult r;
  r.max_relative_error = max_relative_error(got, want);
  r.tolerance = tolerance;
  return r;
}

}  // namespace tilescale::examples
