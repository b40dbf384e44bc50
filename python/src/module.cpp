// cuxplain._core: the C++ API as the Python package (python/cuxplain) uses
// it. The Python layer picks the Context from the images' device and
// framework, converts arguments and results; this module validates what
// crosses the boundary and runs the library with the GIL released.
#include "common.hpp"

namespace cuxplain::python {
namespace {

void bind_errors(nb::module_& m) {
  static nb::exception<Error> error(m, "Error", PyExc_RuntimeError);
  nb::object bases = nb::make_tuple(error, nb::handle(PyExc_ValueError));
  static PyObject* argument_error =
      PyErr_NewException("cuxplain._core.ArgumentError", bases.ptr(), nullptr);
  if (argument_error == nullptr) throw nb::python_error();
  m.attr("ArgumentError") = nb::handle(argument_error);
  nb::register_exception_translator(
      [](const std::exception_ptr& p, void*) {
        try {
          std::rethrow_exception(p);
        } catch (const ArgumentError& e) {
          PyErr_SetString(argument_error, e.what());
        }
      },
      nullptr);
}

void bind_context(nb::module_& m) {
  nb::class_<Context>(m, "Context",
                      "Backend, device and stream of a computation (cuxplain::Context).")
      .def_static("host", &Context::host, "The CPU backend.")
      .def_static(
          "cuda",
          [](std::uintptr_t stream) {
            return Context::cuda(reinterpret_cast<Stream>(stream));
          },
          nb::arg("stream") = 0,
          "The CUDA backend on the current device, ordering work on `stream` (a "
          "cudaStream_t as an integer; 0 is the legacy default stream).")
      .def_prop_ro("backend",
                   [](const Context& ctx) { return ctx.is_cuda() ? "cuda" : "host"; })
      .def_prop_ro("device", &Context::device)
      .def_prop_ro("stream",
                   [](const Context& ctx) { return reinterpret_cast<std::uintptr_t>(ctx.stream()); })
      .def("synchronize", &Context::synchronize, nb::call_guard<nb::gil_scoped_release>())
      .def("__repr__", [](const Context& ctx) {
        return ctx.is_cuda() ? detail::concat("Context.cuda(device=", ctx.device(), ", stream=0x",
                                              std::hex,
                                              reinterpret_cast<std::uintptr_t>(ctx.stream()), ")")
                             : std::string("Context.host()");
      });
  m.def("cuda_available", &Context::cuda_available,
        "True when this build has the CUDA backend and a usable GPU is present.");
  m.attr("BUILT_WITH_CUDA") = bool(CUXPLAIN_PY_WITH_CUDA);
}

void bind_enums(nb::module_& m) {
  nb::enum_<Layout>(m, "Layout").value("nchw", Layout::nchw).value("nhwc", Layout::nhwc);
  nb::enum_<Sampler>(m, "Sampler")
      .value("sobol", Sampler::sobol)
      .value("sobol_owen", Sampler::sobol_owen)
      .value("halton", Sampler::halton)
      .value("lhs", Sampler::lhs)
      .value("monte_carlo", Sampler::monte_carlo);
  nb::enum_<Estimator>(m, "Estimator")
      .value("jansen", Estimator::jansen)
      .value("homma", Estimator::homma)
      .value("janon", Estimator::janon)
      .value("glen", Estimator::glen)
      .value("saltelli", Estimator::saltelli);
  nb::enum_<Perturbation>(m, "Perturbation")
      .value("inpainting", Perturbation::inpainting)
      .value("blurring", Perturbation::blurring)
      .value("amplitude", Perturbation::amplitude);
  nb::enum_<Interpolation>(m, "Interpolation")
      .value("nearest", Interpolation::nearest)
      .value("nearest_exact", Interpolation::nearest_exact)
      .value("bilinear", Interpolation::bilinear)
      .value("bicubic", Interpolation::bicubic)
      .value("bicubic_tensorflow", Interpolation::bicubic_tensorflow);
  nb::enum_<HsicKernel>(m, "HsicKernel")
      .value("binary", HsicKernel::binary)
      .value("rbf", HsicKernel::rbf)
      .value("sobolev", HsicKernel::sobolev);
  nb::enum_<Bandwidth>(m, "Bandwidth")
      .value("median_output", Bandwidth::median_output)
      .value("median_distance", Bandwidth::median_distance);
  nb::enum_<craft::CropResize>(m, "CropResize")
      .value("tensorflow_bicubic", craft::CropResize::tensorflow_bicubic)
      .value("opencv_bicubic", craft::CropResize::opencv_bicubic);
  nb::enum_<nmf::Init>(m, "NmfInit")
      .value("nndsvd", nmf::Init::nndsvd)
      .value("nndsvda", nmf::Init::nndsvda)
      .value("random", nmf::Init::random)
      .value("custom", nmf::Init::custom);
}

// The option structs keep the C++ defaults: the Python functions' keyword
// defaults are checked against a default-constructed struct by the tests.
void bind_options(nb::module_& m) {
  nb::class_<SobolOptions>(m, "SobolOptions")
      .def(nb::init<>())
      .def_rw("grid_size", &SobolOptions::grid_size)
      .def_rw("nb_design", &SobolOptions::nb_design)
      .def_rw("sampler", &SobolOptions::sampler)
      .def_rw("skip", &SobolOptions::skip)
      .def_rw("seed", &SobolOptions::seed)
      .def_rw("estimator", &SobolOptions::estimator)
      .def_rw("first_order", &SobolOptions::first_order)
      .def_rw("per_channel", &SobolOptions::per_channel)
      .def_rw("perturbation", &SobolOptions::perturbation)
      .def_rw("baseline", &SobolOptions::baseline)
      .def_rw("blur_size", &SobolOptions::blur_size)
      .def_rw("sigma", &SobolOptions::sigma)
      .def_rw("mask_interpolation", &SobolOptions::mask_interpolation)
      .def_rw("batch_size", &SobolOptions::batch_size);
  nb::class_<HsicOptions>(m, "HsicOptions")
      .def(nb::init<>())
      .def_rw("grid_size", &HsicOptions::grid_size)
      .def_rw("nb_design", &HsicOptions::nb_design)
      .def_rw("sampler", &HsicOptions::sampler)
      .def_rw("skip", &HsicOptions::skip)
      .def_rw("seed", &HsicOptions::seed)
      .def_rw("binary", &HsicOptions::binary)
      .def_rw("input_kernel", &HsicOptions::input_kernel)
      .def_rw("output_width", &HsicOptions::output_width)
      .def_rw("interactions", &HsicOptions::interactions)
      .def_rw("perturbation", &HsicOptions::perturbation)
      .def_rw("baseline", &HsicOptions::baseline)
      .def_rw("blur_size", &HsicOptions::blur_size)
      .def_rw("sigma", &HsicOptions::sigma)
      .def_rw("mask_interpolation", &HsicOptions::mask_interpolation)
      .def_rw("batch_size", &HsicOptions::batch_size);
  nb::class_<EvaOptions>(m, "EvaOptions")
      .def(nb::init<>())
      .def_rw("grid_size", &EvaOptions::grid_size)
      .def_rw("epsilon", &EvaOptions::epsilon)
      .def_rw("clamp", &EvaOptions::clamp)
      .def_rw("clamp_min", &EvaOptions::clamp_min)
      .def_rw("clamp_max", &EvaOptions::clamp_max)
      .def_rw("cell_mapping", &EvaOptions::cell_mapping)
      .def_rw("batch_size", &EvaOptions::batch_size)
      .def_rw("sound", &EvaOptions::sound);
  nb::class_<nmf::Options>(m, "NmfOptions")
      .def(nb::init<>())
      .def_rw("rank", &nmf::Options::rank)
      .def_rw("init", &nmf::Options::init)
      .def_rw("seed", &nmf::Options::seed)
      .def_rw("max_iter", &nmf::Options::max_iter)
      .def_rw("tol", &nmf::Options::tol)
      .def_rw("check_every", &nmf::Options::check_every)
      .def_rw("l1_u", &nmf::Options::l1_u)
      .def_rw("l2_u", &nmf::Options::l2_u)
      .def_rw("l1_w", &nmf::Options::l1_w)
      .def_rw("l2_w", &nmf::Options::l2_w)
      .def_rw("loss_history", &nmf::Options::loss_history)
      .def_rw("svd_oversamples", &nmf::Options::svd_oversamples)
      .def_rw("svd_power_iterations", &nmf::Options::svd_power_iterations);
  nb::class_<craft::CraftOptions>(m, "CraftOptions")
      .def(nb::init<>())
      .def_rw("patch_size", &craft::CraftOptions::patch_size)
      .def_rw("crop_resize", &craft::CraftOptions::crop_resize)
      .def_rw("nmf", &craft::CraftOptions::nmf)
      .def_rw("alpha_w", &craft::CraftOptions::alpha_w)
      .def_rw("nb_design", &craft::CraftOptions::nb_design)
      .def_rw("sampler", &craft::CraftOptions::sampler)
      .def_rw("skip", &craft::CraftOptions::skip)
      .def_rw("seed", &craft::CraftOptions::seed)
      .def_rw("estimator", &craft::CraftOptions::estimator)
      .def_rw("map_interpolation", &craft::CraftOptions::map_interpolation)
      .def_rw("batch_size", &craft::CraftOptions::batch_size);
}

}  // namespace
}  // namespace cuxplain::python

NB_MODULE(_core, m) {
  using namespace cuxplain::python;
  m.doc() = "cuxplain's C++ API (the cuxplain package wraps it; use that).";
  bind_errors(m);
  bind_context(m);
  bind_enums(m);
  bind_options(m);
  bind_explainers(m);
  bind_nn(m);
  bind_craft_nmf(m);
  bind_metrics(m);
}
