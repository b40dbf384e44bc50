// CRAFT (concepts, importance, maps, crops, sub-concepts) and NMF.
#include <nanobind/stl/optional.h>
#include <nanobind/stl/tuple.h>

#include <cstring>
#include <optional>

#include "common.hpp"
#include "models.hpp"

namespace cuxplain::python {
namespace {

/// What craft::fit returns, with the device its buffers live on.
struct PyConcepts {
  craft::Concepts value;
  int device_type = nb::device::cpu::value;
  int device_id = 0;

  OutArray W() const { return matrix(value.W, value.rank, value.features); }
  OutArray U() const { return matrix(value.U, value.crops, value.rank); }

 private:
  OutArray matrix(const Buffer<float>& buffer, std::int64_t rows, std::int64_t cols) const {
    const std::size_t shape[2] = {static_cast<std::size_t>(rows), static_cast<std::size_t>(cols)};
    return OutArray(buffer.data(), 2, shape, nb::handle(), nullptr, nb::dtype<float>(),
                    device_type, device_id);
  }
};

PyConcepts wrap(const Context& ctx, craft::Concepts concepts) {
  PyConcepts result;
  result.value = std::move(concepts);
  result.device_type = device_type_of(ctx);
  result.device_id = ctx.is_cuda() ? ctx.device() : 0;
  return result;
}

/// g and h as the Python layer hands them over (a Network or an adapter
/// each; h may be None) with the activation shape and h's outputs.
class SplitSource {
 public:
  SplitSource(nb::handle g, nb::handle h, bool synchronize, std::int64_t channels,
              std::int64_t height, std::int64_t width, std::int64_t num_outputs)
      : g_(g, synchronize, "g"),
        h_(h.is_none() ? std::nullopt : std::optional<ModelSource>(std::in_place, h, synchronize, "h")),
        channels_(channels),
        height_(height),
        width_(width),
        num_outputs_(num_outputs) {}

  /// The SplitModel for images in `layout`; valid while this and ctx live.
  craft::SplitModel model(const Context& ctx, Layout layout) const {
    craft::SplitModel split;
    split.channels = channels_;
    split.height = height_;
    split.width = width_;
    split.num_outputs = num_outputs_;
    const std::vector<std::int64_t> activation{channels_, height_, width_};
    if (const nn::Network* g = g_.network()) {
      if (layout != Layout::nchw) {
        fail_argument("a cuxplain.nn.Network g reads NCHW batches; pass layout='nchw' images");
      }
      split.g = [&ctx, g](ConstImageView batch, float* activations) {
        g->forward(ctx, batch.data, batch.n, activations);
      };
    } else {
      const Callback* cb = &g_.callback();
      split.g = [&ctx, cb, activation](ConstImageView batch, float* activations) {
        run_callback(ctx, *cb, batch.data, image_shape(batch), batch.n, activation, activations);
      };
    }
    if (h_) {
      if (const nn::Network* h = h_->network()) {
        split.h = [&ctx, h](const float* activations, std::int64_t n, float* outputs) {
          h->forward(ctx, activations, n, outputs);
        };
      } else {
        const Callback* cb = &h_->callback();
        const std::int64_t k = num_outputs_;
        const auto c = static_cast<std::size_t>(channels_), hh = static_cast<std::size_t>(height_),
                   w = static_cast<std::size_t>(width_);
        split.h = [&ctx, cb, k, c, hh, w](const float* activations, std::int64_t n,
                                          float* outputs) {
          run_callback(ctx, *cb, activations, {static_cast<std::size_t>(n), c, hh, w}, n, {k},
                       outputs);
        };
      }
    }
    return split;
  }

