#include "common.hpp"

#include <cstdint>
#include <cstring>
#include <numeric>
#include <sstream>

#if CUXPLAIN_PY_WITH_CUDA
#include <cuda_runtime_api.h>
#endif

namespace cuxplain::python {

std::string dtype_name(nb::dlpack::dtype dtype) {
  const char* kind = "unknown";
  switch (static_cast<nb::dlpack::dtype_code>(dtype.code)) {
    case nb::dlpack::dtype_code::Int: kind = "int"; break;
    case nb::dlpack::dtype_code::UInt: kind = "uint"; break;
    case nb::dlpack::dtype_code::Float: kind = "float"; break;
    case nb::dlpack::dtype_code::Bfloat: kind = "bfloat"; break;
    case nb::dlpack::dtype_code::Complex: kind = "complex"; break;
    case nb::dlpack::dtype_code::Bool: return "bool";
    default: break;
  }
  std::string name = detail::concat(kind, static_cast<int>(dtype.bits));
  if (dtype.lanes != 1) name += detail::concat("x", static_cast<int>(dtype.lanes));
  return name;
}

std::string shape_string(const InArray& array) {
  std::ostringstream out;
  out << "(";
  for (std::size_t i = 0; i < array.ndim(); ++i) {
    out << (i ? ", " : "") << array.shape(i);
  }
  out << (array.ndim() == 1 ? ",)" : ")");
  return out.str();
}

int device_type_of(const Context& ctx) {
  return ctx.is_cuda() ? nb::device::cuda::value : nb::device::cpu::value;
}

namespace {

std::string device_string(int type, int id) {
  if (type == nb::device::cpu::value) return "cpu";
  if (type == nb::device::cuda::value) return detail::concat("cuda:", id);
  if (type == nb::device::cuda_host::value) return "cuda_host (pinned host memory)";
  if (type == nb::device::cuda_managed::value) return detail::concat("cuda_managed:", id);
  return detail::concat("DLPack device type ", type, ":", id);
}

/// Whether `array` lives where ctx's backend reads: host memory (plain or
/// pinned) for the host backend, ctx's GPU (device or managed memory) for CUDA.
bool on_context_device(const InArray& array, const Context& ctx) {
  const int type = array.device_type();
  if (ctx.is_host()) {
    return type == nb::device::cpu::value || type == nb::device::cuda_host::value;
  }
  return (type == nb::device::cuda::value || type == nb::device::cuda_managed::value) &&
         array.device_id() == ctx.device();
}

/// Row-major strides, ignoring axes of size 1 (their stride is arbitrary).
bool c_contiguous(const InArray& array) {
  std::int64_t expected = 1;
  for (std::size_t i = array.ndim(); i-- > 0;) {
    if (array.shape(i) != 1 && array.stride(i) != expected) return false;
    expected *= static_cast<std::int64_t>(array.shape(i));
  }
  return true;
}

std::string context_device(const Context& ctx) {
  return ctx.is_cuda() ? detail::concat("cuda:", ctx.device()) : "cpu";
}

}  // namespace

const float* checked_floats(const InArray& array, const Context& ctx, const char* name,
                            int ndim) {
  if (ndim >= 0 && array.ndim() != static_cast<std::size_t>(ndim)) {
    fail_argument(name, " must have ", ndim, " dimensions, got shape ", shape_string(array));
  }
  if (array.dtype() != nb::dtype<float>()) {
    fail_argument(name, " must be float32, got ", dtype_name(array.dtype()));
  }
  if (!on_context_device(array, ctx)) {
    fail_argument(name, " is on ", device_string(array.device_type(), array.device_id()),
                  " but the computation runs on ", context_device(ctx));
  }
  if (!c_contiguous(array)) {
    fail_argument(name, " must be C-contiguous (row-major), got shape ", shape_string(array),
                  " with non-contiguous strides");
  }
  return static_cast<const float*>(array.data());
}

#if CUXPLAIN_PY_WITH_CUDA
namespace {

/// cudaMalloc / cudaFree: slower than the stream-ordered default, but the
/// memory may be freed after the stream it was used on is gone, and
/// cudaFree waits for the work that still uses it.
class LastingCudaAllocator final : public Allocator {
 public:
  void* allocate(std::size_t bytes, Stream) override {
    void* ptr = nullptr;
    const cudaError_t status = cudaMalloc(&ptr, bytes);
    if (status != cudaSuccess) {
      cudaGetLastError();  // clear the sticky-free error state of a failed malloc
      throw std::runtime_error(detail::concat("cudaMalloc(", bytes,
                                              ") failed: ", cudaGetErrorString(status)));
    }
    return ptr;
  }
  void deallocate(void* ptr, std::size_t, Stream) noexcept override { cudaFree(ptr); }
};

}  // namespace
#endif

Context lasting_context(const Context& ctx) {
  if (!ctx.is_cuda()) return ctx;
#if CUXPLAIN_PY_WITH_CUDA
  Context lasting = Context::cuda(ctx.stream());
  lasting.set_allocator(std::make_shared<LastingCudaAllocator>());
  return lasting;
#else
  return ctx;
#endif
}

Result::Result(const Context& ctx, std::vector<std::size_t> shape, const char* what)
    : shape_(std::move(shape)), device_type_(device_type_of(ctx)), device_id_(ctx.device()) {
  std::int64_t count = 1;
  for (std::size_t s : shape_) {
    if (s != 0 && static_cast<std::uint64_t>(count) > std::uint64_t{INT64_MAX} / s) {
      fail_argument(what, ": the shape's size overflows 64 bits");
    }
    count *= static_cast<std::int64_t>(s);
  }
  buffer_ = std::make_unique<Buffer<float>>(lasting_context(ctx), count, what);
  if (device_id_ < 0) device_id_ = 0;
}

OutArray Result::release() {
  auto* buffer = buffer_.release();
  nb::capsule owner(buffer, [](void* p) noexcept { delete static_cast<Buffer<float>*>(p); });
  return OutArray(buffer->data(), shape_.size(), shape_.data(), owner, nullptr,
                  nb::dtype<float>(), device_type_, device_id_);
}

nb::object view(const Context& ctx, const float* data, std::vector<std::size_t> shape) {
  // Writable in DLPack terms: frameworks that refuse read-only imports
  // (torch) take it; the callback must not write it all the same.
  OutArray array(const_cast<float*>(data), shape.size(), shape.data(), nb::handle(), nullptr,
                 nb::dtype<float>(), device_type_of(ctx), ctx.is_cuda() ? ctx.device() : 0);
  return nb::cast(array, nb::rv_policy::reference);
}

namespace {

std::string python_error_summary(const nb::python_error& e) {
  std::string type = nb::type_name(e.type()).c_str();
  std::string message = nb::str(e.value()).c_str();
  return message.empty() ? type : type + ": " + message;
}

}  // namespace

void run_callback(const Context& ctx, const Callback& cb, const float* input,
                  std::vector<std::size_t> input_shape, std::int64_t n,
                  const std::vector<std::int64_t>& row_shape, float* out) {
  nb::gil_scoped_acquire gil;
  if (cb.synchronize) ctx.synchronize();
  nb::object result;
  {
    nb::object batch = view(ctx, input, std::move(input_shape));
    try {
      result = cb.adapter(batch);
    } catch (const nb::python_error& e) {
      throw std::runtime_error(python_error_summary(e));
    }
  }
  InArray array;
  if (!nb::try_cast(result, array, /*convert=*/false)) {
    throw std::runtime_error(detail::concat(
        cb.name, " returned ", nb::type_name(result.type()).c_str(),
        ", not an array (expected an object with __dlpack__ or the buffer protocol)"));
  }
  std::ostringstream expected;
  expected << "(" << n;
  std::int64_t row = 1;
  for (std::int64_t s : row_shape) {
    expected << ", " << s;
    row *= s;
  }
  expected << ")";
  bool shape_ok = array.ndim() == row_shape.size() + 1 &&
                  static_cast<std::int64_t>(array.shape(0)) == n;
  for (std::size_t i = 0; shape_ok && i < row_shape.size(); ++i) {
    shape_ok = static_cast<std::int64_t>(array.shape(i + 1)) == row_shape[i];
  }
  if (!shape_ok) {
    throw std::runtime_error(detail::concat(cb.name, " returned shape ", shape_string(array),
                                            " for a batch of ", n, "; expected ",
                                            expected.str()));
  }
  if (array.dtype() != nb::dtype<float>()) {
    throw std::runtime_error(detail::concat(
        cb.name, " returned ", dtype_name(array.dtype()),
        " values; expected float32 (convert inside the callable, e.g. "
        "x.astype(numpy.float32) or x.float())"));
  }
  if (!on_context_device(array, ctx)) {
    throw std::runtime_error(detail::concat(
        cb.name, " returned an array on ", device_string(array.device_type(), array.device_id()),
        " for a batch on ", context_device(ctx), "; return it on the batch's device"));
  }
  const auto* data = static_cast<const float*>(array.data());
  const std::int64_t count = n * row;
  if (c_contiguous(array)) {
    if (ctx.is_cuda()) {
      copy_on_device(ctx, out, data, static_cast<std::size_t>(count) * sizeof(float));
    } else {
      std::memcpy(out, data, static_cast<std::size_t>(count) * sizeof(float));
    }
  } else if (ctx.is_host()) {
    // A strided host result (a transposed or sliced array) is gathered as
    // it is copied: the copy into cuxplain's buffer happens anyway.
    std::vector<std::int64_t> index(array.ndim(), 0);
    for (std::int64_t k = 0; k < count; ++k) {
      std::int64_t offset = 0;
      for (std::size_t axis = 0; axis < array.ndim(); ++axis) offset += index[axis] * array.stride(axis);
      out[k] = data[offset];
      for (std::size_t axis = array.ndim(); axis-- > 0;) {
        if (++index[axis] < static_cast<std::int64_t>(array.shape(axis))) break;
        index[axis] = 0;
      }
    }
  } else {
    throw std::runtime_error(detail::concat(
        cb.name, " returned a non-contiguous CUDA array of shape ", shape_string(array),
        "; return a contiguous one (e.g. .contiguous())"));
  }
  if (cb.synchronize) ctx.synchronize();
}

std::vector<std::size_t> image_shape(ConstImageView images) {
  const auto n = static_cast<std::size_t>(images.n), c = static_cast<std::size_t>(images.c),
             h = static_cast<std::size_t>(images.h), w = static_cast<std::size_t>(images.w);
  return images.layout == Layout::nchw ? std::vector<std::size_t>{n, c, h, w}
                                       : std::vector<std::size_t>{n, h, w, c};
}

Model make_model(const Context& ctx, const Callback& cb, std::int64_t num_outputs) {
  Model model;
  model.num_outputs = num_outputs;
  model.forward = [&ctx, &cb, num_outputs](ConstImageView batch, float* outputs) {
    run_callback(ctx, cb, batch.data, image_shape(batch), batch.n, {num_outputs}, outputs);
  };
  return model;
}

ConstImageView image_view(const InArray& images, const Context& ctx, Layout layout,
                          const char* name) {
  const float* data = checked_floats(images, ctx, name, 4);
  ConstImageView view;
  view.data = data;
  view.layout = layout;
  view.n = static_cast<std::int64_t>(images.shape(0));
  if (layout == Layout::nchw) {
    view.c = static_cast<std::int64_t>(images.shape(1));
    view.h = static_cast<std::int64_t>(images.shape(2));
    view.w = static_cast<std::int64_t>(images.shape(3));
  } else {
    view.h = static_cast<std::int64_t>(images.shape(1));
    view.w = static_cast<std::int64_t>(images.shape(2));
    view.c = static_cast<std::int64_t>(images.shape(3));
  }
  return view;
}

}  // namespace cuxplain::python
