#include "ops.hpp"

#include <cuxplain/core/error.hpp>

#include "../../kernels/dispatch.hpp"
#include "../../kernels/nn.hpp"

namespace cuxplain::detail {

void run_layer_op(const Context& ctx, const NnLayer& L, const std::vector<const float*>& in_lo,
                  const std::vector<const float*>& in_hi, std::int64_t n, bool bounds, bool sound,
                  float* dst_lo, float* dst_hi) {
  const nn::Shape out = L.out_shape;
  // Moves of data apply alike to both ends of a box.
  const auto both = [&](auto&& move) {
    move(in_lo, dst_lo);
    if (bounds) move(in_hi, dst_hi);
  };
  switch (L.kind) {
    case LayerKind::activation:
      if (bounds) {
        CUXPLAIN_DISPATCH(ctx, nn_activation_bounds, L.activation, sound, in_lo[0], in_hi[0],
                          n * out.size(), dst_lo, dst_hi);
      } else {
        CUXPLAIN_DISPATCH(ctx, nn_activation, L.activation, in_lo[0], n * out.size(), dst_lo);
      }
      return;
    case LayerKind::binary:
      if (bounds) {
        CUXPLAIN_DISPATCH(ctx, nn_binary_bounds, L.op, L.broadcast, out.c, out.h, out.w, sound,
                          in_lo[0], in_hi[0], in_lo[1], in_hi[1], n, dst_lo, dst_hi);
      } else {
        CUXPLAIN_DISPATCH(ctx, nn_binary, L.op, L.broadcast, out.c, out.h, out.w, in_lo[0],
                          in_lo[1], n, dst_lo);
      }
      return;
    case LayerKind::concat:
      both([&](const std::vector<const float*>& in, float* dst) {
        std::int64_t offset = 0;
        for (std::size_t k = 0; k < in.size(); ++k) {
          const std::int64_t size = L.concat_sizes[k];
          CUXPLAIN_DISPATCH(ctx, nn_copy_block, in[k], n, size, dst, out.size(), offset);
          offset += size;
        }
      });
      return;
    case LayerKind::pad:
      both([&](const std::vector<const float*>& in, float* dst) {
        CUXPLAIN_DISPATCH(ctx, nn_pad, L.pad, in[0], n, dst);
      });
      return;
    case LayerKind::transpose:
      both([&](const std::vector<const float*>& in, float* dst) {
        CUXPLAIN_DISPATCH(ctx, nn_transpose, L.transpose, in[0], n, dst);
      });
      return;
    case LayerKind::softmax:
      if (bounds) {
        CUXPLAIN_DISPATCH(ctx, nn_softmax_bounds, out.size(), sound, in_lo[0], in_hi[0], n,
                          dst_lo, dst_hi);
      } else {
        CUXPLAIN_DISPATCH(ctx, nn_softmax, out.size(), in_lo[0], n, dst_lo);
      }
      return;
    default:
      CUXPLAIN_FAIL("network walk: layer '", L.description, "' has no runner");
  }
}

}  // namespace cuxplain::detail
