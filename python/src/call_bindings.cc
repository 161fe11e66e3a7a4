// Compiling and calling kernels from Python: tilescale._tilescale.Kernel, compile and generate_cuda
// (the CUDA a program makes, without a GPU).
//
// A call is the hot path (a few microseconds is the budget, most of it cuLaunchKernel's), so its
// arguments never go through Python code: a torch tensor is read through the DLPack C exchange API
// that torch.Tensor publishes (__dlpack_c_exchange_api__: a C function fills a DLTensor that borrows
// the tensor's shape and strides, another gives torch's current stream), an older torch through the
// tensor's attributes, anything else through DLPack or the array interface (nb::ndarray).
#include <cstdint>
#include <optional>
#include <unordered_map>
#include <utility>

#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include "bindings.h"
#include "jit/cache.h"
#include "runtime/cuda/driver.h"
#include "tilescale/errors.h"
#include "tilescale/runtime.h"
#include "tilescale/tensor.h"

namespace tilescale::python {

using tilescale::detail::cat;

namespace {

// DLPack's device types (dlpack.h's DLDeviceType) that tilescale takes.
constexpr std::int32_t kDLCPU = 1, kDLCUDA = 2, kDLCUDAHost = 3;

// The DLPack C exchange API (dlpack.h 1.3's DLPackExchangeAPI, version 1.x): what a producer type
// publishes as a PyCapsule named "dlpack_exchange_api" in its __dlpack_c_exchange_api__ attribute.
// Only the two functions a call uses are typed; the others are kept as opaque pointers so the
// layout matches.
struct DLPackExchangeAPI {
  struct {
    std::uint32_t major, minor;
    const void* prev_api;
  } version;
  const void* managed_tensor_allocator;
  const void* managed_tensor_from_py_object_no_sync;
  const void* managed_tensor_to_py_object_no_sync;
  // Fills `out` with a view of `py_object` (shape and strides borrowed from it), without waiting
  // for any stream. 0 on success; -1 with a Python error set.
  int (*dltensor_from_py_object_no_sync)(void* py_object, nb::dlpack::dltensor* out);
  // The stream the producer's work on that device goes to now (torch's current stream).
  int (*current_work_stream)(std::int32_t device_type, std::int32_t device_id, void** out_stream);
};

// The exchange API of Python type `type`, null when it publishes none (or one of another major
// version). Looked up once per type; the types stay referenced for the life of the process.
const DLPackExchangeAPI* exchange_api(PyTypeObject* type) {
  static std::unordered_map<PyTypeObject*, const DLPackExchangeAPI*> apis;
  auto it = apis.find(type);
  if (it != apis.end()) return it->second;
  const DLPackExchangeAPI* api = nullptr;
  if (PyObject* capsule = PyObject_GetAttrString(reinterpret_cast<PyObject*>(type), "__dlpack_c_exchange_api__")) {
    if (PyCapsule_IsValid(capsule, "dlpack_exchange_api"))
      api = static_cast<const DLPackExchangeAPI*>(PyCapsule_GetPointer(capsule, "dlpack_exchange_api"));
    if (api && (api->version.major != 1 || !api->dltensor_from_py_object_no_sync || !api->current_work_stream))
      api = nullptr;
    Py_DECREF(capsule);  // the type holds it
  }
  PyErr_Clear();
  Py_INCREF(type);
  return apis.emplace(type, api).first->second;
}

DataType dtype_of(const nb::dlpack::dtype& t, std::size_t index) {
  using Code = nb::dlpack::dtype_code;
  const auto code = static_cast<Code>(t.code);
  if (t.lanes == 1) switch (code) {
      case Code::Bool: return DataType::Bool;
      case Code::Int:
        if (t.bits == 8) return DataType::Int8;
        if (t.bits == 16) return DataType::Int16;
        if (t.bits == 32) return DataType::Int32;
        if (t.bits == 64) return DataType::Int64;
        break;
      case Code::UInt:
        if (t.bits == 8) return DataType::UInt8;
        if (t.bits == 16) return DataType::UInt16;
        if (t.bits == 32) return DataType::UInt32;
        if (t.bits == 64) return DataType::UInt64;
        break;
      case Code::Float:
        if (t.bits == 16) return DataType::Float16;
        if (t.bits == 32) return DataType::Float32;
        if (t.bits == 64) return DataType::Float64;
        break;
      case Code::Bfloat:
        if (t.bits == 16) return DataType::BFloat16;
        break;
      case Code::Float8_E4M3FN: return DataType::Float8E4M3;
      case Code::Float8_E5M2: return DataType::Float8E5M2;
      default: break;
    }
  throw tilescale::RuntimeError(cat("cannot pass argument ", index, " because its element type (DLPack code ", int(t.code),
                                    ", ", int(t.bits), " bits, ", int(t.lanes), " lanes) is not one tilescale has; "
                                    "pass float16, bfloat16, float32, float64, float8, integer or bool arrays"));
}

// A DLPack view as a Tensor borrowing its memory (strides in elements, null: contiguous).
Tensor wrap_view(void* data, std::size_t ndim, const std::int64_t* shape, const std::int64_t* strides,
                 const nb::dlpack::dtype& dtype, std::int32_t device_type, std::int32_t device_id, std::size_t index) {
  Device device;
  if (device_type == kDLCUDA)
    device = Device::cuda(device_id);
  else if (device_type != kDLCPU && device_type != kDLCUDAHost)  // pinned host memory is host memory
    throw RuntimeError(cat("cannot pass argument ", index, " because it lives on DLPack device type ", device_type,
                           "; pass CPU (numpy) or CUDA arrays"));
  return Tensor::wrap(data, std::vector<std::int64_t>(shape, shape + ndim), dtype_of(dtype, index),
                      strides ? std::vector<std::int64_t>(strides, strides + ndim) : std::vector<std::int64_t>{}, device);
}

// torch tensors of a torch without the exchange API, read through their attributes (data_ptr,
// shape, stride, dtype, get_device: about 0.4 us for all of them on the H200 machine) rather than
// through DLPack (2.8 us per tensor). False when `h` is not a torch tensor, lives neither on the
// CPU nor on a CUDA device (meta, mps...), or has a dtype tilescale lacks: the DLPack path then
// takes it (and raises the error).
bool wrap_torch(nb::handle h, Tensor& out) {
  static PyObject* tensor_type = nullptr;  // torch.Tensor, once torch is imported
  if (!tensor_type) {
    PyObject* torch = PyImport_GetModule(nb::str("torch").ptr());
    if (!torch) {
      PyErr_Clear();
      return false;
    }
    tensor_type = PyObject_GetAttrString(torch, "Tensor");  // kept for the life of the process
    Py_DECREF(torch);
    if (!tensor_type) {
      PyErr_Clear();
      return false;
    }
  }
  if (!PyObject_TypeCheck(h.ptr(), reinterpret_cast<PyTypeObject*>(tensor_type))) return false;
  const bool cuda = nb::cast<bool>(h.attr("is_cuda"));
  if (!cuda && !nb::cast<bool>(h.attr("is_cpu"))) return false;
  static std::unordered_map<PyObject*, std::optional<DataType>> dtypes;  // torch's dtypes are singletons
  nb::object torch_dtype = h.attr("dtype");
  auto it = dtypes.find(torch_dtype.ptr());
  if (it == dtypes.end()) {
    std::string name = nb::cast<std::string>(nb::str(torch_dtype));  // "torch.float16"
    name = name.substr(name.find('.') + 1);
    if (name == "float8_e4m3fn") name = "float8_e4m3";
    if (name == "float8_e5m2fnuz" || name == "float8_e4m3fnuz") name.clear();
    it = dtypes.emplace(torch_dtype.inc_ref().ptr(), name.empty() ? std::nullopt : parse_dtype(name)).first;
  }
  if (!it->second) return false;
  const nb::tuple shape = nb::borrow<nb::tuple>(h.attr("shape"));
  const nb::tuple stride = nb::borrow<nb::tuple>(h.attr("stride")());
  std::vector<std::int64_t> extents(shape.size()), strides(stride.size());
  for (std::size_t d = 0; d < extents.size(); ++d) extents[d] = nb::cast<std::int64_t>(shape[d]);
  for (std::size_t d = 0; d < strides.size(); ++d) strides[d] = nb::cast<std::int64_t>(stride[d]);
  const auto data = nb::cast<std::uintptr_t>(h.attr("data_ptr")());
  out = Tensor::wrap(reinterpret_cast<void*>(data), std::move(extents), *it->second, std::move(strides),
                     cuda ? Device::cuda(nb::cast<int>(h.attr("get_device")())) : Device::cpu());
  return true;
}

// torch's current stream on CUDA device `device`, for a torch without the exchange API.
std::uintptr_t torch_current_stream(int device) {
  static nb::object getter;  // torch._C._cuda_getCurrentRawStream, what torch.cuda.current_stream reads
  if (!getter.is_valid()) getter = nb::module_::import_("torch").attr("_C").attr("_cuda_getCurrentRawStream");
  return nb::cast<std::uintptr_t>(getter(device));
}

// A compiled kernel as Python holds it: the kernel and what every call needs to know about it.
struct PyKernel {
  Kernel kernel;
  std::vector<ParamInfo> params;
  bool on_cpu;
  bool distributed;

