#pragma once
// Convolutions and pools of CUDA networks on cuDNN (the CUDA toolkit's
// libcudnn; CMake option CUXPLAIN_WITH_CUDNN). Convolutions run forward,
// and plain-mode bounds as two convolutions (W mu + b and |W| r) followed
// by the interval epilogue of kernels/nn.hpp, as on oneDNN for the host
// (dnnl.hpp); max and average pools run on each end of a box. FMA math only
// (no TF32), so that a layer computes what the hand-written kernels compute
// up to the order of its sums. Each layer's descriptors and algorithm are
// chosen once per batch size and kept with the network; a call only
// enqueues. Layers cuDNN cannot express exactly (padding larger on one side
// than on the other) and sound bounds stay hand-written. Without cuDNN every
// function here reports "not used".
#include <cstddef>
#include <cstdint>
#include <memory>

#include <cuxplain/core/context.hpp>

namespace cuxplain::detail {

struct NnNetworkState;
struct CudnnConv;
struct CudnnPool;
struct CudnnNetwork;

/// True when this build has cuDNN and the environment does not turn it off
/// (CUXPLAIN_NN_CUDNN=0 keeps the hand-written CUDA path).
bool cudnn_enabled();

/// The cuDNN state of a CUDA network on `device` (its handle, made on first
/// use, and its layers' descriptors); null when cudnn_enabled() is false.
std::shared_ptr<CudnnNetwork> make_cudnn_network(int device);

/// Layer `index` of `net` (a conv layer) on cuDNN for batches of n, forward
/// or plain-mode bounds, with the floats of workspace a call needs in
/// *workspace_floats; null where the hand-written path runs the layer.
std::shared_ptr<const CudnnConv> cudnn_conv(const NnNetworkState& net, std::size_t index,
                                            std::int64_t n, bool bounds,
                                            std::int64_t* workspace_floats);

/// Forward: lo = the layer on l. Bounds: [lo, hi] = the layer on the boxes
/// [l, u]. On ctx's stream; workspace: the floats cudnn_conv asked for.
void cudnn_run(const Context& ctx, const NnNetworkState& net, const CudnnConv& conv,
               const float* l, const float* u, float* lo, float* hi, float* workspace);

/// Layer `index` of `net` (a max or average pool) on cuDNN for batches of n,
/// or null where cuDNN's windows differ from the layer's (padding larger on
/// one side, a ceil-mode window past the padded input). Pooling is monotone:
/// forward and plain-mode bounds run it on each end; sound bounds keep the
/// directed-rounding average.
std::shared_ptr<const CudnnPool> cudnn_pool(const NnNetworkState& net, std::size_t index,
                                            std::int64_t n);

/// y = the pool on x, on ctx's stream.
void cudnn_pool_run(const Context& ctx, const NnNetworkState& net, const CudnnPool& pool,
                    const float* x, float* y);

}  // namespace cuxplain::detail
