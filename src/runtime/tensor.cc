#include "tilescale/tensor.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <random>

#include "tilescale/errors.h"

namespace tilescale {

using tilescale::detail::cat;

std::string Device::to_string() const { return kind == Kind::CPU ? "cpu" : cat("cuda:", index); }

namespace {
std::vector<std::int64_t> contiguous_strides(const std::vector<std::int64_t>& shape) {
  std::vector<std::int64_t> s(shape.size(), 1);
  for (int d = static_cast<int>(shape.size()) - 2; d >= 0; --d) s[d] = s[d + 1] * shape[d + 1];
  return s;
}

void check_shape(const std::vector<std::int64_t>& shape) {
  for (size_t d = 0; d < shape.size(); ++d)
    if (shape[d] < 0) throw RuntimeError(cat("cannot make a tensor with extent ", shape[d], " in dim ", d, "; extents are >= 0"));
}
}  // namespace

std::int64_t Tensor::numel() const {
  std::int64_t n = 1;
  for (auto e : shape_) n *= e;
  return n;
}

Tensor Tensor::empty(std::vector<std::int64_t> shape, DataType dtype, Device device) {
  check_shape(shape);
  if (device.kind != Device::Kind::CPU)
    throw RuntimeError(cat("cannot allocate a tensor on ", device.to_string(), " because this build has no CUDA runtime yet; use Device::cpu()"));
  Tensor t;
  t.shape_ = std::move(shape);
  t.strides_ = contiguous_strides(t.shape_);
  t.dtype_ = dtype;
  t.device_ = device;
  const size_t n = static_cast<size_t>(std::max<std::int64_t>(t.numel(), 1)) * bytes(dtype);
  // 256-byte alignment, as the GPU allocators give, so vectorised paths see the same alignment.
  const size_t rounded = (n + 255) / 256 * 256;
  void* p = std::aligned_alloc(256, rounded);
  if (!p) throw RuntimeError(cat("cannot allocate ", rounded, " bytes for a tensor: out of memory"));
  t.storage_ = std::shared_ptr<void>(p, std::free);
  t.data_ = p;
  return t;
}

Tensor Tensor::zeros(std::vector<std::int64_t> shape, DataType dtype, Device device) {
  Tensor t = empty(std::move(shape), dtype, device);
  std::memset(t.data_, 0, static_cast<size_t>(t.numel()) * bytes(dtype));
  return t;
}

Tensor Tensor::wrap(void* data, std::vector<std::int64_t> shape, DataType dtype, std::vector<std::int64_t> strides, Device device) {
  check_shape(shape);
  if (strides.empty()) strides = contiguous_strides(shape);
  if (strides.size() != shape.size())
    throw RuntimeError(cat("cannot wrap memory as a tensor with ", shape.size(), " dimensions and ", strides.size(),
                           " strides; give one stride per dimension"));
  if (!data && std::any_of(shape.begin(), shape.end(), [](auto e) { return e != 0; }) )
    throw RuntimeError("cannot wrap a null pointer as a non-empty tensor");
  Tensor t;
  t.data_ = data;
  t.shape_ = std::move(shape);
  t.strides_ = std::move(strides);
  t.dtype_ = dtype;
  t.device_ = device;
  return t;
}

bool Tensor::is_contiguous() const { return strides_ == contiguous_strides(shape_); }

std::string Tensor::describe() const {
  std::string s = cat(name(dtype_), "[");
  for (size_t d = 0; d < shape_.size(); ++d) s += cat(d ? ", " : "", shape_[d]);
  return s + "] on " + device_.to_string();
}

std::int64_t Tensor::offset_of(const std::vector<std::int64_t>& index) const {
  if (device_.kind != Device::Kind::CPU)
    throw RuntimeError(cat("cannot access elements of ", describe(), " from the host; copy it to the CPU first"));
  if (index.size() != shape_.size())
    throw RuntimeError(cat("cannot index ", describe(), " with ", index.size(), " indices; give one per dimension"));
  std::int64_t off = 0;
  for (size_t d = 0; d < index.size(); ++d) {
    if (index[d] < 0 || index[d] >= shape_[d])
      throw RuntimeError(cat("index ", index[d], " is out of bounds for dim ", d, " of ", describe()));
    off += index[d] * strides_[d];
  }
  return off;
}

std::int64_t Tensor::offset_of_flat(std::int64_t i) const {
  if (i < 0 || i >= numel()) throw RuntimeError(cat("flat index ", i, " is out of bounds for ", describe()));
  std::vector<std::int64_t> index(shape_.size());
  for (int d = rank() - 1; d >= 0; --d) {
    index[d] = i % shape_[d];
    i /= shape_[d];
  }
  return offset_of(index);
}

double Tensor::get(const std::vector<std::int64_t>& index) const {
  return load_as_double(dtype_, static_cast<std::byte*>(data_) + offset_of(index) * bytes(dtype_));
}
void Tensor::set(const std::vector<std::int64_t>& index, double value) const {
  store_double(dtype_, value, static_cast<std::byte*>(data_) + offset_of(index) * bytes(dtype_));
}
double Tensor::get_flat(std::int64_t i) const {
  return load_as_double(dtype_, static_cast<std::byte*>(data_) + offset_of_flat(i) * bytes(dtype_));
}
void Tensor::set_flat(std::int64_t i, double value) const {
  store_double(dtype_, value, static_cast<std::byte*>(data_) + offset_of_flat(i) * bytes(dtype_));
}

void Tensor::fill(double value) const {
  for (std::int64_t i = 0; i < numel(); ++i) set_flat(i, value);
}

void Tensor::fill_random(std::uint64_t seed, double lo, double hi) const {
  std::mt19937_64 gen(seed);
  std::uniform_real_distribution<double> dist(lo, hi);
  for (std::int64_t i = 0; i < numel(); ++i) set_flat(i, is_float(dtype_) ? dist(gen) : std::floor(dist(gen)));
}

double max_relative_error(const Tensor& got, const Tensor& expected) {
  if (got.shape() != expected.shape()) return std::numeric_limits<double>::infinity();
  double peak = 0;
  for (std::int64_t i = 0; i < expected.numel(); ++i) peak = std::max(peak, std::fabs(expected.get_flat(i)));
  const double floor = std::max(1e-3 * peak, std::numeric_limits<double>::min());
  double worst = 0;
  for (std::int64_t i = 0; i < got.numel(); ++i) {
    const double g = got.get_flat(i), e = expected.get_flat(i);
    if (std::isnan(g) != std::isnan(e)) return std::numeric_limits<double>::infinity();
    if (std::isnan(g)) continue;
    if (std::isinf(g) || std::isinf(e)) {
      if (g != e) return std::numeric_limits<double>::infinity();
      continue;
    }
    worst = std::max(worst, std::fabs(g - e) / std::max(std::fabs(e), floor));
  }
  return worst;
}

}  // namespace tilescale
