#include "tilescale/tensor.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <random>

#include "runtime/cuda/driver.h"
#include "support/checked.h"
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

// strides == contiguous_strides(shape), without making the latter (a call wraps every argument).
bool are_contiguous(const std::vector<std::int64_t>& shape, const std::vector<std::int64_t>& strides) {
  std::int64_t expected = 1;
  for (int d = static_cast<int>(shape.size()) - 1; d >= 0; --d) {
    if (strides[d] != expected) return false;
    expected *= shape[d];
  }
  return true;
}

// Device memory from cuMemAlloc, freed with cuMemFree when the last tensor using it goes.
std::shared_ptr<void> cuda_alloc(size_t bytes, const Device& device) {
  cuda::set_current_device(device.index);
  CUdeviceptr p = 0;
  const CUresult r = cuda::driver().MemAlloc(&p, bytes);
  if (r == CUDA_ERROR_OUT_OF_MEMORY)
    throw RuntimeError(cat("cannot allocate ", bytes, " bytes on ", device.to_string(), " because the device is out of memory; free tensors or use smaller ones"));
  cuda::check(r, "cuMemAlloc");
  const int index = device.index;
  return std::shared_ptr<void>(reinterpret_cast<void*>(p), [index](void* q) {
    // Errors are ignored: at exit the driver may already be shut down.
    try {
      cuda::set_current_device(index);
      cuda::driver().MemFree(reinterpret_cast<CUdeviceptr>(q));
    } catch (...) {
    }
  });
}

std::string shape_text(const std::vector<std::int64_t>& shape) {
  std::string s = "[";
  for (size_t d = 0; d < shape.size(); ++d) s += cat(d ? ", " : "", shape[d]);
  return s + "]";
}

// RuntimeError unless every extent is >= 0 and the elements' bytes, counted as int64, do not
// overflow; so numel() and every byte count of the tensor are exact.
void check_shape(const std::vector<std::int64_t>& shape, DataType dtype) {
  for (size_t d = 0; d < shape.size(); ++d)
    if (shape[d] < 0)
      throw RuntimeError(cat("cannot make a tensor of shape ", shape_text(shape), " because its extent in dim ", d, " is ",
                             shape[d], "; extents are >= 0"));
  if (!checked_product(shape, bytes(dtype)))
    throw RuntimeError(cat("cannot make a ", name(dtype), " tensor of shape ", shape_text(shape),
                           " because its size in bytes exceeds 2^63-1; use smaller extents"));
}
}  // namespace

std::int64_t Tensor::numel() const {
  std::int64_t n = 1;
  for (auto e : shape_) n *= e;
  return n;
}

Tensor Tensor::empty(std::vector<std::int64_t> shape, DataType dtype, Device device) {
  check_shape(shape, dtype);
  Tensor t;
  t.shape_ = std::move(shape);
  t.strides_ = contiguous_strides(t.shape_);
  t.dtype_ = dtype;
  t.device_ = device;
  const size_t n = static_cast<size_t>(std::max<std::int64_t>(t.numel(), 1)) * bytes(dtype);
  // 256-byte alignment, as the GPU allocators give, so vectorised paths see the same alignment.
  const size_t rounded = (n + 255) / 256 * 256;
  if (device.kind == Device::Kind::CUDA) {
    t.storage_ = cuda_alloc(rounded, device);
    t.data_ = t.storage_.get();
    return t;
  }
  void* p = std::aligned_alloc(256, rounded);
  if (!p) throw RuntimeError(cat("cannot allocate ", rounded, " bytes for a tensor: out of memory"));
  t.storage_ = std::shared_ptr<void>(p, std::free);
  t.data_ = p;
  return t;
}

Tensor Tensor::zeros(std::vector<std::int64_t> shape, DataType dtype, Device device) {
  Tensor t = empty(std::move(shape), dtype, device);
  const size_t n = static_cast<size_t>(t.numel()) * bytes(dtype);
  if (device.kind == Device::Kind::CUDA) {
    cuda::set_current_device(device.index);
    if (n) cuda::check(cuda::driver().MemsetD8(reinterpret_cast<CUdeviceptr>(t.data_), 0, n), "cuMemsetD8");
    return t;
  }
  std::memset(t.data_, 0, n);
  return t;
}

