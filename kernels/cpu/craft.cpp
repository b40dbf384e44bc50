// The CPU backend of kernels/craft.inl, and its transpose: plain loops on
// one thread (see craft.inl for why).
#include "backend.hpp"

#include "../craft.inl"

namespace cuxplain::kernels::cpu {

void batched_transpose(const Context&, const float* in, std::int64_t batch, std::int64_t rows,
                       std::int64_t cols, float* out) {
  for (std::int64_t b = 0; b < batch; ++b) {
    for (std::int64_t j = 0; j < cols; ++j) {
      const float* src = in + b * rows * cols + j;
      float* dst = out + b * rows * cols + j * rows;
      for (std::int64_t i = 0; i < rows; ++i) dst[i] = src[i * cols];
    }
  }
}

}  // namespace cuxplain::kernels::cpu
