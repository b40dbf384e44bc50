// Sobol, HSIC and EVA attributions, upsample, samplers and estimators.
#include <nanobind/stl/optional.h>
#include <nanobind/stl/tuple.h>

#include <optional>

#include "common.hpp"
#include "models.hpp"

namespace cuxplain::python {
namespace {

std::vector<std::size_t> score_shape(ConstImageView images, std::int64_t grid_size,
                                     bool per_channel) {
  std::vector<std::size_t> shape{static_cast<std::size_t>(images.n),
                                 static_cast<std::size_t>(grid_size),
                                 static_cast<std::size_t>(grid_size)};
  if (per_channel) shape.push_back(static_cast<std::size_t>(images.c));
  return shape;
}

nb::tuple sobol(const Context& ctx, nb::handle model, bool synchronize, std::int64_t num_outputs,
                const InArray& images, Layout layout, const std::vector<int>& targets,
                const SobolOptions& options) {
  const ConstImageView view = image_view(images, ctx, layout);
  const ModelSource source(model, synchronize, "model");
  const Model forward = source.model(ctx, num_outputs, layout);
  Result scores(ctx, score_shape(view, options.grid_size, options.per_channel),
                "sobol_attribution's scores");
  std::optional<Result> first_order;
  if (options.first_order) {
    first_order.emplace(ctx, score_shape(view, options.grid_size, options.per_channel),
                        "sobol_attribution's first-order scores");
  }
  {
    nb::gil_scoped_release release;
    sobol_attribution(ctx, forward, view, targets, scores.data(), options,
                      first_order ? first_order->data() : nullptr);
  }
  return nb::make_tuple(scores.release(),
                        first_order ? nb::cast(first_order->release()) : nb::none());
}

nb::tuple hsic(const Context& ctx, nb::handle model, bool synchronize, std::int64_t num_outputs,
               const InArray& images, Layout layout, const std::vector<int>& targets,
               const HsicOptions& options) {
  const ConstImageView view = image_view(images, ctx, layout);
  const ModelSource source(model, synchronize, "model");
  const Model forward = source.model(ctx, num_outputs, layout);
  Result scores(ctx, score_shape(view, options.grid_size, false), "hsic_attribution's scores");
  std::optional<Result> interactions;
  if (options.interactions) {
    const auto d = static_cast<std::size_t>(options.grid_size * options.grid_size);
    interactions.emplace(ctx, std::vector<std::size_t>{static_cast<std::size_t>(view.n), d, d},
                         "hsic_attribution's interactions");
  }
  {
    nb::gil_scoped_release release;
    hsic_attribution(ctx, forward, view, targets, scores.data(), options,
                     interactions ? interactions->data() : nullptr);
  }
  return nb::make_tuple(scores.release(),
                        interactions ? nb::cast(interactions->release()) : nb::none());
}

OutArray eva(const Context& ctx, const nn::Network& network, const InArray& images, Layout layout,
             const std::vector<int>& targets, const EvaOptions& options) {
  const ConstImageView view = image_view(images, ctx, layout);
  Result scores(ctx, score_shape(view, options.grid_size, false), "eva_attribution's scores");
  {
    nb::gil_scoped_release release;
    eva_attribution(ctx, network, view, targets, scores.data(), options);
  }
  return scores.release();
}

/// cells: n x grid_h x grid_w (channels = 1) or n x grid_h x grid_w x channels.
OutArray upsample_cells(const Context& ctx, const InArray& cells, std::int64_t h, std::int64_t w,
                        Interpolation method) {
  if (cells.ndim() != 3 && cells.ndim() != 4) {
    fail_argument("cells must be n x grid_h x grid_w or n x grid_h x grid_w x channels, got shape ",
                  shape_string(cells));
  }
  const float* data = checked_floats(cells, ctx, "cells", -1);
  const auto n = static_cast<std::int64_t>(cells.shape(0));
  const auto grid_h = static_cast<std::int64_t>(cells.shape(1));
  const auto grid_w = static_cast<std::int64_t>(cells.shape(2));
  const std::int64_t channels = cells.ndim() == 4 ? static_cast<std::int64_t>(cells.shape(3)) : 1;
  if (h < 1 || w < 1) fail_argument("size must be >= 1 on both axes, got (", h, ", ", w, ")");
  std::vector<std::size_t> shape{static_cast<std::size_t>(n), static_cast<std::size_t>(h),
                                 static_cast<std::size_t>(w)};
  if (cells.ndim() == 4) shape.push_back(static_cast<std::size_t>(channels));
  Result out(ctx, shape, "upsample's output");
  {
    nb::gil_scoped_release release;
    upsample(ctx, data, n, grid_h, grid_w, h, w, out.data(), method, channels);
  }
  return out.release();
}

OutArray samples(const Context& ctx, Sampler sampler, std::int64_t n, std::int64_t dims,
                 std::int64_t skip, std::uint64_t seed) {
  if (n < 1 || dims < 1) fail_argument("n and dims must be >= 1, got n=", n, " dims=", dims);
  Result out(ctx, {static_cast<std::size_t>(n), static_cast<std::size_t>(dims)},
             "generate_samples' points");
  {
    nb::gil_scoped_release release;
    generate_samples(ctx, sampler, n, dims, out.data(), skip, seed);
  }
  return out.release();
}

OutArray hsic_masks(const Context& ctx, Sampler sampler, std::int64_t nb_design, std::int64_t d,
                    bool binary, std::int64_t skip, std::uint64_t seed) {
  if (nb_design < 1 || d < 1) {
    fail_argument("nb_design and d must be >= 1, got nb_design=", nb_design, " d=", d);
  }
  Result out(ctx, {static_cast<std::size_t>(nb_design), static_cast<std::size_t>(d)},
             "hsic_design's masks");
  {
    nb::gil_scoped_release release;
    hsic_design(ctx, sampler, nb_design, d, binary, out.data(), skip, seed);
  }
  return out.release();
}

OutArray design_masks(const Context& ctx, const InArray& sequence, std::int64_t d, bool with_b,
                      std::int64_t row_begin, std::int64_t rows) {
  const float* data = checked_floats(sequence, ctx, "sequence", 2);
  const auto nb_design = static_cast<std::int64_t>(sequence.shape(0));
  if (static_cast<std::int64_t>(sequence.shape(1)) != 2 * d) {
    fail_argument("sequence must be nb_design x 2d = ", nb_design, " x ", 2 * d, ", got shape ",
                  shape_string(sequence));
  }
  if (rows < 1) fail_argument("rows must be >= 1, got ", rows);
  Result out(ctx, {static_cast<std::size_t>(rows), static_cast<std::size_t>(d)},
             "sobol_design_masks' rows");
  {
    nb::gil_scoped_release release;
    sobol_design_masks(ctx, data, nb_design, d, with_b, row_begin, rows, out.data());
  }
  return out.release();
}

OutArray total_order(const Context& ctx, Estimator estimator, const InArray& y_a,
                     const InArray& y_c) {
  const float* a = checked_floats(y_a, ctx, "y_a", 1);
  const float* c = checked_floats(y_c, ctx, "y_c", 2);
  const auto nb_design = static_cast<std::int64_t>(y_a.shape(0));
  const auto d = static_cast<std::int64_t>(y_c.shape(0));
  if (static_cast<std::int64_t>(y_c.shape(1)) != nb_design) {
    fail_argument("y_c must be d x nb_design = d x ", nb_design, ", got shape ",
                  shape_string(y_c));
  }
  Result out(ctx, {static_cast<std::size_t>(d)}, "sobol_total_order's indices");
  {
    nb::gil_scoped_release release;
    sobol_total_order(ctx, estimator, a, c, nb_design, d, out.data());
  }
  return out.release();
}

OutArray first_order(const Context& ctx, const InArray& y_a, const InArray& y_b,
                     const InArray& y_c) {
  const float* a = checked_floats(y_a, ctx, "y_a", 1);
  const float* b = checked_floats(y_b, ctx, "y_b", 1);
  const float* c = checked_floats(y_c, ctx, "y_c", 2);
  const auto nb_design = static_cast<std::int64_t>(y_a.shape(0));
  const auto d = static_cast<std::int64_t>(y_c.shape(0));
  if (static_cast<std::int64_t>(y_b.shape(0)) != nb_design ||
      static_cast<std::int64_t>(y_c.shape(1)) != nb_design) {
    fail_argument("y_b must have nb_design = ", nb_design, " values and y_c d x ", nb_design,
                  ", got ", shape_string(y_b), " and ", shape_string(y_c));
  }
  Result out(ctx, {static_cast<std::size_t>(d)}, "sobol_first_order's indices");
  {
    nb::gil_scoped_release release;
    sobol_first_order(ctx, a, b, c, nb_design, d, out.data());
  }
  return out.release();
}

}  // namespace

void bind_explainers(nb::module_& m) {
  using namespace nb::literals;
  m.def("sobol_attribution", &sobol, "ctx"_a, "model"_a, "synchronize"_a, "num_outputs"_a,
        "images"_a, "layout"_a, "targets"_a, "options"_a);
  m.def("hsic_attribution", &hsic, "ctx"_a, "model"_a, "synchronize"_a, "num_outputs"_a,
        "images"_a, "layout"_a, "targets"_a, "options"_a);
  m.def("eva_attribution", &eva, "ctx"_a, "network"_a, "images"_a, "layout"_a, "targets"_a,
        "options"_a);
  m.def("upsample", &upsample_cells, "ctx"_a, "cells"_a, "h"_a, "w"_a, "method"_a);
  m.def("generate_samples", &samples, "ctx"_a, "sampler"_a, "n"_a, "dims"_a, "skip"_a, "seed"_a);
  m.def("hsic_design", &hsic_masks, "ctx"_a, "sampler"_a, "nb_design"_a, "d"_a, "binary"_a,
        "skip"_a, "seed"_a);
  m.def("sobol_design_masks", &design_masks, "ctx"_a, "sequence"_a, "d"_a, "with_b"_a,
        "row_begin"_a, "rows"_a);
  m.def("sobol_design_rows", &sobol_design_rows, "nb_design"_a, "d"_a, "with_b"_a);
  m.def("sobol_total_order", &total_order, "ctx"_a, "estimator"_a, "y_a"_a, "y_c"_a);
  m.def("sobol_first_order", &first_order, "ctx"_a, "y_a"_a, "y_b"_a, "y_c"_a);
}

}  // namespace cuxplain::python