Tensor Tensor::to(const Device& device) const {
  if (!is_contiguous())
    throw RuntimeError(cat("cannot copy ", describe(), " to ", device.to_string(),
                           " because it is not contiguous; only contiguous tensors can be copied between devices"));
  Tensor out = empty(shape_, dtype_, device);
  out.copy_from(*this);
  return out;
}

void Tensor::copy_from(const Tensor& src) const {
  if (src.shape_ != shape_ || src.dtype_ != dtype_)
    throw RuntimeError(cat("cannot copy ", src.describe(), " into ", describe(), " because shape or dtype differ; copy between tensors of one shape and dtype"));
  if (!src.is_contiguous() || !is_contiguous())
    throw RuntimeError(cat("cannot copy ", src.describe(), " into ", describe(), " because ",
                           is_contiguous() ? "the source" : "the destination", " is not contiguous; only contiguous tensors can be copied"));
  const size_t n = static_cast<size_t>(numel()) * bytes(dtype_);
  if (n == 0) return;
  const bool from_gpu = src.device_.kind == Device::Kind::CUDA, to_gpu = device_.kind == Device::Kind::CUDA;
  if (!from_gpu && !to_gpu) {
    std::memmove(data_, src.data_, n);
  } else if (!from_gpu) {
    cuda::set_current_device(device_.index);
    cuda::check(cuda::driver().MemcpyHtoD(reinterpret_cast<CUdeviceptr>(data_), src.data_, n), "cuMemcpyHtoD");
  } else if (!to_gpu) {
    cuda::set_current_device(src.device_.index);
    cuda::check(cuda::driver().MemcpyDtoH(data_, reinterpret_cast<CUdeviceptr>(src.data_), n), "cuMemcpyDtoH");
  } else if (src.device_ == device_) {
    cuda::set_current_device(device_.index);
    cuda::check(cuda::driver().MemcpyDtoD(reinterpret_cast<CUdeviceptr>(data_), reinterpret_cast<CUdeviceptr>(src.data_), n),
                "cuMemcpyDtoD");
  } else {
    // Between two devices: through the host, which needs no peer access.
    copy_from(src.to(Device::cpu()));
  }
}

Tensor Tensor::wrap(void* data, std::vector<std::int64_t> shape, DataType dtype, std::vector<std::int64_t> strides, Device device) {
  check_shape(shape, dtype);
  if (strides.empty()) strides = contiguous_strides(shape);
  if (strides.size() != shape.size())
    throw RuntimeError(cat("cannot wrap memory as a tensor with ", shape.size(), " dimensions and ", strides.size(),
                           " strides; give one stride per dimension"));
  if (!data && std::any_of(shape.begin(), shape.end(), [](auto e) { return e != 0; }) )
    throw RuntimeError("cannot wrap a null pointer as a non-empty tensor");
  // The farthest element from the first, in bytes, must be addressable.
  std::optional<std::int64_t> reach = 0;
  for (size_t d = 0; d < shape.size() && reach; ++d) {
    if (shape[d] == 0) continue;
    auto step = checked_mul(shape[d] - 1, strides[d]);
    if (step) step = checked_mul(*step, bytes(dtype));
    reach = step && *step != std::numeric_limits<std::int64_t>::min() ? checked_add(*reach, std::abs(*step)) : std::nullopt;
  }
  if (!reach)
    throw RuntimeError(cat("cannot wrap memory as a ", name(dtype), " tensor of shape ", shape_text(shape),
                           " with strides ", shape_text(strides), " because its elements span more than 2^63-1 bytes; "
                           "check the strides"));
  Tensor t;
  t.data_ = data;
  t.shape_ = std::move(shape);
  t.strides_ = std::move(strides);
  t.contiguous_ = are_contiguous(t.shape_, t.strides_);
  t.dtype_ = dtype;
  t.device_ = device;
  return t;
}

bool Tensor::is_contiguous() const { return contiguous_; }

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
  if (device_.kind == Device::Kind::CPU && contiguous_) return i;
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