 private:
  ModelSource g_;
  std::optional<ModelSource> h_;
  std::int64_t channels_, height_, width_, num_outputs_;
};

PyConcepts fit(const Context& ctx, const SplitSource& source, const InArray& images,
               Layout layout, const craft::CraftOptions& options) {
  // The concept bank outlives the call: allocate it (and the fit's
  // temporaries) where a later free is safe whatever the stream.
  const Context lasting = lasting_context(ctx);
  const ConstImageView view = image_view(images, lasting, layout);
  const craft::SplitModel split = source.model(lasting, layout);
  craft::Concepts concepts;
  {
    nb::gil_scoped_release release;
    concepts = craft::fit(lasting, split, view, options);
  }
  return wrap(ctx, std::move(concepts));
}

const float* bank(const InArray& W, const Context& ctx, std::int64_t channels) {
  const float* data = checked_floats(W, ctx, "W", 2);
  if (static_cast<std::int64_t>(W.shape(1)) != channels) {
    fail_argument("W must be rank x ", channels, " (one row per concept over the layer's ",
                  channels, " channels), got shape ", shape_string(W));
  }
  return data;
}

OutArray coefficients(const Context& ctx, const SplitSource& source, const InArray& W,
                      std::int64_t channels, const InArray& images, Layout layout,
                      const craft::CraftOptions& options, std::int64_t height,
                      std::int64_t width) {
  const ConstImageView view = image_view(images, ctx, layout);
  const float* w = bank(W, ctx, channels);
  const auto rank = static_cast<std::int64_t>(W.shape(0));
  const craft::SplitModel split = source.model(ctx, layout);
  Result out(ctx, {static_cast<std::size_t>(view.n), static_cast<std::size_t>(rank),
                   static_cast<std::size_t>(height), static_cast<std::size_t>(width)},
             "concept_coefficients' maps");
  {
    nb::gil_scoped_release release;
    craft::concept_coefficients(ctx, split, w, rank, view, out.data(), options);
  }
  return out.release();
}

nb::tuple importance(const Context& ctx, const SplitSource& source, const InArray& W,
                     std::int64_t channels, const InArray& images, Layout layout,
                     const std::vector<int>& targets, const craft::CraftOptions& options) {
  const ConstImageView view = image_view(images, ctx, layout);
  const float* w = bank(W, ctx, channels);
  const auto rank = static_cast<std::int64_t>(W.shape(0));
  const craft::SplitModel split = source.model(ctx, layout);
  Result mean(ctx, {static_cast<std::size_t>(rank)}, "concept_importance's importances");
  Result per_image(ctx, {static_cast<std::size_t>(view.n), static_cast<std::size_t>(rank)},
                   "concept_importance's per-image importances");
  {
    nb::gil_scoped_release release;
    craft::concept_importance(ctx, split, w, rank, view, targets, mean.data(), options,
                              per_image.data());
  }
  return nb::make_tuple(mean.release(), per_image.release());
}

OutArray maps(const Context& ctx, const SplitSource& source, const InArray& W,
              std::int64_t channels, const InArray& images, Layout layout,
              const craft::CraftOptions& options) {
  const ConstImageView view = image_view(images, ctx, layout);
  const float* w = bank(W, ctx, channels);
  const auto rank = static_cast<std::int64_t>(W.shape(0));
  const craft::SplitModel split = source.model(ctx, layout);
  Result out(ctx, {static_cast<std::size_t>(view.n), static_cast<std::size_t>(rank),
                   static_cast<std::size_t>(view.h), static_cast<std::size_t>(view.w)},
             "concept_maps' maps");
  {
    nb::gil_scoped_release release;
    craft::concept_maps(ctx, split, w, rank, view, out.data(), options);
  }
  return out.release();
}

void expect_concepts_on(const PyConcepts& concepts, const Context& ctx) {
  if (concepts.device_type != device_type_of(ctx) ||
      (ctx.is_cuda() && concepts.device_id != ctx.device())) {
    fail_argument("the concepts live on another device than this computation");
  }
}

std::vector<std::int64_t> top(const Context& ctx, const PyConcepts& concepts,
                              std::int64_t concept_id, std::int64_t count) {
  expect_concepts_on(concepts, ctx);
  nb::gil_scoped_release release;
  return craft::top_crops(ctx, concepts.value, concept_id, count);
}

nb::tuple subconcepts(const Context& ctx, const SplitSource& earlier, const InArray& images,
                      Layout layout, const PyConcepts& parent, std::int64_t concept_id,
                      std::int64_t count, const craft::CraftOptions& options) {
  expect_concepts_on(parent, ctx);
  const Context lasting = lasting_context(ctx);
  const ConstImageView view = image_view(images, lasting, layout);
  const craft::SplitModel split = earlier.model(lasting, layout);
  craft::SubConcepts sub;
  {
    nb::gil_scoped_release release;
    sub = craft::fit_subconcepts(lasting, split, view, parent.value, concept_id, count, options);
  }
  return nb::make_tuple(wrap(ctx, std::move(sub.concepts)), sub.crop_ids);
}

OutArray crops(const Context& ctx, const InArray& images, Layout layout, std::int64_t patch_size,
               std::int64_t first, std::int64_t count, craft::CropResize resize) {
  const ConstImageView view = image_view(images, ctx, layout);
  if (count < 1) fail_argument("count must be >= 1, got ", count);
  ConstImageView shape = view;
  shape.n = count;
  Result out(ctx, image_shape(shape), "extract_crops' crops");
  {
    nb::gil_scoped_release release;
    craft::extract_crops(ctx, view, patch_size, first, count, out.data(), resize);
  }
  return out.release();
}

// ---- NMF ----

/// A (n x p) on ctx's device, with its n and p.
const float* matrix_of(const InArray& A, const Context& ctx, const char* name, std::int64_t& n,
                       std::int64_t& p) {
  const float* data = checked_floats(A, ctx, name, 2);
  n = static_cast<std::int64_t>(A.shape(0));
  p = static_cast<std::int64_t>(A.shape(1));
  return data;
}

/// Copies a user's starting factor into `dst` (Init::custom).
void copy_start(const Context& ctx, const std::optional<InArray>& start, const char* name,
                std::int64_t rows, std::int64_t cols, Result& dst) {
  if (!start) fail_argument("init='custom' needs ", name, " (", rows, " x ", cols, ")");
  std::int64_t r = 0, c = 0;
  const float* data = matrix_of(*start, ctx, name, r, c);
  if (r != rows || c != cols) {
    fail_argument(name, " must be ", rows, " x ", cols, ", got shape ", shape_string(*start));
  }
  const std::size_t bytes = static_cast<std::size_t>(rows * cols) * sizeof(float);
  if (ctx.is_cuda()) {
    copy_on_device(ctx, dst.data(), data, bytes);
  } else {
    std::memcpy(dst.data(), data, bytes);
  }
}

std::size_t rank_axis(const nmf::Options& options) {
  // An invalid rank is the library's to report; the buffer just needs a size.
  return static_cast<std::size_t>(std::max<std::int64_t>(options.rank, 1));
}

nb::tuple nmf_fit(const Context& ctx, const InArray& A, const nmf::Options& options,
                  const std::optional<InArray>& U0, const std::optional<InArray>& W0) {
  std::int64_t n = 0, p = 0;
  const float* a = matrix_of(A, ctx, "A", n, p);
  const std::size_t r = rank_axis(options);
  Result U(ctx, {static_cast<std::size_t>(n), r}, "nmf.fit's U");
  Result W(ctx, {r, static_cast<std::size_t>(p)}, "nmf.fit's W");
  if (options.init == nmf::Init::custom) {
    copy_start(ctx, U0, "U", n, options.rank, U);
    copy_start(ctx, W0, "W", options.rank, p, W);
  }
  nmf::Result result;
  {
    nb::gil_scoped_release release;
    result = nmf::fit(ctx, a, n, p, options, U.data(), W.data());
  }
  return nb::make_tuple(U.release(), W.release(), result);
}

nb::tuple nmf_transform(const Context& ctx, const InArray& A, const InArray& W,
                        const nmf::Options& options, const std::optional<InArray>& U0) {
  std::int64_t n = 0, p = 0, r = 0, wp = 0;
  const float* a = matrix_of(A, ctx, "A", n, p);
  const float* w = matrix_of(W, ctx, "W", r, wp);
  if (wp != p || r != options.rank) {
    fail_argument("W must be rank x p = ", options.rank, " x ", p, ", got shape ",
                  shape_string(W));
  }
  Result U(ctx, {static_cast<std::size_t>(n), rank_axis(options)}, "nmf.transform's U");
  if (options.init == nmf::Init::custom) copy_start(ctx, U0, "U", n, options.rank, U);
  nmf::Result result;
  {
    nb::gil_scoped_release release;
    result = nmf::transform(ctx, a, n, p, w, options, U.data());
  }
  return nb::make_tuple(U.release(), result);
}

nb::tuple nmf_initialize(const Context& ctx, const InArray& A, const nmf::Options& options) {
  std::int64_t n = 0, p = 0;
  const float* a = matrix_of(A, ctx, "A", n, p);
  const std::size_t r = rank_axis(options);
  Result U(ctx, {static_cast<std::size_t>(n), r}, "nmf.initialize's U");
  Result W(ctx, {r, static_cast<std::size_t>(p)}, "nmf.initialize's W");
  {
    nb::gil_scoped_release release;
    nmf::initialize(ctx, a, n, p, options, U.data(), W.data());
  }
  return nb::make_tuple(U.release(), W.release());
}

}  // namespace

void bind_craft_nmf(nb::module_& m) {
  using namespace nb::literals;
  nb::class_<nmf::Result>(m, "NmfResult", "What nmf.fit and nmf.transform report.")
      .def_ro("iterations", &nmf::Result::iterations)
      .def_ro("converged", &nmf::Result::converged)
      .def_ro("loss", &nmf::Result::loss)
      .def_ro("relative_error", &nmf::Result::relative_error)
      .def_ro("loss_history", &nmf::Result::loss_history)
      .def("__repr__", [](const nmf::Result& r) {
        return detail::concat("NmfResult(iterations=", r.iterations,
                              ", converged=", r.converged ? "True" : "False", ", loss=", r.loss,
                              ", relative_error=", r.relative_error, ")");
      });
  nb::class_<craft::CropGrid>(m, "CropGrid", "Where the crops of an image lie.")
      .def_ro("patch", &craft::CropGrid::patch)
      .def_ro("stride", &craft::CropGrid::stride)
      .def_ro("rows", &craft::CropGrid::rows)
      .def_ro("cols", &craft::CropGrid::cols)
      .def("per_image", &craft::CropGrid::per_image)
      .def("top", &craft::CropGrid::top, "crop"_a)
      .def("left", &craft::CropGrid::left, "crop"_a)
      .def("__repr__", [](const craft::CropGrid& g) {
        return detail::concat("CropGrid(patch=", g.patch, ", stride=", g.stride,
                              ", rows=", g.rows, ", cols=", g.cols, ")");
      });
  nb::class_<PyConcepts>(m, "Concepts")
      .def_prop_ro("rank", [](const PyConcepts& c) { return c.value.rank; })
      .def_prop_ro("features", [](const PyConcepts& c) { return c.value.features; })
      .def_prop_ro("crops", [](const PyConcepts& c) { return c.value.crops; })
      .def_prop_ro("grid", [](const PyConcepts& c) { return c.value.grid; })
      .def_prop_ro("nmf", [](const PyConcepts& c) { return c.value.nmf; })
      .def_prop_ro("W", &PyConcepts::W, nb::rv_policy::reference_internal)
      .def_prop_ro("U", &PyConcepts::U, nb::rv_policy::reference_internal);
  nb::class_<SplitSource>(m, "SplitSource")
      .def(nb::init<nb::handle, nb::handle, bool, std::int64_t, std::int64_t, std::int64_t,
                    std::int64_t>(),
           "g"_a, "h"_a.none(), "synchronize"_a, "channels"_a, "height"_a, "width"_a,
           "num_outputs"_a, nb::keep_alive<1, 2>(), nb::keep_alive<1, 3>());

  m.def("craft_fit", &fit, "ctx"_a, "source"_a, "images"_a, "layout"_a, "options"_a);
  m.def("craft_concept_coefficients", &coefficients, "ctx"_a, "source"_a, "W"_a, "channels"_a,
        "images"_a, "layout"_a, "options"_a, "height"_a, "width"_a);
  m.def("craft_concept_importance", &importance, "ctx"_a, "source"_a, "W"_a, "channels"_a,
        "images"_a, "layout"_a, "targets"_a, "options"_a);
  m.def("craft_concept_maps", &maps, "ctx"_a, "source"_a, "W"_a, "channels"_a, "images"_a,
        "layout"_a, "options"_a);
  m.def("craft_top_crops", &top, "ctx"_a, "concepts"_a, "concept"_a, "count"_a);
  m.def("craft_fit_subconcepts", &subconcepts, "ctx"_a, "earlier"_a, "images"_a, "layout"_a,
        "parent"_a, "concept"_a, "count"_a, "options"_a);
  m.def("craft_crop_grid", &craft::crop_grid, "height"_a, "width"_a, "patch_size"_a);
  m.def("craft_extract_crops", &crops, "ctx"_a, "images"_a, "layout"_a, "patch_size"_a,
        "first"_a, "count"_a, "resize"_a);

  m.def("nmf_fit", &nmf_fit, "ctx"_a, "A"_a, "options"_a, "U"_a.none() = nb::none(),
        "W"_a.none() = nb::none());
  m.def("nmf_transform", &nmf_transform, "ctx"_a, "A"_a, "W"_a, "options"_a,
        "U"_a.none() = nb::none());
  m.def("nmf_initialize", &nmf_initialize, "ctx"_a, "A"_a, "options"_a);
}

}  // namespace cuxplain::python
