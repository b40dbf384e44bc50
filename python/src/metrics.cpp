// The metrics (metrics.hpp) and the baseline explainers (baselines.hpp).
#include <nanobind/stl/optional.h>
#include <nanobind/stl/tuple.h>

#include <optional>

#include "common.hpp"
#include "models.hpp"

namespace cuxplain::python {
namespace {

std::vector<std::size_t> sizes(std::initializer_list<std::int64_t> dims) {
  std::vector<std::size_t> out;
  for (std::int64_t d : dims) out.push_back(static_cast<std::size_t>(d));
  return out;
}

/// Explanations: (n, h, w) maps, or a 4-D batch in `layout`.
ConstImageView explanation_view(const InArray& explanations, const Context& ctx, Layout layout) {
  if (explanations.ndim() == 3) {
    const float* data = checked_floats(explanations, ctx, "explanations", 3);
    return {data,
            static_cast<std::int64_t>(explanations.shape(0)),
            1,
            static_cast<std::int64_t>(explanations.shape(1)),
            static_cast<std::int64_t>(explanations.shape(2)),
            Layout::nchw};
  }
  if (explanations.ndim() != 4) {
    fail_argument("explanations must be (n, h, w) maps or a 4-D batch, got shape ",
                  shape_string(explanations));
  }
  return image_view(explanations, ctx, layout, "explanations");
}

struct ModelCall {
  ConstImageView images;
  ModelSource source;
  Model model;
  ModelCall(const Context& ctx, nb::handle model_object, bool synchronize,
            std::int64_t num_outputs, const InArray& images_array, Layout layout)
      : images(image_view(images_array, ctx, layout)),
        source(model_object, synchronize, "model"),
        model(source.model(ctx, num_outputs, layout)) {}
};

nb::tuple causal(bool is_deletion, const Context& ctx, nb::handle model, bool synchronize,
                 std::int64_t num_outputs, const InArray& images, Layout layout,
                 const std::vector<int>& targets, const InArray& explanations,
                 Layout explanations_layout, const CausalOptions& options) {
  const ModelCall call(ctx, model, synchronize, num_outputs, images, layout);
  const ConstImageView e = explanation_view(explanations, ctx, explanations_layout);
  Result curves(ctx, sizes({call.images.n, options.steps + 1}), "the curves");
  Result aucs(ctx, sizes({call.images.n}), "the areas");
  {
    nb::gil_scoped_release release;
    (is_deletion ? deletion : insertion)(ctx, call.model, call.images, targets, e, curves.data(),
                                         aucs.data(), options);
  }
  return nb::make_tuple(curves.release(), aucs.release());
}

OutArray mu(const Context& ctx, nb::handle model, bool synchronize, std::int64_t num_outputs,
            const InArray& images, Layout layout, const std::vector<int>& targets,
            const InArray& explanations, Layout explanations_layout,
            const MuFidelityOptions& options) {
  const ModelCall call(ctx, model, synchronize, num_outputs, images, layout);
  const ConstImageView e = explanation_view(explanations, ctx, explanations_layout);
  Result out(ctx, sizes({call.images.n}), "mu_fidelity's correlations");
  {
    nb::gil_scoped_release release;
    mu_fidelity(ctx, call.model, call.images, targets, e, out.data(), options);
  }
  return out.release();
}

nb::tuple average_scores(const Context& ctx, nb::handle model, bool synchronize,
                         std::int64_t num_outputs, const InArray& images, Layout layout,
                         const std::vector<int>& targets, const InArray& explanations,
                         Layout explanations_layout, const AverageScoreOptions& options) {
  const ModelCall call(ctx, model, synchronize, num_outputs, images, layout);
  const ConstImageView e = explanation_view(explanations, ctx, explanations_layout);
  Result drop(ctx, sizes({call.images.n}), "average drop");
  Result increase(ctx, sizes({call.images.n}), "average increase");
  Result gain(ctx, sizes({call.images.n}), "average gain");
  {
    nb::gil_scoped_release release;
    average_drop_increase_gain(ctx, call.model, call.images, targets, e, drop.data(),
                               increase.data(), gain.data(), options);
  }
  return nb::make_tuple(drop.release(), increase.release(), gain.release());
}

/// The explainer behind a Python callable: the adapter gets the batch's
/// targets as its `targets` attribute, then is called as a model is, and must
/// return (n, *explanation_shape) float32.
OutArray stability(const Context& ctx, nb::callable explainer, bool synchronize,
                   const std::vector<std::int64_t>& explanation_shape, const InArray& images,
                   Layout layout, const std::vector<int>& targets,
                   std::optional<InArray> base, const StabilityOptions& options) {
  const ConstImageView view = image_view(images, ctx, layout);
  std::int64_t size = 1;
  for (std::int64_t s : explanation_shape) size *= s;
  const float* base_data = nullptr;
  if (base) base_data = checked_floats(*base, ctx, "base_explanations", -1);
  Callback cb;
  cb.adapter = explainer;
  cb.synchronize = synchronize;
  cb.name = "explainer";
  const Explainer run = [&](ConstImageView x, HostSpan<const int> t, float* out) {
    {
      nb::gil_scoped_acquire gil;
      cb.adapter.attr("targets") = nb::cast(std::vector<int>(t.begin(), t.end()));
    }
    run_callback(ctx, cb, x.data, image_shape(x), x.n, explanation_shape, out);
  };
  Result out(ctx, sizes({view.n}), "average_stability's distances");
  {
    nb::gil_scoped_release release;
    average_stability(ctx, run, size, view, targets, base_data, out.data(), options);
  }
  return out.release();
}

OutArray complexity_of(bool entropy, const Context& ctx, const InArray& explanations,
                       Layout layout) {
  const ConstImageView e = explanation_view(explanations, ctx, layout);
  Result out(ctx, sizes({e.n}), entropy ? "complexity" : "sparseness");
  {
    nb::gil_scoped_release release;
    (entropy ? complexity : sparseness)(ctx, e, out.data());
  }
  return out.release();
}

OutArray occlusion_maps(const Context& ctx, nb::handle model, bool synchronize,
                        std::int64_t num_outputs, const InArray& images, Layout layout,
                        const std::vector<int>& targets, const OcclusionOptions& options) {
  const ModelCall call(ctx, model, synchronize, num_outputs, images, layout);
  Result out(ctx, sizes({call.images.n, call.images.h, call.images.w}), "occlusion's maps");
  {
    nb::gil_scoped_release release;
    occlusion(ctx, call.model, call.images, targets, out.data(), options);
  }
  return out.release();
}

OutArray rise_maps(const Context& ctx, nb::handle model, bool synchronize,
                   std::int64_t num_outputs, const InArray& images, Layout layout,
                   const std::vector<int>& targets, const RiseOptions& options) {
  const ModelCall call(ctx, model, synchronize, num_outputs, images, layout);
  Result out(ctx, sizes({call.images.n, call.images.h, call.images.w}), "rise's maps");
  {
    nb::gil_scoped_release release;
    rise(ctx, call.model, call.images, targets, out.data(), options);
  }
  return out.release();
}

OutArray shap(const Context& ctx, nb::handle model, bool synchronize, std::int64_t num_outputs,
              const InArray& images, Layout layout, const std::vector<int>& targets,
              const KernelShapOptions& options) {
  const ModelCall call(ctx, model, synchronize, num_outputs, images, layout);
  Result out(ctx, sizes({call.images.n, options.grid_size, options.grid_size}),
             "kernel_shap's scores");
  {
    nb::gil_scoped_release release;
    kernel_shap(ctx, call.model, call.images, targets, out.data(), options);
  }
  return out.release();
}

}  // namespace

void bind_metrics(nb::module_& m) {
  using namespace nb::literals;
  nb::enum_<Convention>(m, "Convention")
      .value("paper", Convention::paper)
      .value("xplique", Convention::xplique);
  nb::enum_<OutputActivation>(m, "OutputActivation")
      .value("none", OutputActivation::none)
      .value("softmax", OutputActivation::softmax)
      .value("sigmoid", OutputActivation::sigmoid);
  nb::enum_<Distance>(m, "Distance").value("l1", Distance::l1).value("l2", Distance::l2);

  nb::class_<CausalOptions>(m, "CausalOptions")
      .def(nb::init<>())
      .def_rw("steps", &CausalOptions::steps)
      .def_rw("max_percentage_perturbed", &CausalOptions::max_percentage_perturbed)
      .def_rw("baseline", &CausalOptions::baseline)
      .def_rw("activation", &CausalOptions::activation)
      .def_rw("convention", &CausalOptions::convention)
      .def_rw("batch_size", &CausalOptions::batch_size);
  nb::class_<MuFidelityOptions>(m, "MuFidelityOptions")
      .def(nb::init<>())
      .def_rw("grid_size", &MuFidelityOptions::grid_size)
      .def_rw("nb_samples", &MuFidelityOptions::nb_samples)
      .def_rw("subset_percent", &MuFidelityOptions::subset_percent)
      .def_rw("baseline", &MuFidelityOptions::baseline)
      .def_rw("seed", &MuFidelityOptions::seed)
      .def_rw("activation", &MuFidelityOptions::activation)
      .def_rw("convention", &MuFidelityOptions::convention)
      .def_rw("batch_size", &MuFidelityOptions::batch_size);
  nb::class_<AverageScoreOptions>(m, "AverageScoreOptions")
      .def(nb::init<>())
      .def_rw("activation", &AverageScoreOptions::activation)
      .def_rw("batch_size", &AverageScoreOptions::batch_size);
  nb::class_<StabilityOptions>(m, "StabilityOptions")
      .def(nb::init<>())
      .def_rw("radius", &StabilityOptions::radius)
      .def_rw("distance", &StabilityOptions::distance)
      .def_rw("nb_samples", &StabilityOptions::nb_samples)
      .def_rw("seed", &StabilityOptions::seed)
      .def_rw("convention", &StabilityOptions::convention)
      .def_rw("batch_size", &StabilityOptions::batch_size);
  nb::class_<OcclusionOptions>(m, "OcclusionOptions")
      .def(nb::init<>())
      .def_rw("patch_h", &OcclusionOptions::patch_h)
      .def_rw("patch_w", &OcclusionOptions::patch_w)
      .def_rw("stride_h", &OcclusionOptions::stride_h)
      .def_rw("stride_w", &OcclusionOptions::stride_w)
      .def_rw("occlusion_value", &OcclusionOptions::occlusion_value)
      .def_rw("batch_size", &OcclusionOptions::batch_size);
  nb::class_<RiseOptions>(m, "RiseOptions")
      .def(nb::init<>())
      .def_rw("nb_samples", &RiseOptions::nb_samples)
      .def_rw("grid_size", &RiseOptions::grid_size)
      .def_rw("preservation_probability", &RiseOptions::preservation_probability)
      .def_rw("mask_value", &RiseOptions::mask_value)
      .def_rw("seed", &RiseOptions::seed)
      .def_rw("convention", &RiseOptions::convention)
      .def_rw("batch_size", &RiseOptions::batch_size);
  nb::class_<KernelShapOptions>(m, "KernelShapOptions")
      .def(nb::init<>())
      .def_rw("grid_size", &KernelShapOptions::grid_size)
      .def_rw("nb_samples", &KernelShapOptions::nb_samples)
      .def_rw("baseline", &KernelShapOptions::baseline)
      .def_rw("seed", &KernelShapOptions::seed)
      .def_rw("mask_interpolation", &KernelShapOptions::mask_interpolation)
      .def_rw("batch_size", &KernelShapOptions::batch_size);

  m.def(
      "deletion",
      [](const Context& ctx, nb::handle model, bool synchronize, std::int64_t num_outputs,
         const InArray& images, Layout layout, const std::vector<int>& targets,
         const InArray& explanations, Layout explanations_layout, const CausalOptions& options) {
        return causal(true, ctx, model, synchronize, num_outputs, images, layout, targets,
                      explanations, explanations_layout, options);
      },
      "ctx"_a, "model"_a, "synchronize"_a, "num_outputs"_a, "images"_a, "layout"_a, "targets"_a,
      "explanations"_a, "explanations_layout"_a, "options"_a);
  m.def(
      "insertion",
      [](const Context& ctx, nb::handle model, bool synchronize, std::int64_t num_outputs,
         const InArray& images, Layout layout, const std::vector<int>& targets,
         const InArray& explanations, Layout explanations_layout, const CausalOptions& options) {
        return causal(false, ctx, model, synchronize, num_outputs, images, layout, targets,
                      explanations, explanations_layout, options);
      },
      "ctx"_a, "model"_a, "synchronize"_a, "num_outputs"_a, "images"_a, "layout"_a, "targets"_a,
      "explanations"_a, "explanations_layout"_a, "options"_a);
  m.def("causal_step_counts", &causal_step_counts, "pixels"_a, "options"_a);
  m.def("mu_fidelity", &mu, "ctx"_a, "model"_a, "synchronize"_a, "num_outputs"_a, "images"_a,
        "layout"_a, "targets"_a, "explanations"_a, "explanations_layout"_a, "options"_a);
  m.def("average_drop_increase_gain", &average_scores, "ctx"_a, "model"_a, "synchronize"_a,
        "num_outputs"_a, "images"_a, "layout"_a, "targets"_a, "explanations"_a,
        "explanations_layout"_a, "options"_a);
  m.def("average_stability", &stability, "ctx"_a, "explainer"_a, "synchronize"_a,
        "explanation_shape"_a, "images"_a, "layout"_a, "targets"_a,
        "base_explanations"_a.none(), "options"_a);
  m.def(
      "complexity",
      [](const Context& ctx, const InArray& e, Layout layout) {
        return complexity_of(true, ctx, e, layout);
      },
      "ctx"_a, "explanations"_a, "layout"_a);
  m.def(
      "sparseness",
      [](const Context& ctx, const InArray& e, Layout layout) {
        return complexity_of(false, ctx, e, layout);
      },
      "ctx"_a, "explanations"_a, "layout"_a);
  m.def("occlusion", &occlusion_maps, "ctx"_a, "model"_a, "synchronize"_a, "num_outputs"_a,
        "images"_a, "layout"_a, "targets"_a, "options"_a);
  m.def("occlusion_patches", &occlusion_patches, "h"_a, "w"_a, "options"_a);
  m.def("rise", &rise_maps, "ctx"_a, "model"_a, "synchronize"_a, "num_outputs"_a, "images"_a,
        "layout"_a, "targets"_a, "options"_a);
  m.def("kernel_shap", &shap, "ctx"_a, "model"_a, "synchronize"_a, "num_outputs"_a, "images"_a,
        "layout"_a, "targets"_a, "options"_a);
  m.def("kernel_shap_available", &kernel_shap_available);
}

}  // namespace cuxplain::python
