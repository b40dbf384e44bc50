#pragma once
// The batching loop of the metrics and the baselines: a sibling of
// DesignRunner (design_runner.hpp), which hands each image's outputs over
// whole to an estimator, where this stream hands the target scores over
// batch by batch. Row r is row r % rows_per_image of image r / rows_per_image; a
// batch of batch_size rows may hold the end of one image and the start of
// the next, so that designs of a few rows per image (deletion's 11 steps,
// Average Drop's 2) still fill the model's batches. The caller writes the
// perturbed rows (fill) and reads the target scores (consume); the stream
// owns the batch, the model call (invoke_callback), the poisoning of the
// outputs and their finiteness check.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <cuxplain/core/buffer.hpp>
#include <cuxplain/core/context.hpp>
#include <cuxplain/core/conventions.hpp>
#include <cuxplain/core/views.hpp>
#include <cuxplain/model.hpp>

#include "design_runner.hpp"

namespace cuxplain::detail {

class RowStream {
 public:
  /// Writes design rows [row_begin, row_begin + rows) as `rows` images of
  /// the images' shape and layout at `batch`.
  using Fill = std::function<void(std::int64_t row_begin, std::int64_t rows, float* batch)>;
  /// Reads the target scores of rows [row_begin, row_begin + rows) (on the
  /// context's device, valid until the next batch).
  using Consume =
      std::function<void(std::int64_t row_begin, std::int64_t rows, const float* scores)>;

  /// batch_size: rows per model call (the buffers hold min(batch_size, all
  /// rows)). caller: the public entry, for messages.
  RowStream(const Context& ctx, const Model& model, ConstImageView images,
            HostSpan<const int> targets, std::int64_t rows_per_image, std::int64_t batch_size,
            OutputActivation activation, const char* caller);

  std::int64_t total_rows() const { return total_rows_; }
  std::int64_t batch_rows() const { return batch_rows_; }

  /// Runs every row through the model. Throws cuxplain::Error when the model
  /// throws (naming the image and rows) or when a target score is not finite
  /// (naming the first such image; checked once, at the end: one stream
  /// synchronization on CUDA).
  void run(const Fill& fill, const Consume& consume);

  /// The images a range of rows spans, and for each the rows of the range
  /// in it (DesignSegment::offset: relative to row_begin).
  using Segment = DesignSegment;
  std::vector<Segment> segments(std::int64_t row_begin, std::int64_t rows) const;

 private:
  Context ctx_;  // a handle: copies share the state
  const Model& model_;
  ConstImageView images_;
  HostSpan<const int> targets_;
  std::int64_t rows_per_image_;
  std::int64_t total_rows_;
  std::int64_t batch_rows_;
  OutputActivation activation_;
  std::string caller_;
  Buffer<float> batch_;
  Buffer<float> outputs_;
  Buffer<float> scores_;
  Buffer<int> nonfinite_;
};

}  // namespace cuxplain::detail
