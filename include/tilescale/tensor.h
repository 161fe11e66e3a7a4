// Host-side tensors: a typed, strided view of memory on a device, owned or borrowed.
//
//   auto A = tilescale::Tensor::empty({256, 128}, tilescale::DataType::Float16);
//   A.fill_random(/*seed=*/1);
//   double x = A.get({3, 5});
//
// Strides are counted in elements, as in torch. Element access from the host (get/set/fill) works on
// CPU tensors only; move data with to() and copy_from():
//
//   auto dA = A.to(tilescale::Device::cuda());   // host → device (CUDA memory from cuMemAlloc)
//   auto hA = dA.to(tilescale::Device::cpu());   // and back
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tilescale/dtype.h"

namespace tilescale {

struct Device {
  enum class Kind { CPU, CUDA };
  Kind kind = Kind::CPU;
  int index = 0;
  static Device cpu() { return {}; }
  static Device cuda(int index = 0) { return {Kind::CUDA, index}; }
  bool operator==(const Device&) const = default;
  std::string to_string() const;  // "cpu", "cuda:0"
};

class Tensor {
 public:
  Tensor() = default;
  // New contiguous storage (uninitialised for empty, zero-filled for zeros).
  static Tensor empty(std::vector<std::int64_t> shape, DataType dtype, Device device = Device::cpu());
  static Tensor zeros(std::vector<std::int64_t> shape, DataType dtype, Device device = Device::cpu());
  // Borrows memory the caller keeps alive; strides default to contiguous row-major.
  static Tensor wrap(void* data, std::vector<std::int64_t> shape, DataType dtype,
                     std::vector<std::int64_t> strides = {}, Device device = Device::cpu());

  void* data() const { return data_; }
  const std::vector<std::int64_t>& shape() const { return shape_; }
  const std::vector<std::int64_t>& strides() const { return strides_; }
  std::int64_t shape(int dim) const { return shape_.at(dim); }
  int rank() const { return static_cast<int>(shape_.size()); }
  std::int64_t numel() const;
  DataType dtype() const { return dtype_; }
  const Device& device() const { return device_; }
  bool defined() const { return data_ != nullptr || numel() == 0; }
  bool is_contiguous() const;
  std::string describe() const;  // "float16[256, 128] on cpu"

  // Host element access (CPU tensors), values converted through double.
  double get(const std::vector<std::int64_t>& index) const;
  void set(const std::vector<std::int64_t>& index, double value) const;
  // The i-th element in row-major order of the logical shape, whatever the strides.
  double get_flat(std::int64_t i) const;
  void set_flat(std::int64_t i, double value) const;
  void fill(double value) const;
  // Uniform values in [lo, hi) from a fixed generator, so runs are reproducible.
  void fill_random(std::uint64_t seed, double lo = -1.0, double hi = 1.0) const;

  // A new contiguous tensor on `device` holding a copy of this one (always a copy, even to the
  // same device). This tensor must be contiguous.
  Tensor to(const Device& device) const;
  // Copies `src` into this tensor's storage, between any devices; both must be contiguous and have
  // the same shape and dtype.
  void copy_from(const Tensor& src) const;

 private:
  std::shared_ptr<void> storage_;
  void* data_ = nullptr;
  std::vector<std::int64_t> shape_, strides_;
  DataType dtype_ = DataType::Float32;
  Device device_;
  bool contiguous_ = true;  // strides_ are the row-major strides of shape_
  std::int64_t offset_of(const std::vector<std::int64_t>& index) const;
  std::int64_t offset_of_flat(std::int64_t i) const;
};

// Largest element-wise relative error of `got` against `expected`: |g - e| / max(|e|, floor), where
// floor = 1e-3 · max|e| keeps elements near zero from dominating. NaN or a shape mismatch gives +inf.
double max_relative_error(const Tensor& got, const Tensor& expected);

}  // namespace tilescale
