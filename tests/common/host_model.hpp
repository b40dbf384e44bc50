#pragma once
// A model written as a host function of a batch, usable on either backend:
// on CUDA the batch is copied to the host (copy_to_host waits for the
// context's stream) and the outputs back, so both backends see the same
// outputs for the same inputs.
#include <cstdint>
#include <functional>
#include <vector>

#include <cuxplain/core/context.hpp>
#include <cuxplain/core/memory.hpp>
#include <cuxplain/model.hpp>

namespace cuxplain::test {

using HostForward = std::function<void(ConstImageView batch, float* outputs)>;

inline Model host_model(const Context& ctx, std::int64_t num_outputs, HostForward forward,
                        std::int64_t* forwards = nullptr) {
  return Model{num_outputs, [ctx, num_outputs, forward, forwards](ConstImageView batch,
                                                                  float* outputs) {
    if (forwards != nullptr) *forwards += batch.n;
    if (ctx.is_host()) return forward(batch, outputs);
    std::vector<float> images(static_cast<std::size_t>(batch.size()));
    copy_to_host(ctx, images.data(), batch.data, images.size() * sizeof(float));
    std::vector<float> out(static_cast<std::size_t>(batch.n * num_outputs));
    ConstImageView host_batch = batch;
    host_batch.data = images.data();
    forward(host_batch, out.data());
    copy_to_device(ctx, outputs, out.data(), out.size() * sizeof(float));
  }};
}

/// out[i][k] = (k + 1) * sum_e weights[e] * x[i][e] + bias[k]: a linear model
/// over the elements of an image (in its memory order).
inline HostForward linear_forward(std::vector<float> weights, std::vector<float> bias) {
  return [weights, bias](ConstImageView batch, float* out) {
    const std::int64_t k = static_cast<std::int64_t>(bias.size());
    for (std::int64_t i = 0; i < batch.n; ++i) {
      double sum = 0.0;
      for (std::int64_t e = 0; e < batch.image_size(); ++e) {
        sum += static_cast<double>(weights[static_cast<std::size_t>(e)]) *
               batch.data[i * batch.image_size() + e];
      }
      for (std::int64_t c = 0; c < k; ++c) {
        out[i * k + c] = static_cast<float>((c + 1) * sum + bias[static_cast<std::size_t>(c)]);
      }
    }
  };
}

}  // namespace cuxplain::test
