#pragma once
// Argument checks the metrics (host/metrics.cpp) and the baselines
// (host/baselines.cpp) share, beyond those of explainer_common.hpp.
#include <cstdint>
#include <string>

#include <cuxplain/core/context.hpp>
#include <cuxplain/core/conventions.hpp>
#include <cuxplain/core/views.hpp>

namespace cuxplain::detail {

void validate_convention(Convention convention, const char* caller);
void validate_activation(OutputActivation activation, const char* caller);
void validate_batch_size(std::int64_t batch_size, const char* caller);
/// h * w < 2^31 (rank maps and pixel indices are 32-bit).
void validate_pixels(ConstImageView images, const char* caller);
/// explanations: n maps of the images' h x w, 1 or images.c channels, on ctx's device.
void validate_explanations(const Context& ctx, ConstImageView images,
                           ConstImageView explanations, const char* caller);
/// explanations alone (complexity, sparseness): a non-empty batch on ctx's device.
void validate_maps(const Context& ctx, ConstImageView explanations, const char* caller);
/// Throws naming `what` when any of values[0, count) is not finite (one
/// read-back: a stream synchronization on CUDA).
void expect_finite(const Context& ctx, const float* values, std::int64_t count,
                   const std::string& what, const char* caller);
/// An output array: non-null, on ctx's device.
void expect_output(const Context& ctx, const void* out, const char* name, const char* caller);

}  // namespace cuxplain::detail