  explicit PyKernel(Kernel k)
      : kernel(std::move(k)), params(kernel.params()), on_cpu(kernel.target() == Target::CPU),
        distributed(kernel.distributed()) {}
};

// Where a call's stream comes from when the caller gives none: the first CUDA tensor argument's
// producer (torch's current stream on its device).
struct StreamSource {
  const DLPackExchangeAPI* api = nullptr;
  bool torch_attributes = false;  // the tensor came through wrap_torch
  int device = -1;

  void note(int cuda_device, const DLPackExchangeAPI* from, bool through_attributes) {
    if (device >= 0) return;
    device = cuda_device;
    api = from;
    torch_attributes = through_attributes;
  }
  void* stream() const {
    if (device < 0) return nullptr;
    if (api) {
      void* s = nullptr;
      if (api->current_work_stream(kDLCUDA, device, &s) != 0) throw nb::python_error();
      return s;
    }
    return torch_attributes ? reinterpret_cast<void*>(torch_current_stream(device)) : nullptr;
  }
};

// The value of scalar parameter `i`: a Python int or float, or what converts to one (a numpy
// scalar; not a bool, not a sequence); the C++ call checks the kind and the range.
Arg scalar_arg(nb::handle h, std::size_t i, const PyKernel& k) {
  const auto refuse = [&] {
    return nb::type_error(cat("cannot pass a ", nb::type_name(h.type()).c_str(), " as ", k.params[i].name, " of ",
                              k.kernel.name(), "; it is a scalar parameter (", name(k.params[i].dtype),
                              "): pass a Python int or float").c_str());
  };
  PyObject* o = h.ptr();
  if (PyFloat_Check(o)) return Arg(PyFloat_AsDouble(o));
  nb::object number;
  if (PyLong_Check(o)) {
    if (PyBool_Check(o)) throw refuse();
    number = nb::borrow(h);
  } else {
    if (nb::hasattr(h, "__len__")) throw refuse();
    if (PyObject* index = PyNumber_Index(o)) {
      number = nb::steal(index);
    } else {
      PyErr_Clear();
      PyObject* f = PyNumber_Float(o);
      if (!f) {
        PyErr_Clear();
        throw refuse();
      }
      return Arg(PyFloat_AsDouble(nb::steal(f).ptr()));
    }
  }
  int overflow = 0;
  const long long v = PyLong_AsLongLongAndOverflow(number.ptr(), &overflow);
  if (overflow == 0) return Arg(v);
  if (overflow > 0)
    if (const unsigned long long u = PyLong_AsUnsignedLongLong(number.ptr()); !PyErr_Occurred()) return Arg(u);
  PyErr_Clear();
  throw nb::value_error(cat("cannot pass ", nb::str(h).c_str(), " as ", k.params[i].name, " of ", k.kernel.name(),
                            " because it does not fit in 64 bits; scalar parameters are int32, int64 or float32").c_str());
}

// The tensor for tensor parameter `i`: a torch tensor (through the exchange API, else its
// attributes), any other DLPack or array-interface array.
Tensor tensor_arg(nb::handle h, std::size_t i, const PyKernel& k, StreamSource& source) {
  PyObject* o = h.ptr();
  if (const DLPackExchangeAPI* api = exchange_api(Py_TYPE(o))) {
    nb::dlpack::dltensor t{};
    if (api->dltensor_from_py_object_no_sync(o, &t) != 0) throw nb::python_error();
    if (t.device.device_type == kDLCUDA) source.note(t.device.device_id, api, false);
    return wrap_view(static_cast<char*>(t.data) + t.byte_offset, static_cast<std::size_t>(t.ndim), t.shape, t.strides,
                     t.dtype, t.device.device_type, t.device.device_id, i);
  }
  if (Tensor t; wrap_torch(h, t)) {
    if (t.device().kind == Device::Kind::CUDA) source.note(t.device().index, nullptr, true);
    return t;
  }
  nb::ndarray<nb::ro> array;
  if (!nb::try_cast(h, array))
    throw nb::type_error(cat("cannot pass a ", nb::type_name(h.type()).c_str(), " as ", k.params[i].name, " of ",
                             k.kernel.name(), "; pass a numpy array or a DLPack tensor (torch)").c_str());
  return wrap(array, i);
}

// A stream given by the caller: an integer handle (a CUstream) or an object with one in
// .cuda_stream (torch.cuda.Stream).
void* given_stream(nb::handle stream) {
  nb::handle h = stream;
  nb::object attr;
  if (!PyLong_Check(h.ptr())) {
    if (!nb::hasattr(h, "cuda_stream"))
      throw nb::type_error(cat("cannot use a ", nb::type_name(h.type()).c_str(), " as a stream; pass a CUDA stream "
                               "handle (an int) or a torch.cuda.Stream").c_str());
    attr = h.attr("cuda_stream");
    h = attr;
  }
  return reinterpret_cast<void*>(nb::cast<std::uintptr_t>(h));
}

}  // namespace

Tensor wrap(const nb::ndarray<nb::ro>& a, std::size_t index) {
  std::vector<std::int64_t> strides(a.ndim());
  for (std::size_t d = 0; d < a.ndim(); ++d) strides[d] = a.stride(d);
  return wrap_view(const_cast<void*>(a.data()), a.ndim(), a.shape_ptr(), strides.data(), a.dtype(), a.device_type(),
                   a.device_id(), index);
}

void bind_calls(nb::module_& m) {
  nb::class_<PyKernel>(m, "Kernel")
      .def(nb::init<const PyKernel&>(), nb::arg("kernel"))  // what tilescale.JITKernel (a subclass) wraps
      .def_prop_ro("name", [](const PyKernel& k) { return k.kernel.name(); })
      .def_prop_ro("target", [](const PyKernel& k) { return std::string(name(k.kernel.target())); })
      .def_prop_ro("target_reason", [](const PyKernel& k) { return k.kernel.target_reason(); })
      .def_prop_ro("distributed", [](const PyKernel& k) { return k.distributed; })
      .def("lowered_ir", [](const PyKernel& k) { return k.kernel.lowered_ir(); })
      .def("cuda_source", [](const PyKernel& k) { return k.kernel.cuda_source(); })
      .def("param_info", [](const PyKernel& k) {  // (name, shape with -1 for symbolic dims, DataType, scalar)
        nb::list out;
        for (const auto& p : k.params) out.append(nb::make_tuple(p.name, p.shape, p.dtype, p.scalar));
        return out;
      })
      // kernel(*args, stream=None): one argument per parameter, in order (a call with fewer goes to
      // the subclass's _call_with_outputs, which allocates the outputs). The stream: torch's current
      // stream on the device of the first CUDA tensor argument unless given; for a distributed
      // kernel, the rank's stream when none is given and torch's is the default one (0).
      .def("__call__", [](nb::pointer_and_handle<PyKernel> self, nb::args args, nb::handle stream) -> nb::object {
        const PyKernel& k = *self.p;
        if (args.size() != k.params.size()) return self.h.attr("_call_with_outputs")(*args, nb::arg("stream") = stream);
        std::vector<Arg> values;
        values.reserve(args.size());
        StreamSource source;
        for (std::size_t i = 0; i < args.size(); ++i)
          values.push_back(k.params[i].scalar ? scalar_arg(args[i], i, k) : Arg(tensor_arg(args[i], i, k, source)));
        void* s = stream.is_none() ? (k.on_cpu ? nullptr : source.stream()) : given_stream(stream);
        if (k.on_cpu || k.distributed) {  // the CPU runs the kernel; a rank's launch may wait for the others
          nb::gil_scoped_release release;
          k.kernel.call(values, s);
        } else {
          k.kernel.call(values, s);
        }
        return nb::none();
      }, nb::arg("args"), nb::kw_only(), nb::arg("stream") = nb::none());
  m.def("compile", [](const lang::PrimFunc& f, const std::string& target, const std::vector<std::string>& options) {
    return PyKernel(compile(f, CompileOptions{parse_target(target), options}));
  }, nb::arg("func"), nb::arg("target") = "auto", nb::arg("compiler_options") = std::vector<std::string>{});
  m.def("generate_cuda", [](const lang::PrimFunc& func, const std::string& arch) {
    nb::gil_scoped_release release;  // the pipeline and the printer touch no Python object
    return generate_cuda(func, arch);
  }, nb::arg("func"), nb::arg("arch") = "sm_90a",
  "The CUDA C++ tilescale generates for `func` for `arch` (\"sm_80\", \"sm_90a\"); needs no GPU.");
  m.def("why_not_cuda", &why_not_cuda);
  // What tilescale.autotune keys its on-disk choices by, and where it keeps them.
  m.def("cache_dir", &jit::cache_dir);
  m.def("cache_enabled", &jit::cache_enabled);
  m.def("device_description", [](int device) {
    return cuda::device_name(device) + " " + cuda::arch_for_device(device);
  }, nb::arg("device") = 0);
}

}  // namespace tilescale::python
