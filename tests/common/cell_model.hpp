#pragma once
// A model with a known answer for explainer tests: it reads the pixels of a
// few grid cells (any layout) and nothing else, so every other cell must get
// an attribution of exactly 0.
#include <cmath>
#include <cstdint>
#include <vector>

#include <cuxplain/core/context.hpp>
#include <cuxplain/core/memory.hpp>
#include <cuxplain/model.hpp>

namespace cuxplain::test {

struct CellReader {
  std::int64_t grid = 8;
  std::vector<std::int64_t> cells;  ///< row-major cell indices the model reads
  std::int64_t num_outputs = 4;

  double cell_mean(ConstImageView batch, std::int64_t image, std::int64_t cell) const {
    const std::int64_t gy = cell / grid, gx = cell % grid;
    const std::int64_t y0 = gy * batch.h / grid, y1 = (gy + 1) * batch.h / grid;
    const std::int64_t x0 = gx * batch.w / grid, x1 = (gx + 1) * batch.w / grid;
    const float* base = batch.data + image * batch.image_size();
    double sum = 0.0;
    for (std::int64_t c = 0; c < batch.c; ++c)
      for (std::int64_t y = y0; y < y1; ++y)
        for (std::int64_t x = x0; x < x1; ++x)
          sum += batch.layout == Layout::nchw ? base[(c * batch.h + y) * batch.w + x]
                                              : base[(y * batch.w + x) * batch.c + c];
    return sum / static_cast<double>(batch.c * (y1 - y0) * (x1 - x0));
  }

  /// Output k of image i: a nonlinear function of the read cells' means.
  void forward_host(ConstImageView batch, float* outputs) const {
    for (std::int64_t i = 0; i < batch.n; ++i) {
      double interaction = 1.0, additive = 0.0;
      for (std::size_t j = 0; j < cells.size(); ++j) {
        const double m = cell_mean(batch, i, cells[j]);
        additive += (j + 1.0) * m;
        interaction *= 0.5 + m;
      }
      for (std::int64_t k = 0; k < num_outputs; ++k)
        outputs[i * num_outputs + k] =
            static_cast<float>(std::tanh(additive) + (k + 1) * interaction - 0.1 * k);
    }
  }

  /// The model as an explainer sees it on `ctx`; CUDA batches are copied to
  /// the host (copy_to_host waits for ctx's stream) and the outputs back.
  Model as_model(const Context& ctx, std::int64_t* forwards = nullptr) const {
    return Model{num_outputs, [this, ctx, forwards](ConstImageView batch, float* outputs) {
      if (forwards != nullptr) *forwards += batch.n;
      if (ctx.is_host()) return forward_host(batch, outputs);
      std::vector<float> images(static_cast<std::size_t>(batch.size()));
      copy_to_host(ctx, images.data(), batch.data, images.size() * sizeof(float));
      std::vector<float> out(static_cast<std::size_t>(batch.n * num_outputs));
      ConstImageView host_batch = batch;
      host_batch.data = images.data();
      forward_host(host_batch, out.data());
      copy_to_device(ctx, outputs, out.data(), out.size() * sizeof(float));
    }};
  }
};

}  // namespace cuxplain::test
