#include "cudnn.hpp"

#include <cstdlib>
#include <string>

#include "state.hpp"

#if CUXPLAIN_WITH_CUDNN

// cuDNN 9 keeps the convolution API of cuDNN 7-8 (deprecated in favour of
// its graph API, which would take a few hundred lines more for the same
// single-op graphs); warnings for it are off unless CUDNN_WARN_DEPRECATED.
#include <cuda_runtime.h>
#include <cudnn.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <tuple>

#include <cuxplain/core/error.hpp>

#include "../../kernels/cuda/check.cuh"
#include "../../kernels/nn.hpp"

#define CUXPLAIN_CUDNN_TRY(call)                                                           \
  do {                                                                                     \
    const cudnnStatus_t cuxplain_dnn_status_ = (call);                                     \
    if (cuxplain_dnn_status_ != CUDNN_STATUS_SUCCESS) {                                    \
      ::cuxplain::detail::throw_error(                                                     \
          __FILE__, __LINE__,                                                              \
          ::cuxplain::detail::concat("cuDNN call `", #call, "` failed: ",                 \
                                     cudnnGetErrorString(cuxplain_dnn_status_)));          \
    }                                                                                      \
  } while (0)

namespace cuxplain::detail {
namespace {

/// Workspace places are multiples of 64 floats, as in the memory plan.
std::int64_t aligned_floats(std::size_t bytes) {
  const auto floats = static_cast<std::int64_t>((bytes + sizeof(float) - 1) / sizeof(float));
  return (floats + 63) / 64 * 64;
}

/// The largest workspace an algorithm may ask for; the next one is taken
/// when the fastest wants more.
constexpr std::size_t kMaxWorkspaceBytes = std::size_t{1} << 30;

/// The most entries a network keeps per kind of layer.
constexpr std::size_t kMaxEntries = 1024;

/// Makes `device` current for the scope (cuDNN handles belong to the device
/// current when they are made).
class DeviceScope {
 public:
  explicit DeviceScope(int device) {
    CUXPLAIN_CUDA_TRY(cudaGetDevice(&previous_));
    if (previous_ != device) CUXPLAIN_CUDA_TRY(cudaSetDevice(device));
  }
  ~DeviceScope() { (void)cudaSetDevice(previous_); }
  DeviceScope(const DeviceScope&) = delete;
  DeviceScope& operator=(const DeviceScope&) = delete;

 private:
  int previous_ = 0;
};

int as_int(std::int64_t v) { return static_cast<int>(v); }

/// Makes *desc an n x c x h x w float tensor in NCHW.
void make_nchw(cudnnTensorDescriptor_t* desc, std::int64_t n, std::int64_t c, std::int64_t h,
               std::int64_t w) {
  CUXPLAIN_CUDNN_TRY(cudnnCreateTensorDescriptor(desc));
  CUXPLAIN_CUDNN_TRY(cudnnSetTensor4dDescriptor(*desc, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT,
                                                as_int(n), as_int(c), as_int(h), as_int(w)));
}

/// Whether cuDNN's output dims are n x c x h x w (the layer's).
bool same_dims(const int (&dims)[4], std::int64_t n, std::int64_t c, std::int64_t h,
               std::int64_t w) {
  return dims[0] == n && dims[1] == c && dims[2] == h && dims[3] == w;
}

/// cache[key], made by make() under `mutex` on first use. A few batch sizes
/// per layer in practice; a caller cycling through many starts over (calls
/// in flight hold their own references).
template <class Map, class Make>
typename Map::mapped_type find_or_make(std::mutex& mutex, Map& cache,
                                       const typename Map::key_type& key, const Make& make) {
  std::lock_guard<std::mutex> lock(mutex);
  auto it = cache.find(key);
  if (it == cache.end()) {
    if (cache.size() >= kMaxEntries) cache.clear();
    it = cache.emplace(key, make()).first;
  }
  return it->second;
}

}  // namespace

struct CudnnConv {
  std::size_t index = 0;
  bool bounds = false;
  std::int64_t in_count = 0, out_count = 0;  // floats per batch
  cudnnTensorDescriptor_t x = nullptr, y = nullptr, bias = nullptr;
  cudnnFilterDescriptor_t w = nullptr;
  cudnnConvolutionDescriptor_t conv = nullptr;
  cudnnActivationDescriptor_t activation = nullptr;
  cudnnConvolutionFwdAlgo_t algo = CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM;
  std::size_t algo_bytes = 0;

