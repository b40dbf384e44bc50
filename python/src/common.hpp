#pragma once
// What the binding's translation units share: errors, array checks, result
// buffers and the Python callbacks behind cuxplain::Model and CRAFT's g / h.
//
// Arrays cross the boundary through DLPack as nb::ndarray<> without dtype
// or layout constraints, so that nanobind never converts (copies) them
// behind the caller's back: the Python layer converts once, with a warning,
// what it can see (framework dtypes, contiguity); what reaches C++ is
// checked here and refused with a message naming the argument.
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <cuxplain/cuxplain.hpp>
#include <cuxplain/onnx.hpp>

namespace cuxplain::python {

namespace nb = nanobind;

/// Any array importable through DLPack; read-only so that a read-only
/// producer (a JAX array) is accepted without a copy.
using InArray = nb::ndarray<nb::ro>;
/// Results and views handed to Python: an object with __dlpack__ and
/// __dlpack_device__ that the Python layer turns into the caller's framework.
using OutArray = nb::ndarray<nb::array_api, float>;

/// A bad argument seen by the binding (not by the library): raised as
/// cuxplain.ArgumentError, a subclass of cuxplain.Error and ValueError.
struct ArgumentError : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

template <class... Parts>
[[noreturn]] void fail_argument(const Parts&... parts) {
  throw ArgumentError(detail::concat(parts...));
}

/// "float64", "int32", ... for messages.
std::string dtype_name(nb::dlpack::dtype dtype);
/// "(2, 3, 28, 28)".
std::string shape_string(const InArray& array);

/// The DLPack device type and id that ctx's memory has.
int device_type_of(const Context& ctx);

/// A float32, C-contiguous (row-major; strides of size-1 axes ignored) array
/// on ctx's device with `ndim` axes (ndim < 0: any). Throws ArgumentError
/// naming `name` otherwise.
const float* checked_floats(const InArray& array, const Context& ctx, const char* name,
                            int ndim);

/// Owns result memory allocated for Python: on CUDA with cudaMalloc /
/// cudaFree rather than the context's stream-ordered allocator, since the
/// array may outlive the stream it was computed on (a freed torch stream).
class Result {
 public:
  Result(const Context& ctx, std::vector<std::size_t> shape, const char* what);
  float* data() const { return buffer_->data(); }
  std::int64_t size() const { return buffer_->size(); }
  /// Hands the memory to an OutArray that frees it when Python is done.
  OutArray release();

 private:
  std::unique_ptr<Buffer<float>> buffer_;
  std::vector<std::size_t> shape_;
  int device_type_;
  int device_id_;
};

/// A Context whose allocator suits memory that outlives the call (results,
/// network weights, concept banks): on CUDA, cudaMalloc / cudaFree, which
/// order themselves against every stream; on the host, the host allocator.
Context lasting_context(const Context& ctx);

/// A non-owning view of n x dims floats at `data` on ctx's device, valid
/// while the caller keeps the memory alive (a callback's batch).
nb::object view(const Context& ctx, const float* data, std::vector<std::size_t> shape);

/// A Python callable run from inside a library call: `adapter(view)` is
/// the Python layer's wrapper around the user's model, which converts the
/// view to the caller's framework, calls the model and returns its result
/// (for CUDA results, a DLPack capsule exported on the context's stream).
struct Callback {
  nb::callable adapter;
  /// Synchronize ctx's stream around the call, for frameworks that cannot
  /// order their work on it (JAX on CUDA).
  bool synchronize = false;
  /// "model", "g", "h": names the callable in messages.
  std::string name = "model";
};

/// Runs cb on a view of `input` (shape `input_shape`, on ctx's device) and
/// copies its result, which must be n rows of `row_shape` float32 on ctx's
/// device, to `out` (n x prod(row_shape) floats). Takes the GIL. A Python
/// exception becomes a std::runtime_error "<Type>: <message>" (the Python
/// layer keeps the exception object itself and re-raises it); a bad result
/// a std::runtime_error naming cb.name and what was expected.
void run_callback(const Context& ctx, const Callback& cb, const float* input,
                  std::vector<std::size_t> input_shape, std::int64_t n,
                  const std::vector<std::int64_t>& row_shape, float* out);

/// Model{num_outputs, forward} over a Python callback; cb must outlive it.
Model make_model(const Context& ctx, const Callback& cb, std::int64_t num_outputs);

/// The image batch shape of a view: n x c x h x w or n x h x w x c.
std::vector<std::size_t> image_shape(ConstImageView images);

/// ConstImageView over a 4-D float array in `layout` ("nchw" or "nhwc").
ConstImageView image_view(const InArray& images, const Context& ctx, Layout layout,
                          const char* name = "images");

void bind_explainers(nb::module_& m);
void bind_nn(nb::module_& m);
void bind_craft_nmf(nb::module_& m);
void bind_metrics(nb::module_& m);

}  // namespace cuxplain::python
