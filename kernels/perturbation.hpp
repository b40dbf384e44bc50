#pragma once
// Backend implementations of cuxplain::box_blur and cuxplain::perturb. The
// public entries (host/explain/perturbation.cpp) validate the arguments first; these
// assume them valid.
#include <cstddef>
#include <cstdint>

#include <cuxplain/core/context.hpp>
#include <cuxplain/core/views.hpp>
#include <cuxplain/perturbation.hpp>

#include "cpu/isa.hpp"

namespace cuxplain::kernels::cpu {
void box_blur(const Context& ctx, ConstImageView images, std::int64_t blur_size, ImageView out);
void perturb(const Context& ctx, ConstImageView image, const float* masks, std::int64_t num_masks,
             const PerturbationParams& params, const float* blurred, void* out, DType out_type);
/// Outputs of perturb from this many bytes on are written with non-temporal
/// stores (past the caches).
inline constexpr std::size_t kPerturbStreamingBytes = std::size_t{8} << 20;
/// perturb's walk compiled for `isa`, which the CPU must support (perturb
/// takes best_isa()): the variants give the same bits.
void perturb_with(Isa isa, ConstImageView image, const float* masks, std::int64_t num_masks,
                  const PerturbationParams& params, const float* blurred, void* out,
                  DType out_type);
}  // namespace cuxplain::kernels::cpu

namespace cuxplain::kernels::cuda {
void box_blur(const Context& ctx, ConstImageView images, std::int64_t blur_size, ImageView out);
void perturb(const Context& ctx, ConstImageView image, const float* masks, std::int64_t num_masks,
             const PerturbationParams& params, const float* blurred, void* out, DType out_type);
}  // namespace cuxplain::kernels::cuda