  CudnnConv() = default;
  CudnnConv(const CudnnConv&) = delete;
  CudnnConv& operator=(const CudnnConv&) = delete;
  ~CudnnConv() {
    if (x != nullptr) (void)cudnnDestroyTensorDescriptor(x);
    if (y != nullptr) (void)cudnnDestroyTensorDescriptor(y);
    if (bias != nullptr) (void)cudnnDestroyTensorDescriptor(bias);
    if (w != nullptr) (void)cudnnDestroyFilterDescriptor(w);
    if (conv != nullptr) (void)cudnnDestroyConvolutionDescriptor(conv);
    if (activation != nullptr) (void)cudnnDestroyActivationDescriptor(activation);
  }
};

struct CudnnPool {
  cudnnTensorDescriptor_t x = nullptr, y = nullptr;
  cudnnPoolingDescriptor_t pool = nullptr;

  CudnnPool() = default;
  CudnnPool(const CudnnPool&) = delete;
  CudnnPool& operator=(const CudnnPool&) = delete;
  ~CudnnPool() {
    if (x != nullptr) (void)cudnnDestroyTensorDescriptor(x);
    if (y != nullptr) (void)cudnnDestroyTensorDescriptor(y);
    if (pool != nullptr) (void)cudnnDestroyPoolingDescriptor(pool);
  }
};

struct CudnnNetwork {
  int device = 0;
  /// Guards everything below, and a call's enqueueing on the shared handle
  /// (cudnnSetStream, then the convolutions).
  std::mutex mutex;
  cudnnHandle_t handle = nullptr;
  /// One float 0 on the device: the bias of the interval epilogue, the
  /// layer's own bias being added to the centres by cuDNN.
  float* zero = nullptr;
  /// (layer, batch size, bounds) -> the layer on cuDNN, or null where the
  /// hand-written path runs it.
  std::map<std::tuple<std::size_t, std::int64_t, bool>, std::shared_ptr<const CudnnConv>> convs;
  /// (layer, batch size) -> the pool on cuDNN, or null.
  std::map<std::pair<std::size_t, std::int64_t>, std::shared_ptr<const CudnnPool>> pools;

  CudnnNetwork() = default;
  CudnnNetwork(const CudnnNetwork&) = delete;
  CudnnNetwork& operator=(const CudnnNetwork&) = delete;
  ~CudnnNetwork() {
    convs.clear();
    pools.clear();
    if (handle != nullptr) (void)cudnnDestroy(handle);
    if (zero != nullptr) (void)cudaFree(zero);
  }

