// Worlds, ranks and the symmetric heap (include/tilescale/dist.h) for Python; python/tilescale/dist.py
// is the API users see.
//
// Threads and the GIL. World.run releases the GIL and waits in C++; each rank's thread takes the GIL
// to call the Python function and gives it back whenever it waits in C++ (barrier, a collective
// allocation, a kernel call), so that the other ranks' Python code can reach the same point.
//
// Lifetimes. The Rank a function receives is valid during that call only (using it later is a
// RuntimeError). Arrays from the heap borrow the heap's memory and keep the World alive.
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <memory>

#include "bindings.h"
#include "tilescale/dist.h"
#include "tilescale/errors.h"
#include "tilescale/runtime.h"

namespace tilescale::python {

namespace {

using detail::cat;

// A rank's view for Python: the Rank of the running call, and a reference to its World so that
// arrays can keep the heap alive. `alive` turns false when the rank's function returns.
struct RankHandle {
  dist::Rank* rank;
  dist::World world;
  std::shared_ptr<bool> alive;

  dist::Rank& get() const {
    if (!*alive)
      throw RuntimeError(cat("cannot use rank ", rank_id, " after its function returned from World.run because the "
                             "Rank is the running call's; use ranks inside the function given to run"));
    return *rank;
  }
  int rank_id;
};

struct HeapHandle {
  RankHandle owner;
};

nb::dlpack::dtype dlpack_dtype(DataType t) {
  using Code = nb::dlpack::dtype_code;
  auto make = [](Code code, int bits) { return nb::dlpack::dtype{static_cast<std::uint8_t>(code), static_cast<std::uint8_t>(bits), 1}; };
  switch (t) {
    case DataType::Bool: return make(Code::Bool, 8);
    case DataType::Int8: return make(Code::Int, 8);
    case DataType::Int16: return make(Code::Int, 16);
    case DataType::Int32: return make(Code::Int, 32);
    case DataType::Int64: return make(Code::Int, 64);
    case DataType::UInt8: return make(Code::UInt, 8);
    case DataType::UInt16: return make(Code::UInt, 16);
    case DataType::UInt32: return make(Code::UInt, 32);
    case DataType::UInt64: return make(Code::UInt, 64);
    case DataType::Float16: return make(Code::Float, 16);
    case DataType::BFloat16: return make(Code::Bfloat, 16);
    case DataType::Float32: return make(Code::Float, 32);
    case DataType::Float64: return make(Code::Float, 64);
    case DataType::Float8E4M3: return make(Code::Float8_E4M3FN, 8);
    case DataType::Float8E5M2: return make(Code::Float8_E5M2, 8);
  }
  throw InternalError("dlpack_dtype: a DataType without a DLPack code");
}

bool torch_available() {
  try {
    nb::module_::import_("torch");
    return true;
  } catch (const nb::python_error&) {
    return false;
  }
}

// A heap tensor as an array that keeps `world` alive: numpy on the host (sim), torch on a GPU when
// torch is importable, else a DLPack-capable nanobind array.
nb::object to_array(const Tensor& t, const dist::World& world) {
  const bool on_cpu = t.device().kind == Device::Kind::CPU;
  if (on_cpu && (t.dtype() == DataType::BFloat16 || t.dtype() == DataType::Float8E4M3 ||
                 t.dtype() == DataType::Float8E5M2))
    throw RuntimeError(cat("cannot return the heap tensor ", t.describe(), " as a numpy array because numpy has no ",
                           name(t.dtype()), "; allocate float16 or float32 on the host"));
  std::vector<std::size_t> shape(t.shape().begin(), t.shape().end());
  std::vector<std::int64_t> strides(t.strides().begin(), t.strides().end());
  auto* keep = new dist::World(world);
  nb::capsule owner(keep, [](void* p) noexcept { delete static_cast<dist::World*>(p); });
  const auto dtype = dlpack_dtype(t.dtype());
  if (on_cpu)
    return nb::cast(nb::ndarray<nb::numpy>(t.data(), shape.size(), shape.data(), owner, strides.data(), dtype,
                                           nb::device::cpu::value));
  if (torch_available())
    return nb::cast(nb::ndarray<nb::pytorch>(t.data(), shape.size(), shape.data(), owner, strides.data(), dtype,
                                             nb::device::cuda::value, t.device().index));
  return nb::cast(nb::ndarray<>(t.data(), shape.size(), shape.data(), owner, strides.data(), dtype,
                                nb::device::cuda::value, t.device().index));
}

nb::object allocate(const HeapHandle& h, const std::vector<std::int64_t>& shape, DataType dtype, bool zero) {
  const dist::SymmetricHeap& heap = h.owner.get().heap();
  Tensor t;
  {
    nb::gil_scoped_release release;  // collective: waits for every rank's allocation
    t = zero ? heap.zeros(shape, dtype) : heap.empty(shape, dtype);
  }
  return to_array(t, h.owner.world);
}

dist::WorldOptions options(std::size_t heap_bytes, std::int64_t wait_timeout_ms, std::int64_t setup_timeout_ms) {
  dist::WorldOptions o;
  o.heap_bytes = heap_bytes;
  o.wait_timeout_ms = wait_timeout_ms;
  o.setup_timeout_ms = setup_timeout_ms;
  return o;
}

}  // namespace

void bind_dist(nb::module_& m) {
  const dist::WorldOptions defaults;
  auto heap_bytes = nb::arg("heap_bytes") = defaults.heap_bytes;
  auto wait_timeout = nb::arg("wait_timeout_ms") = defaults.wait_timeout_ms;
  auto setup_timeout = nb::arg("setup_timeout_ms") = defaults.setup_timeout_ms;

  nb::class_<dist::World>(m, "World")
      .def_static("sim", [](int ranks, std::size_t hb, std::int64_t wt, std::int64_t st) {
        return dist::World::sim(ranks, options(hb, wt, st));
      }, nb::arg("ranks"), heap_bytes, wait_timeout, setup_timeout)
      .def_static("local", [](int ranks, std::size_t hb, std::int64_t wt, std::int64_t st) {
        return dist::World::local(ranks, options(hb, wt, st));
      }, nb::arg("ranks"), heap_bytes, wait_timeout, setup_timeout)
      .def_static("from_env", [](std::size_t hb, std::int64_t wt, std::int64_t st) {
        nb::gil_scoped_release release;  // collective: waits for the other processes
        return dist::World::from_env(options(hb, wt, st));
      }, heap_bytes, wait_timeout, setup_timeout)
      .def_static("nvshmem", [](std::size_t hb, std::int64_t wt, std::int64_t st) {
        nb::gil_scoped_release release;
        return dist::World::nvshmem(options(hb, wt, st));
      }, heap_bytes, wait_timeout, setup_timeout)
      .def_prop_ro("size", &dist::World::size)
      .def_prop_ro("transport", [](const dist::World& w) { return std::string(w.transport()); })
      .def_prop_ro("target", [](const dist::World& w) { return std::string(name(w.target())); })
      .def_prop_ro("local_ranks", &dist::World::local_ranks)
      .def("run", [](const dist::World& w, nb::callable fn) {
        nb::gil_scoped_release release;
        w.run([&](dist::Rank& r) {
          nb::gil_scoped_acquire acquire;
          RankHandle handle{&r, w, std::make_shared<bool>(true), r.rank()};
          struct Expire {
            std::shared_ptr<bool> alive;
            ~Expire() { *alive = false; }
          } expire{handle.alive};
          fn(handle);
        });
      }, nb::arg("fn"));

  nb::class_<HeapHandle>(m, "SymmetricHeap")
      .def("empty", [](const HeapHandle& h, const std::vector<std::int64_t>& shape, DataType t) {
        return allocate(h, shape, t, false);
      })
      .def("zeros", [](const HeapHandle& h, const std::vector<std::int64_t>& shape, DataType t) {
        return allocate(h, shape, t, true);
      })
      .def("peer", [](const HeapHandle& h, const nb::ndarray<nb::ro>& local, int pe) {
        return to_array(h.owner.get().heap().peer(wrap(local, 0), pe), h.owner.world);
      })
      .def_prop_ro("capacity", [](const HeapHandle& h) { return h.owner.get().heap().capacity(); })
      .def_prop_ro("used", [](const HeapHandle& h) { return h.owner.get().heap().used(); });

  nb::class_<RankHandle>(m, "Rank")
      .def_prop_ro("rank", [](const RankHandle& r) { return r.get().rank(); })
      .def_prop_ro("size", [](const RankHandle& r) { return r.get().size(); })
      .def_prop_ro("heap", [](const RankHandle& r) {
        r.get();
        return HeapHandle{r};
      })
      .def_prop_ro("device", [](const RankHandle& r) { return r.get().device().to_string(); })
      .def_prop_ro("stream", [](const RankHandle& r) { return reinterpret_cast<std::uintptr_t>(r.get().stream()); })
      .def("barrier", [](const RankHandle& r) {
        const dist::Rank& rank = r.get();
        nb::gil_scoped_release release;
        rank.barrier();
      })
      .def("__repr__", [](const RankHandle& r) { return cat("<tilescale.dist.Rank ", r.rank_id, ">"); });

  // generate_cuda is registered from here until the module init in bindings.cc calls bind_codegen
  // itself (beside bind_dist); then this line goes.
  bind_codegen(m);
}

}  // namespace tilescale::python
