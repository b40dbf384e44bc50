#pragma once
// Checks that an explainer packing several images' designs into each model
// call (Sobol and HSIC attribution) gives, bit for bit, what it gives with
// one image's design per call, and calls the model with full batches.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include <cuxplain/core/buffer.hpp>
#include <cuxplain/core/context.hpp>
#include <cuxplain/hsic.hpp>
#include <cuxplain/model.hpp>
#include <cuxplain/sobol.hpp>

#include "common/cell_model.hpp"
#include "common/test_utils.hpp"

namespace cuxplain::test {

/// The rows of each model call that streams `total` rows batch_size at a time.
inline std::vector<std::int64_t> expected_calls(std::int64_t total, std::int64_t batch_size) {
  std::vector<std::int64_t> calls;
  for (std::int64_t begin = 0; begin < total; begin += batch_size) {
    calls.push_back(std::min(batch_size, total - begin));
  }
  return calls;
}

/// Runs the explainer on images (n x c x h x w, `layout`) with a model and a
/// batch size; returns every output it writes, image by image.
using Explain = std::function<std::vector<float>(const Model& model, ConstImageView images,
                                                 HostSpan<const int> targets,
                                                 std::int64_t batch_size)>;

/// Arrays of n equal per-image blocks, image by image: image 0's block of
/// each array in turn, then image 1's, ...
inline std::vector<float> by_image(std::int64_t n,
                                   const std::vector<const std::vector<float>*>& arrays) {
  std::vector<float> out;
  for (std::int64_t i = 0; i < n; ++i) {
    for (const std::vector<float>* array : arrays) {
      const std::size_t block = array->size() / static_cast<std::size_t>(n);
      out.insert(out.end(), array->begin() + static_cast<std::ptrdiff_t>(i * block),
                 array->begin() + static_cast<std::ptrdiff_t>((i + 1) * block));
    }
  }
  return out;
}

/// Sobol attribution on ctx with `options` (its batch size set per call):
/// total then first-order scores (options.first_order must be set), image
/// by image. cells: scores per image.
inline Explain sobol_outputs(const Context& ctx, SobolOptions& options, std::int64_t cells) {
  return [&options, ctx, cells](const Model& model, ConstImageView images,
                                HostSpan<const int> targets, std::int64_t batch_size) {
    options.batch_size = batch_size;
    Buffer<float> total = poisoned(ctx, cells * images.n);
    Buffer<float> first = poisoned(ctx, cells * images.n);
    sobol_attribution(ctx, model, images, targets, total.data(), options, first.data());
    const std::vector<float> t = download(ctx, total), f = download(ctx, first);
    return by_image(images.n, {&t, &f});
  };
}

/// HSIC attribution on ctx with `options` (its batch size set per call):
/// scores then interactions (options.interactions must be set), image by
/// image. cells: scores per image.
inline Explain hsic_outputs(const Context& ctx, HsicOptions& options, std::int64_t cells) {
  return [&options, ctx, cells](const Model& model, ConstImageView images,
                                HostSpan<const int> targets, std::int64_t batch_size) {
    options.batch_size = batch_size;
    Buffer<float> scores = poisoned(ctx, cells * images.n);
    Buffer<float> inter = poisoned(ctx, cells * cells * images.n);
    hsic_attribution(ctx, model, images, targets, scores.data(), options, inter.data());
    const std::vector<float> s = download(ctx, scores), l = download(ctx, inter);
    return by_image(images.n, {&s, &l});
  };
}

/// The reference: each image alone, its whole design in one model call
/// (batch_size = design_rows). Then all the images at once for each of
/// batch_sizes: the outputs must match the reference bitwise, and the model
/// must run on full batches of batch_size rows, the designs back to back.
inline void expect_packing_matches_one_image_per_call(
    const Context& ctx, const CellReader& reader, ConstImageView images,
    const std::vector<int>& targets, std::int64_t design_rows,
    const std::vector<std::int64_t>& batch_sizes, const Explain& explain) {
  std::vector<std::int64_t> calls;
  const Model plain = reader.as_model(ctx);
  const Model recording{reader.num_outputs, [&](ConstImageView batch, float* out) {
                          calls.push_back(batch.n);
                          plain.forward(batch, out);
                        }};
  std::vector<float> reference;
  for (std::int64_t image = 0; image < images.n; ++image) {
    calls.clear();
    const std::vector<float> one =
        explain(recording, images.image(image), {targets[static_cast<std::size_t>(image)]},
                design_rows);
    EXPECT_EQ(calls, std::vector<std::int64_t>{design_rows}) << "image " << image << " alone";
    reference.insert(reference.end(), one.begin(), one.end());
  }
  ASSERT_GT(l2_norm(reference), 0.0);
  for (const std::int64_t batch : batch_sizes) {
    calls.clear();
    const std::vector<float> packed = explain(recording, images, targets, batch);
    EXPECT_EQ(calls, expected_calls(images.n * design_rows, batch)) << "batch_size " << batch;
    ASSERT_EQ(packed.size(), reference.size());
    for (std::size_t i = 0; i < packed.size(); ++i) {
      // Bitwise: compare representations so NaN would fail too.
      EXPECT_EQ(std::memcmp(&packed[i], &reference[i], sizeof(float)), 0)
          << "batch_size " << batch << " output " << i << ": " << packed[i] << " vs "
          << reference[i];
    }
  }
}

}  // namespace cuxplain::test