  /// The handle, made on first use (the mutex held).
  cudnnHandle_t get_handle() {
    if (handle == nullptr) {
      const DeviceScope scope(device);
      CUXPLAIN_CUDNN_TRY(cudnnCreate(&handle));
      CUXPLAIN_CUDA_TRY(cudaMalloc(&zero, sizeof(float)));
      CUXPLAIN_CUDA_TRY(cudaMemset(zero, 0, sizeof(float)));
    }
    return handle;
  }
};

namespace {

/// Layer L on cuDNN for batches of n, or null where cuDNN cannot run it as
/// the network defines it.
std::shared_ptr<const CudnnConv> make_conv(cudnnHandle_t handle, const NnLayer& L,
                                           std::size_t index, std::int64_t n, bool bounds) {
  const ConvGeometry& g = L.conv;
  auto c = std::make_shared<CudnnConv>();
  c->index = index;
  c->bounds = bounds;
  c->in_count = n * g.in_size();
  c->out_count = n * g.out_size();
  make_nchw(&c->x, n, g.in_c, g.in_h, g.in_w);
  make_nchw(&c->y, n, g.out_c, g.out_h, g.out_w);
  make_nchw(&c->bias, 1, g.out_c, 1, 1);
  CUXPLAIN_CUDNN_TRY(cudnnCreateFilterDescriptor(&c->w));
  CUXPLAIN_CUDNN_TRY(cudnnCreateConvolutionDescriptor(&c->conv));
  CUXPLAIN_CUDNN_TRY(cudnnCreateActivationDescriptor(&c->activation));
  // ONNX's [out_c, in_c / groups, kh, kw], with the group count on the
  // convolution.
  CUXPLAIN_CUDNN_TRY(cudnnSetFilter4dDescriptor(c->w, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW,
                                                as_int(g.out_c), as_int(g.in_c / g.groups),
                                                as_int(g.kernel_h), as_int(g.kernel_w)));
  // Cross-correlation, as ONNX's Conv; padding is the same on both sides in
  // cuDNN: the layer runs here only where that gives the network's output
  // size (the far side's padding is then at most the near side's, and the
  // rows it would add are never read).
  CUXPLAIN_CUDNN_TRY(cudnnSetConvolution2dDescriptor(
      c->conv, as_int(g.pad_top), as_int(g.pad_left), as_int(g.stride_h), as_int(g.stride_w),
      as_int(g.dilation_h), as_int(g.dilation_w), CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT));
  CUXPLAIN_CUDNN_TRY(cudnnSetConvolutionGroupCount(c->conv, as_int(g.groups)));
  // No tensor cores: TF32 would round the inputs to 10-bit mantissas.
  CUXPLAIN_CUDNN_TRY(cudnnSetConvolutionMathType(c->conv, CUDNN_FMA_MATH));
  CUXPLAIN_CUDNN_TRY(cudnnSetActivationDescriptor(c->activation, CUDNN_ACTIVATION_RELU,
                                                  CUDNN_NOT_PROPAGATE_NAN, 0.0));
  int dims[4] = {};
  CUXPLAIN_CUDNN_TRY(
      cudnnGetConvolution2dForwardOutputDim(c->conv, c->x, c->w, &dims[0], &dims[1], &dims[2], &dims[3]));
  if (!same_dims(dims, n, g.out_c, g.out_h, g.out_w)) return nullptr;
  // The heuristics' order (no trial runs: a plan is made inside a call, and
  // timing there would run the layer several times).
  cudnnConvolutionFwdAlgoPerf_t perf[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
  int found = 0;
  CUXPLAIN_CUDNN_TRY(cudnnGetConvolutionForwardAlgorithm_v7(
      handle, c->x, c->w, c->conv, c->y, CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &found, perf));
  for (int i = 0; i < found; ++i) {
    if (perf[i].status != CUDNN_STATUS_SUCCESS || perf[i].mathType != CUDNN_FMA_MATH) continue;
    std::size_t bytes = 0;
    if (cudnnGetConvolutionForwardWorkspaceSize(handle, c->x, c->w, c->conv, c->y, perf[i].algo,
                                                &bytes) != CUDNN_STATUS_SUCCESS ||
        bytes > kMaxWorkspaceBytes) {
      continue;
    }
    c->algo = perf[i].algo;
    c->algo_bytes = bytes;
    return c;
  }
  return nullptr;
}

/// Pool layer L on cuDNN for batches of n, or null where its windows would
/// differ from the layer's.
std::shared_ptr<const CudnnPool> make_pool(const NnLayer& L, std::int64_t n) {
  const PoolGeometry& g = L.pool;
  // cuDNN pads both sides alike and counts windows in floor mode: the layer
  // runs here when its padding is symmetric and cuDNN's output size is the
  // layer's (a ceil-mode window past the padded input then cannot occur).
  if (g.pad_bottom != g.pad_top || g.pad_right != g.pad_left) return nullptr;
  auto p = std::make_shared<CudnnPool>();
  make_nchw(&p->x, n, g.channels, g.in_h, g.in_w);
  make_nchw(&p->y, n, g.channels, g.out_h, g.out_w);
  CUXPLAIN_CUDNN_TRY(cudnnCreatePoolingDescriptor(&p->pool));
  // Max: padding never wins (as detail::pool_window); average: divide by
  // the window (count_include_pad) or by the input elements it covers.
  const cudnnPoolingMode_t mode = L.kind == LayerKind::max_pool
                                      ? CUDNN_POOLING_MAX_DETERMINISTIC
                                  : g.count_include_pad ? CUDNN_POOLING_AVERAGE_COUNT_INCLUDE_PADDING
                                                        : CUDNN_POOLING_AVERAGE_COUNT_EXCLUDE_PADDING;
  CUXPLAIN_CUDNN_TRY(cudnnSetPooling2dDescriptor(
      p->pool, mode, CUDNN_NOT_PROPAGATE_NAN, as_int(g.kernel_h), as_int(g.kernel_w),
      as_int(g.pad_top), as_int(g.pad_left), as_int(g.stride_h), as_int(g.stride_w)));
  int dims[4] = {};
  CUXPLAIN_CUDNN_TRY(
      cudnnGetPooling2dForwardOutputDim(p->pool, p->x, &dims[0], &dims[1], &dims[2], &dims[3]));
  if (!same_dims(dims, n, g.channels, g.out_h, g.out_w)) return nullptr;
  return p;
}

/// y = conv(x) with `weight`, plus the layer's bias when given.
void enqueue_conv(cudnnHandle_t handle, const CudnnConv& c, const float* x, const float* weight,
                  const float* bias, float* y, void* workspace) {
  const float one = 1.0f, zero = 0.0f;
  CUXPLAIN_CUDNN_TRY(cudnnConvolutionForward(handle, &one, c.x, x, c.w, weight, c.conv, c.algo,
                                             workspace, c.algo_bytes, &zero, c.y, y));
  if (bias != nullptr) CUXPLAIN_CUDNN_TRY(cudnnAddTensor(handle, &one, c.bias, bias, &one, c.y, y));
}

}  // namespace

bool cudnn_enabled() {
  const char* value = std::getenv("CUXPLAIN_NN_CUDNN");
  return value == nullptr || std::string(value) != "0";
}

std::shared_ptr<CudnnNetwork> make_cudnn_network(int device) {
  if (!cudnn_enabled()) return nullptr;
  auto state = std::make_shared<CudnnNetwork>();
  state->device = device;
  return state;
}

std::shared_ptr<const CudnnConv> cudnn_conv(const NnNetworkState& net, std::size_t index,
                                            std::int64_t n, bool bounds,
                                            std::int64_t* workspace_floats) {
  *workspace_floats = 0;
  const NnLayer& L = net.layers[index];
  if (net.cudnn == nullptr || L.kind != LayerKind::conv) return nullptr;
  CudnnNetwork& state = *net.cudnn;
  const std::shared_ptr<const CudnnConv> conv =
      find_or_make(state.mutex, state.convs, std::make_tuple(index, n, bounds), [&] {
        const DeviceScope scope(state.device);
        return make_conv(state.get_handle(), L, index, n, bounds);
      });
  if (conv == nullptr) return nullptr;
  // Bounds: the boxes' centres and radii, then the algorithm's workspace.
  const std::int64_t boxes = bounds ? 2 * aligned_floats(conv->in_count * sizeof(float)) : 0;
  *workspace_floats = boxes + aligned_floats(conv->algo_bytes);
  return conv;
}

std::shared_ptr<const CudnnPool> cudnn_pool(const NnNetworkState& net, std::size_t index,
                                            std::int64_t n) {
  const NnLayer& L = net.layers[index];
  if (net.cudnn == nullptr || (L.kind != LayerKind::max_pool && L.kind != LayerKind::avg_pool)) {
    return nullptr;
  }
  CudnnNetwork& state = *net.cudnn;
  return find_or_make(state.mutex, state.pools, std::make_pair(index, n),
                      [&] { return make_pool(L, n); });
}

void cudnn_pool_run(const Context& ctx, const NnNetworkState& net, const CudnnPool& p,
                    const float* x, float* y) {
  CudnnNetwork& state = *net.cudnn;
  const float one = 1.0f, zero = 0.0f;
  std::lock_guard<std::mutex> lock(state.mutex);
  cudnnHandle_t handle = state.get_handle();
  CUXPLAIN_CUDNN_TRY(cudnnSetStream(handle, ctx.stream()));
  CUXPLAIN_CUDNN_TRY(cudnnPoolingForward(handle, p.pool, &one, p.x, x, &zero, p.y, y));
}

void cudnn_run(const Context& ctx, const NnNetworkState& net, const CudnnConv& c, const float* l,
               const float* u, float* lo, float* hi, float* workspace) {
  const NnLayer& L = net.layers[c.index];
  CudnnNetwork& state = *net.cudnn;
  const float one = 1.0f, zero = 0.0f;
  if (!c.bounds) {
    std::lock_guard<std::mutex> lock(state.mutex);
    cudnnHandle_t handle = state.get_handle();
    CUXPLAIN_CUDNN_TRY(cudnnSetStream(handle, ctx.stream()));
    enqueue_conv(handle, c, l, L.weight.data(), L.bias.data(), lo, workspace);
    if (L.relu) {
      CUXPLAIN_CUDNN_TRY(cudnnActivationForward(handle, c.activation, &one, c.y, lo, &zero, c.y, lo));
    }
    return;
  }
  float* centre = workspace;
  float* radius = centre + aligned_floats(c.in_count * sizeof(float));
  float* rest = radius + aligned_floats(c.in_count * sizeof(float));
  kernels::cuda::nn_centre_radius(ctx, l, u, c.in_count, centre, radius);
  const float* epilogue_bias = nullptr;
  {
    std::lock_guard<std::mutex> lock(state.mutex);
    cudnnHandle_t handle = state.get_handle();
    CUXPLAIN_CUDNN_TRY(cudnnSetStream(handle, ctx.stream()));
    enqueue_conv(handle, c, centre, L.weight.data(), L.bias.data(), lo, rest);
    enqueue_conv(handle, c, radius, L.abs_weight.data(), nullptr, hi, rest);
    epilogue_bias = state.zero;
  }
  // lo holds W mu + b, hi |W| r: the epilogue with the bias already added.
  kernels::cuda::nn_bounds_epilogue(ctx, lo, hi, epilogue_bias, L.relu, c.out_count, 1);
}

}  // namespace cuxplain::detail

#else  // !CUXPLAIN_WITH_CUDNN

namespace cuxplain::detail {

struct CudnnConv {};
struct CudnnPool {};
struct CudnnNetwork {};

bool cudnn_enabled() { return false; }

std::shared_ptr<CudnnNetwork> make_cudnn_network(int) { return nullptr; }

std::shared_ptr<const CudnnConv> cudnn_conv(const NnNetworkState&, std::size_t, std::int64_t,
                                            bool, std::int64_t* workspace_floats) {
  *workspace_floats = 0;
  return nullptr;
}

void cudnn_run(const Context&, const NnNetworkState&, const CudnnConv&, const float*,
               const float*, float*, float*, float*) {}

std::shared_ptr<const CudnnPool> cudnn_pool(const NnNetworkState&, std::size_t, std::int64_t) {
  return nullptr;
}

void cudnn_pool_run(const Context&, const NnNetworkState&, const CudnnPool&, const float*,
                    float*) {}

}  // namespace cuxplain::detail

#endif
