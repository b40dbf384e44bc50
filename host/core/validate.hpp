#pragma once
// The argument checks shared by the public entry points, in one place. Each
// throws cuxplain::Error naming the caller, the argument and its value.
#include <cstdint>
#include <limits>
#include <string>

#include <cuxplain/core/context.hpp>
#include <cuxplain/core/error.hpp>
#include <cuxplain/core/options.hpp>
#include <cuxplain/core/views.hpp>
#include <cuxplain/model.hpp>

namespace cuxplain::detail {

/// Throws unless `ptr` is non-null and readable by ctx's backend: device (or
/// managed) memory for a CUDA context, host memory for a host context. Catches
/// the common mistake of handing host arrays to Context::cuda() and vice versa.
/// On CUDA this asks the driver (cudaPointerGetAttributes): public entries
/// check once, the loops behind them do not.
void expect_on_device(const Context& ctx, const void* ptr, const char* name);

/// a * b for sizes a, b >= 0; a cuxplain::Error naming `what` when the
/// product does not fit 64 bits.
inline std::int64_t checked_product(std::int64_t a, std::int64_t b, const std::string& what) {
  CUXPLAIN_EXPECTS(a >= 0 && b >= 0, what, ": negative size ", a, " x ", b);
  CUXPLAIN_EXPECTS(b == 0 || a <= std::numeric_limits<std::int64_t>::max() / b, what, ": ", a,
                   " x ", b, " overflows a 64-bit size");
  return a * b;
}

constexpr bool is_power_of_two(std::int64_t value) {
  return value > 0 && (value & (value - 1)) == 0;
}

/// model.num_outputs >= 1 and a forward callback.
void validate_model(const Model& model, const char* caller);

/// The model, the images and their targets, as every explainer needs them.
void validate_model_and_images(const Context& ctx, const Model& model, ConstImageView images,
                               HostSpan<const int> targets, const char* caller);

/// images: a non-empty batch of known layout on ctx's device.
void validate_images(const Context& ctx, ConstImageView images, const char* caller);

/// targets: n class ids in [0, num_outputs).
void validate_targets(HostSpan<const int> targets, std::int64_t n, std::int64_t num_outputs,
                      const char* caller);

/// options.skip >= 0.
void validate_skip(std::int64_t skip, const char* caller);

/// grid_size in [1, min(h, w)].
void validate_grid(ConstImageView images, std::int64_t grid_size, const char* caller);

/// Perturbation options and batch_size.
void validate_perturbation(Perturbation perturbation, Interpolation mask_interpolation,
                           std::int64_t blur_size, float baseline, float sigma,
                           std::int64_t batch_size, const char* caller);

}  // namespace cuxplain::detail
