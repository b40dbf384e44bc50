#pragma once
// The user's model, as the explainers see it.
#include <cstdint>
#include <functional>

#include "core/views.hpp"

namespace cuxplain {

/// A black-box classifier driven by the explainers.
///
/// forward(batch, outputs) must write batch.n x num_outputs floats (row-major)
/// to `outputs`. Both live on the explainer's Context device; on CUDA the
/// callback enqueues its work on ctx.stream() (or synchronizes before
/// returning). `batch` is only valid during the call. Rows must not depend on
/// each other (results are then independent of batch_size).
struct Model {
  std::int64_t num_outputs = 0;
  std::function<void(ConstImageView batch, float* outputs)> forward;
};

}  // namespace cuxplain
