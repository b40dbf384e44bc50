#pragma once
// Convolutions of CUDA networks on cuDNN (the CUDA toolkit's libcudnn; CMake
// option CUXPLAIN_WITH_CUDNN): forward, and plain-mode bounds as two
// convolutions (W mu + b and |W| r) followed by the interval epilogue of
// kernels/nn.hpp, as on oneDNN for the host (dnnl.hpp). FMA math only (no
// TF32), so that a layer computes what the hand-written im2col + cuBLAS path
// computes up to the order of its sums. Each layer's descriptors and
// algorithm are chosen once per batch size and kept with the network; a call
// only enqueues. Layers cuDNN cannot express exactly (padding larger on the
// far side than on the near one) and sound bounds stay hand-written. Without
// cuDNN every function here reports "not used".
#include <cstddef>
#include <cstdint>
#include <memory>

#include <cuxplain/core/context.hpp>

namespace cuxplain::detail {

struct NnNetworkState;
struct CudnnConv;
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

}  // namespace cuxplain::detail
