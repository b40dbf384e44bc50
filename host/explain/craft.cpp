// CRAFT: crops through g, NMF of their spatially averaged activations, Sobol
// importance of the concepts through h, concept maps, and the recursion into
// sub-concepts. The ops it streams through are in kernels/craft.hpp; the
// factorization, sampler, design and estimator are the library's own.
#include <cuxplain/craft.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>
#include <utility>

#include <cuxplain/core/error.hpp>
#include <cuxplain/core/memory.hpp>
#include <cuxplain/estimators.hpp>
#include <cuxplain/qmc.hpp>
#include <cuxplain/sobol_design.hpp>
#include <cuxplain/upsample.hpp>

#include "../../kernels/craft.hpp"
#include "../../kernels/dispatch.hpp"
#include "../../kernels/upsample.hpp"
#include "../core/enum_names.hpp"
#include "../core/validate.hpp"
#include "../nmf/internal.hpp"
#include "design_runner.hpp"

namespace cuxplain::craft {
namespace {

void validate_g(const SplitModel& model, const char* caller) {
  CUXPLAIN_EXPECTS(static_cast<bool>(model.g), caller, ": model.g is empty");
  CUXPLAIN_EXPECTS(model.channels >= 1, caller, ": model.channels must be >= 1, got ",
                   model.channels);
  CUXPLAIN_EXPECTS(model.height >= 1 && model.width >= 1, caller,
                   ": model.height and model.width must be >= 1, got ", model.height, " x ",
                   model.width);
}

void validate_crop_resize(CropResize resize, const char* caller) {
  CUXPLAIN_EXPECTS(resize == CropResize::tensorflow_bicubic || resize == CropResize::opencv_bicubic,
                   caller, ": the crop resize has an unknown value ", static_cast<int>(resize));
}

void validate_common_options(const CraftOptions& options, const char* caller) {
  validate_crop_resize(options.crop_resize, caller);
  CUXPLAIN_EXPECTS(options.batch_size >= 1, caller, ": options.batch_size must be >= 1, got ",
                   options.batch_size);
  CUXPLAIN_EXPECTS(std::isfinite(options.alpha_w) && options.alpha_w >= 0.0f, caller,
                   ": options.alpha_w must be finite and >= 0, got ", options.alpha_w);
}

void validate_bank(const Context& ctx, const SplitModel& model, const float* W, std::int64_t rank,
                   const char* caller) {
  detail::expect_on_device(ctx, W, detail::concat(caller, ": W").c_str());
  CUXPLAIN_EXPECTS(rank >= 1 && rank <= model.channels, caller,
                   ": rank must be in [1, model.channels] = [1, ", model.channels, "], got ",
                   rank);
  // Once per call: the loops express activations in W without checking it again.
  detail::nmf_check_matrix(ctx, W, rank, model.channels, caller, "W (the concept bank)");
}

/// Runs g on `batch` into `activations` (poisoned first), with the
/// callback's exceptions turned into an Error that says which rows failed.
void run_g(const Context& ctx, const SplitModel& model, ConstImageView batch, float* activations,
           const char* caller, const char* what, std::int64_t first) {
  CUXPLAIN_DISPATCH(ctx, fill, activations, batch.n * model.activation_size(),
                    std::numeric_limits<float>::quiet_NaN());
  detail::invoke_callback(
      detail::concat(caller, ": model.g"),
      [&] { return detail::concat("on ", what, " ", first, "..", first + batch.n - 1); },
      [&] { model.g(batch, activations); });
}

/// A (count x channels): crops `first..first+count` (or `ids`, on ctx's
/// device) through g, averaged over space, batch_size crops at a time.
void crop_activations(const Context& ctx, const SplitModel& model, ConstImageView images,
                      const CropGrid& grid, CropResize resize, std::int64_t first,
                      const std::int64_t* ids, std::int64_t count, std::int64_t batch_size,
                      float* A, const char* caller) {
  const std::int64_t batch = std::min(batch_size, count);
  Buffer<float> crops(ctx, batch * images.image_size());
  Buffer<float> activations(ctx, batch * model.activation_size());
  for (std::int64_t begin = 0; begin < count; begin += batch) {
    const std::int64_t rows = std::min(batch, count - begin);
    CUXPLAIN_DISPATCH(ctx, crop_resize, images, resize == CropResize::tensorflow_bicubic,
                      grid.patch, grid.stride, grid.cols, grid.per_image(), first + begin,
                      ids != nullptr ? ids + begin : nullptr, rows, crops.data());
    const ConstImageView view{crops.data(), rows, images.c, images.h, images.w, images.layout};
    run_g(ctx, model, view, activations.data(), caller, "crops", first + begin);
    CUXPLAIN_DISPATCH(ctx, plane_means, activations.data(), rows * model.channels,
                      model.height * model.width, A + begin * model.channels);
  }
}

/// options.nmf.rank fits a factorization of `crops` rows of `channels`
/// (checked before g runs on any crop).
void validate_rank(const CraftOptions& options, std::int64_t crops, std::int64_t channels,
                   const char* caller) {
  const std::int64_t max_rank = std::min(crops, channels);
  CUXPLAIN_EXPECTS(options.nmf.rank >= 1 && options.nmf.rank <= max_rank, caller,
                   ": options.nmf.rank must be in [1, min(crops, channels)] = [1, ", max_rank,
                   "], got ", options.nmf.rank, " (", crops, " crops, ", channels, " channels)");
}

/// The factorization of fit and fit_subconcepts (rank checked by
/// validate_rank), with xplique's alpha_W.
Concepts factorize(const Context& ctx, const float* A, std::int64_t crops, std::int64_t channels,
                   const CropGrid& grid, const CraftOptions& options, const char* caller) {
  const std::int64_t rank = options.nmf.rank;
  nmf::Options nmf_options = options.nmf;
  nmf_options.l2_u += options.alpha_w * static_cast<float>(channels);
  nmf_options.l2_w += options.alpha_w * static_cast<float>(crops);
  Concepts concepts;
  concepts.rank = rank;
  concepts.features = channels;
  concepts.grid = grid;
  concepts.crops = crops;
  concepts.W = Buffer<float>(ctx, rank * channels);
  concepts.U = Buffer<float>(ctx, crops * rank);
  try {
    concepts.nmf = nmf::fit(ctx, A, crops, channels, nmf_options, concepts.U.data(),
                            concepts.W.data());
  } catch (const Error& e) {
    CUXPLAIN_FAIL(caller, ": the activations of model.g averaged over each crop (A: one row per "
                  "crop, one column per channel) cannot be factorized: ", e.what());
  }
  return concepts;
}

/// U (count x locations rows, rank columns, location-major per image) for
/// images first..first+count, through g and nmf::transform with W fixed.
void transform_images(const Context& ctx, const SplitModel& model, const float* W,
                      std::int64_t rank, ConstImageView images, std::int64_t first,
                      std::int64_t count, const CraftOptions& options, float* activations,
                      float* locations_by_channel, float* U, const char* caller) {
  const std::int64_t locations = model.height * model.width;
  const ConstImageView batch{images.data + first * images.image_size(), count, images.c,
                             images.h, images.w, images.layout};
  run_g(ctx, model, batch, activations, caller, "images", first);
  CUXPLAIN_DISPATCH(ctx, batched_transpose, activations, count, model.channels, locations,
                    locations_by_channel);
  nmf::Options transform_options = options.nmf;
  transform_options.rank = rank;
  transform_options.init = nmf::Init::nndsvda;  // transform's own start (custom would read U)
  // scikit-learn's NMF.transform keeps the fitted model's penalty on U,
  // alpha_W times the number of features (see CraftOptions::alpha_w).
  transform_options.l2_u += options.alpha_w * static_cast<float>(model.channels);
  try {
    // W was checked once by the public entry (validate_bank).
    detail::nmf_transform(ctx, locations_by_channel, count * locations, model.channels, W,
                          transform_options, U, "nmf::transform");
  } catch (const Error& e) {
    CUXPLAIN_FAIL(caller, ": the activations of model.g on images ", first, "..",
                  first + count - 1, " (one row per image and location) cannot be expressed in "
                  "the concepts W: ", e.what());
  }
}

/// Buffers of transform_images for batches of at most `batch` images.
struct TransformBuffers {
  TransformBuffers(const Context& ctx, const SplitModel& model, std::int64_t rank,
                   std::int64_t batch)
      : activations(ctx, batch * model.activation_size()),
        locations_by_channel(ctx, batch * model.activation_size()),
        U(ctx, batch * model.height * model.width * rank) {}
  Buffer<float> activations, locations_by_channel, U;
};

}  // namespace

namespace {

constexpr EnumName<CropResize> kCropResizes[] = {
    {CropResize::tensorflow_bicubic, "tensorflow_bicubic"},
    {CropResize::opencv_bicubic, "opencv_bicubic"}};

}  // namespace

const char* to_string(CropResize resize) {
  return detail::name_in(kCropResizes, resize, "unknown");
}

SplitModel split_model(const Context& ctx, const nn::Network& g, const nn::Network& h) {
  const nn::Shape shape = g.output_shape();  // throws for an empty network
  SplitModel model;
  model.channels = shape.c;
  model.height = shape.h;
  model.width = shape.w;
  const nn::Shape input = g.input_shape();
  model.g = [ctx, g, input](ConstImageView batch, float* activations) {
    CUXPLAIN_EXPECTS(batch.layout == Layout::nchw && batch.c == input.c && batch.h == input.h &&
                         batch.w == input.w,
                     "craft::split_model: g reads NCHW images of ", nn::to_string(input),
                     ", got ", batch.c, " x ", batch.h, " x ", batch.w,
                     batch.layout == Layout::nhwc ? " (NHWC)" : "");
    g.forward(ctx, batch.data, batch.n, activations);
  };
  if (!h.empty()) {  // a default-constructed h: fit and concept_maps only
    CUXPLAIN_EXPECTS(h.input_shape() == shape, "craft::split_model: h reads ",
                     nn::to_string(h.input_shape()), " but g writes ", nn::to_string(shape));
    CUXPLAIN_EXPECTS(g.backend() == h.backend() && g.device() == h.device(),
                     "craft::split_model: g and h were built for different devices");
    model.num_outputs = h.output_shape().size();
    model.h = [ctx, h](const float* activations, std::int64_t n, float* outputs) {
      h.forward(ctx, activations, n, outputs);
    };
  }
  return model;
}

CropGrid crop_grid(std::int64_t height, std::int64_t width, std::int64_t patch_size) {
  const std::int64_t side = std::min(height, width);
  CUXPLAIN_EXPECTS(height >= 1 && width >= 1, "craft::crop_grid: the image size must be >= 1, got ",
                   height, " x ", width);
  CUXPLAIN_EXPECTS(patch_size >= 1 && patch_size <= side,
                   "craft::crop_grid: patch_size must be in [1, min(height, width)] = [1, ", side,
                   "], got ", patch_size);
  CropGrid grid;
  grid.patch = patch_size;
  // int(0.8 * patch) as xplique computes it, in double.
  grid.stride = static_cast<std::int64_t>(0.8 * static_cast<double>(patch_size));
  CUXPLAIN_EXPECTS(grid.stride >= 1, "craft::crop_grid: patch_size ", patch_size,
                   " gives a stride int(0.8 * patch_size) = 0; use patch_size >= 2");
  grid.rows = (height - patch_size) / grid.stride + 1;
  grid.cols = (width - patch_size) / grid.stride + 1;
  return grid;
}

void extract_crops(const Context& ctx, ConstImageView images, std::int64_t patch_size,
                   std::int64_t first, std::int64_t count, float* crops, CropResize resize) {
  const char* caller = "craft::extract_crops";
  validate_crop_resize(resize, caller);
  detail::validate_images(ctx, images, caller);
  detail::expect_on_device(ctx, crops, "craft::extract_crops: crops");
  const CropGrid grid = crop_grid(images.h, images.w, patch_size);
  const std::int64_t total = images.n * grid.per_image();
  CUXPLAIN_EXPECTS(first >= 0 && count >= 0 && first + count <= total, caller, ": crops [", first,
                   ", ", first + count, ") must lie in [0, ", total, ") (", images.n,
                   " images x ", grid.per_image(), " crops)");
  if (count == 0) return;
  CUXPLAIN_DISPATCH(ctx, crop_resize, images, resize == CropResize::tensorflow_bicubic,
                    grid.patch, grid.stride, grid.cols, grid.per_image(), first, nullptr, count,
                    crops);
}

Concepts fit(const Context& ctx, const SplitModel& model, ConstImageView images,
             const CraftOptions& options) {
  const char* caller = "craft::fit";
  detail::validate_images(ctx, images, caller);
  validate_g(model, caller);
  validate_common_options(options, caller);
  const CropGrid grid = crop_grid(images.h, images.w, options.patch_size);
  const std::int64_t crops = images.n * grid.per_image();
  validate_rank(options, crops, model.channels, caller);
  Buffer<float> A(ctx, crops * model.channels);
  crop_activations(ctx, model, images, grid, options.crop_resize, 0, nullptr, crops,
                   options.batch_size, A.data(),
                   caller);
  return factorize(ctx, A.data(), crops, model.channels, grid, options, caller);
}

namespace {

/// Checks of the calls that read a concept bank W through g.
void validate_bank_call(const Context& ctx, const SplitModel& model, const float* W,
                        std::int64_t rank, ConstImageView images, const CraftOptions& options,
                        const char* caller) {
  detail::validate_images(ctx, images, caller);
  validate_g(model, caller);
  validate_common_options(options, caller);
  validate_bank(ctx, model, W, rank, caller);
}

/// Runs g and nmf::transform on batch_size images at a time and hands each
/// batch's coefficients (count x r x locations, concept-major per image) to
/// `use(first, count, coefficients)`.
template <class Use>
void for_each_coefficient_batch(const Context& ctx, const SplitModel& model, const float* W,
                                std::int64_t rank, ConstImageView images,
                                const CraftOptions& options, const char* caller, Use&& use) {
  const std::int64_t locations = model.height * model.width;
  const std::int64_t batch = std::min(options.batch_size, images.n);
  TransformBuffers buffers(ctx, model, rank, batch);
  Buffer<float> coefficients(ctx, batch * rank * locations);
  for (std::int64_t first = 0; first < images.n; first += batch) {
    const std::int64_t count = std::min(batch, images.n - first);
    transform_images(ctx, model, W, rank, images, first, count, options,
                     buffers.activations.data(), buffers.locations_by_channel.data(),
                     buffers.U.data(), caller);
    CUXPLAIN_DISPATCH(ctx, batched_transpose, buffers.U.data(), count, locations, rank,
                      coefficients.data());
    use(first, count, static_cast<const float*>(coefficients.data()));
  }
}

}  // namespace

void concept_coefficients(const Context& ctx, const SplitModel& model, const float* W,
                          std::int64_t rank, ConstImageView images, float* coefficients,
                          const CraftOptions& options) {
  const char* caller = "craft::concept_coefficients";
  validate_bank_call(ctx, model, W, rank, images, options, caller);
  detail::expect_on_device(ctx, coefficients, "craft::concept_coefficients: coefficients");
  const std::int64_t per_image = rank * model.height * model.width;
  // Staged so that `coefficients` is untouched when a later batch fails.
  Buffer<float> staged(ctx, images.n * per_image);
  for_each_coefficient_batch(ctx, model, W, rank, images, options, caller,
                             [&](std::int64_t first, std::int64_t count, const float* batch) {
                               copy_on_device(ctx, staged.data() + first * per_image, batch,
                                              static_cast<std::size_t>(count * per_image) *
                                                  sizeof(float));
                             });
  copy_on_device(ctx, coefficients, staged.data(), staged.bytes());
}

void concept_maps(const Context& ctx, const SplitModel& model, const float* W, std::int64_t rank,
                  ConstImageView images, float* maps, const CraftOptions& options) {
  const char* caller = "craft::concept_maps";
  validate_bank_call(ctx, model, W, rank, images, options, caller);
  detail::expect_on_device(ctx, maps, "craft::concept_maps: maps");
  CUXPLAIN_EXPECTS(options.map_interpolation == Interpolation::bicubic ||
                       options.map_interpolation == Interpolation::nearest,
                   caller, ": options.map_interpolation must be bicubic or nearest, got ",
                   to_string(options.map_interpolation));
  const std::int64_t per_image = rank * images.h * images.w;
  Buffer<float> staged(ctx, images.n * per_image);
  for_each_coefficient_batch(ctx, model, W, rank, images, options, caller,
                             [&](std::int64_t first, std::int64_t count, const float* batch) {
                               CUXPLAIN_DISPATCH(ctx, upsample, batch, count * rank,
                                                 model.height, model.width, images.h, images.w,
                                                 staged.data() + first * per_image,
                                                 options.map_interpolation, 1);
                             });
  copy_on_device(ctx, maps, staged.data(), staged.bytes());
}

void concept_importance(const Context& ctx, const SplitModel& model, const float* W,
                        std::int64_t rank, ConstImageView images, HostSpan<const int> targets,
                        float* importances, const CraftOptions& options, float* per_image) {
  const char* caller = "craft::concept_importance";
  validate_bank_call(ctx, model, W, rank, images, options, caller);
  CUXPLAIN_EXPECTS(static_cast<bool>(model.h), caller, ": model.h is empty");
  CUXPLAIN_EXPECTS(model.num_outputs >= 1, caller, ": model.num_outputs must be >= 1, got ",
                   model.num_outputs);
  detail::expect_on_device(ctx, importances, "craft::concept_importance: importances");
  if (per_image != nullptr) {
    detail::expect_on_device(ctx, per_image, "craft::concept_importance: per_image");
  }
  detail::validate_targets(targets, images.n, model.num_outputs, caller);
  CUXPLAIN_EXPECTS(options.nb_design >= 2 && detail::is_power_of_two(options.nb_design), caller,
                   ": options.nb_design must be a power of two >= 2, got ", options.nb_design);
  CUXPLAIN_EXPECTS(options.skip >= 0, caller, ": options.skip must be >= 0, got ", options.skip);
  CUXPLAIN_EXPECTS((options.sampler != Sampler::sobol && options.sampler != Sampler::sobol_owen) ||
                       2 * rank <= kSobolMaxDimensions,
                   caller, ": rank ", rank, " needs a ", 2 * rank,
                   "-dimensional Sobol sequence; the sampler has ", kSobolMaxDimensions);

  const std::int64_t locations = model.height * model.width;
  const std::int64_t nb_design = options.nb_design;
  const std::int64_t g_batch = std::min(options.batch_size, images.n);

  // Sobol indices in concept space: the design masks the concepts.
  const detail::SobolDesign design(ctx, options.sampler, nb_design, rank, false, options.skip,
                                   options.seed, caller, "rank");
  // h runs on the designs of a g batch's images back to back.
  const std::int64_t h_batch = detail::batch_rows(
      options.batch_size, detail::checked_product(g_batch, design.rows(), caller));
  TransformBuffers buffers(ctx, model, rank, g_batch);
  CUXPLAIN_EXPECTS(h_batch * locations <= std::numeric_limits<int>::max(), caller,
                   ": options.batch_size ", options.batch_size, " times ", locations,
                   " locations exceeds the 2^31 - 1 rows of a BLAS call");
  Buffer<float> masks(ctx, h_batch * rank);
  Buffer<float> perturbed(ctx, h_batch * locations * rank);  // (U o m), location-major
  Buffer<float> by_location(ctx, h_batch * model.activation_size());
  Buffer<float> decoded(ctx, h_batch * model.activation_size());
  detail::DesignRunner runner(
      ctx, model.num_outputs, h_batch, design.rows(), g_batch,
      {detail::concat(caller, ": model.h"), "perturbed concept activations", "n x num_outputs"},
      "the model outputs of a batch");
  Buffer<float> scores(ctx, images.n * rank);

  for (std::int64_t first = 0; first < images.n; first += g_batch) {
    const std::int64_t count = std::min(g_batch, images.n - first);
    transform_images(ctx, model, W, rank, images, first, count, options,
                     buffers.activations.data(), buffers.locations_by_channel.data(),
                     buffers.U.data(), caller);
    runner.run(
        first, count, targets,
        [&](const std::vector<detail::DesignSegment>& segments, std::int64_t rows) {
          for (const detail::DesignSegment& s : segments) {
            const float* U = buffers.U.data() + (s.image - first) * locations * rank;
            float* segment_masks = masks.data() + s.offset * rank;
            design.masks(s.row, s.rows, segment_masks);
            CUXPLAIN_DISPATCH(ctx, perturb_coefficients, U, segment_masks, s.rows, locations,
                              rank, perturbed.data() + s.offset * locations * rank);
          }
          // Activations (U o m) W of every row, then channel-major as h reads them.
          CUXPLAIN_DISPATCH(ctx, gemm, false, false, rows * locations, model.channels, rank, 1.0f,
                            perturbed.data(), rank, W, model.channels, 0.0f, by_location.data(),
                            model.channels);
          CUXPLAIN_DISPATCH(ctx, batched_transpose, by_location.data(), rows, locations,
                            model.channels, decoded.data());
        },
        [&](std::int64_t rows, float* outputs) { model.h(decoded.data(), rows, outputs); },
        [&](std::int64_t image, const float* outputs) {
          design.estimate(outputs, options.estimator, scores.data() + image * rank, nullptr);
        });
  }

  // Mean over images in double on the host: r values.
  std::vector<float> host_scores(static_cast<std::size_t>(images.n * rank));
  copy_to_host(ctx, host_scores.data(), scores.data(), scores.bytes());
  std::vector<float> mean(static_cast<std::size_t>(rank));
  for (std::int64_t k = 0; k < rank; ++k) {
    double sum = 0.0;
    for (std::int64_t i = 0; i < images.n; ++i) sum += host_scores[i * rank + k];
    mean[k] = static_cast<float>(sum / static_cast<double>(images.n));
  }
  copy_to_device(ctx, importances, mean.data(), mean.size() * sizeof(float));
  if (per_image != nullptr) copy_on_device(ctx, per_image, scores.data(), scores.bytes());
  ctx.synchronize();  // `mean` is a host temporary that the copy reads
}

std::vector<std::int64_t> top_crops(const Context& ctx, const Concepts& concepts,
                                    std::int64_t concept, std::int64_t count) {
  const char* caller = "craft::top_crops";
  CUXPLAIN_EXPECTS(concepts.U.data() != nullptr && concepts.crops >= 1 && concepts.rank >= 1,
                   caller, ": concepts is empty (make it with craft::fit)");
  CUXPLAIN_EXPECTS(concept >= 0 && concept < concepts.rank, caller, ": concept must be in [0, ",
                   concepts.rank, "), got ", concept);
  CUXPLAIN_EXPECTS(count >= 1, caller, ": count must be >= 1, got ", count);
  std::vector<float> U(static_cast<std::size_t>(concepts.crops * concepts.rank));
  copy_to_host(ctx, U.data(), concepts.U.data(), concepts.U.bytes());
  std::vector<std::int64_t> ids(static_cast<std::size_t>(concepts.crops));
  std::iota(ids.begin(), ids.end(), std::int64_t{0});
  const auto value = [&](std::int64_t crop) { return U[crop * concepts.rank + concept]; };
  const std::int64_t kept = std::min(count, concepts.crops);
  std::partial_sort(ids.begin(), ids.begin() + kept, ids.end(),
                    [&](std::int64_t a, std::int64_t b) {
                      return value(a) > value(b) || (value(a) == value(b) && a < b);
                    });
  ids.resize(static_cast<std::size_t>(kept));
  return ids;
}

SubConcepts fit_subconcepts(const Context& ctx, const SplitModel& earlier, ConstImageView images,
                            const Concepts& parent, std::int64_t concept, std::int64_t count,
                            const CraftOptions& options) {
  const char* caller = "craft::fit_subconcepts";
  detail::validate_images(ctx, images, caller);
  validate_g(earlier, caller);
  validate_common_options(options, caller);
  const CropGrid grid = crop_grid(images.h, images.w, parent.grid.patch);
  CUXPLAIN_EXPECTS(grid.per_image() == parent.grid.per_image() &&
                       images.n * grid.per_image() == parent.crops,
                   caller, ": images must be those the parent concepts were fit on: ", images.n,
                   " images give ", images.n * grid.per_image(), " crops, the parent has ",
                   parent.crops);
  SubConcepts result;
  result.crop_ids = top_crops(ctx, parent, concept, count);
  const std::int64_t selected = static_cast<std::int64_t>(result.crop_ids.size());
  validate_rank(options, selected, earlier.channels, caller);
  Buffer<std::int64_t> ids(ctx, selected);
  copy_to_device(ctx, ids.data(), result.crop_ids.data(), selected * sizeof(std::int64_t));
  Buffer<float> A(ctx, selected * earlier.channels);
  crop_activations(ctx, earlier, images, grid, options.crop_resize, 0, ids.data(), selected,
                   options.batch_size,
                   A.data(), caller);
  result.concepts = factorize(ctx, A.data(), selected, earlier.channels, grid, options, caller);
  return result;
}

}  // namespace cuxplain::craft

namespace cuxplain {

template <>
HostSpan<const EnumName<craft::CropResize>> enum_names<craft::CropResize>() {
  return detail::span_of(craft::kCropResizes);
}

}  // namespace cuxplain
