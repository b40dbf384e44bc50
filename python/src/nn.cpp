// cuxplain::nn networks read from ONNX: forward, bounds, and the split for CRAFT.
#include <nanobind/stl/pair.h>
#include <nanobind/stl/tuple.h>

#include "common.hpp"

namespace cuxplain::python {
namespace {

nb::tuple shape_tuple(const nn::Shape& s) { return nb::make_tuple(s.c, s.h, s.w); }

nn::OnnxInput onnx_input(bool channels_last_as_nchw) {
  return channels_last_as_nchw ? nn::OnnxInput::channels_last_as_nchw : nn::OnnxInput::as_exported;
}

/// Per-sample axes of a network tensor: (c,) for a flat vector, else (c, h, w).
std::vector<std::size_t> sample_axes(const nn::Shape& s) {
  if (s.h == 1 && s.w == 1) return {static_cast<std::size_t>(s.c)};
  return {static_cast<std::size_t>(s.c), static_cast<std::size_t>(s.h),
          static_cast<std::size_t>(s.w)};
}

/// n from an input batch of the network's input shape: n x c x h x w, or
/// n x c for a flat input.
std::int64_t batch_size_of(const InArray& input, const nn::Shape& shape, const char* name) {
  const std::vector<std::size_t> axes = sample_axes(shape);
  bool ok = input.ndim() == axes.size() + 1;
  for (std::size_t i = 0; ok && i < axes.size(); ++i) ok = input.shape(i + 1) == axes[i];
  if (!ok && input.ndim() == 4 && axes.size() == 1) {
    ok = input.shape(1) * input.shape(2) * input.shape(3) == axes[0];
  }
  if (!ok) {
    fail_argument(name, " must be a batch of the network's input ", nn::to_string(shape),
                  " (NCHW), got shape ", shape_string(input));
  }
  return static_cast<std::int64_t>(input.shape(0));
}

std::vector<std::size_t> batch_shape(std::int64_t n, const nn::Shape& shape) {
  std::vector<std::size_t> result{static_cast<std::size_t>(n)};
  for (std::size_t s : sample_axes(shape)) result.push_back(s);
  return result;
}

OutArray forward(const nn::Network& network, const Context& ctx, const InArray& input) {
  const float* data = checked_floats(input, ctx, "input", -1);
  const std::int64_t n = batch_size_of(input, network.input_shape(), "input");
  Result out(ctx, batch_shape(n, network.output_shape()), "Network.forward's output");
  {
    nb::gil_scoped_release release;
    network.forward(ctx, data, n, out.data());
  }
  return out.release();
}

nb::tuple bounds(const nn::Network& network, const Context& ctx, const InArray& lower,
                 const InArray& upper, bool sound, bool check_boxes) {
  const float* lo = checked_floats(lower, ctx, "lower", -1);
  const float* hi = checked_floats(upper, ctx, "upper", -1);
  const std::int64_t n = batch_size_of(lower, network.input_shape(), "lower");
  if (batch_size_of(upper, network.input_shape(), "upper") != n) {
    fail_argument("lower and upper must have the same shape, got ", shape_string(lower), " and ",
                  shape_string(upper));
  }
  Result out_lower(ctx, batch_shape(n, network.output_shape()), "Network.bounds' lower bounds");
  Result out_upper(ctx, batch_shape(n, network.output_shape()), "Network.bounds' upper bounds");
  nn::BoundsOptions options;
  options.sound = sound;
  options.check_boxes = check_boxes;
  {
    nb::gil_scoped_release release;
    network.bounds(ctx, lo, hi, n, out_lower.data(), out_upper.data(), options);
  }
  return nb::make_tuple(out_lower.release(), out_upper.release());
}

OutArray margins(const nn::Network& network, const Context& ctx, const InArray& lower,
                 const InArray& upper, const std::vector<int>& targets, bool sound,
                 bool check_boxes) {
  const float* lo = checked_floats(lower, ctx, "lower", -1);
  const float* hi = checked_floats(upper, ctx, "upper", -1);
  const std::int64_t n = batch_size_of(lower, network.input_shape(), "lower");
  if (batch_size_of(upper, network.input_shape(), "upper") != n) {
    fail_argument("lower and upper must have the same shape, got ", shape_string(lower), " and ",
                  shape_string(upper));
  }
  Result out(ctx, {static_cast<std::size_t>(n),
                   static_cast<std::size_t>(network.output_shape().size())},
             "Network.margin_upper_bounds' margins");
  nn::BoundsOptions options;
  options.sound = sound;
  options.check_boxes = check_boxes;
  {
    nb::gil_scoped_release release;
    network.margin_upper_bounds(ctx, lo, hi, n, targets, out.data(), options);
  }
  return out.release();
}

}  // namespace

void bind_nn(nb::module_& m) {
  using namespace nb::literals;
  nb::class_<nn::Network>(m, "Network", "A network on one device (cuxplain::nn::Network).")
      .def_prop_ro("input_shape",
                   [](const nn::Network& n) { return shape_tuple(n.input_shape()); })
      .def_prop_ro("output_shape",
                   [](const nn::Network& n) { return shape_tuple(n.output_shape()); })
      .def_prop_ro("backend",
                   [](const nn::Network& n) {
                     return n.backend() == Backend::cuda ? "cuda" : "host";
                   })
      .def_prop_ro("device", &nn::Network::device)
      .def("summary", &nn::Network::summary)
      .def("folds_margins", &nn::Network::folds_margins)
      .def("temporary_bytes", &nn::Network::temporary_bytes, "n"_a)
      .def("forward", &forward, "ctx"_a, "input"_a)
      .def("bounds", &bounds, "ctx"_a, "lower"_a, "upper"_a, "sound"_a, "check_boxes"_a)
      .def("margin_upper_bounds", &margins, "ctx"_a, "lower"_a, "upper"_a, "targets"_a, "sound"_a,
           "check_boxes"_a);

  m.def(
      "load_onnx",
      [](const Context& ctx, const std::string& path, bool channels_last_as_nchw) {
        nb::gil_scoped_release release;
        return nn::load_onnx(lasting_context(ctx), path, onnx_input(channels_last_as_nchw));
      },
      "ctx"_a, "path"_a, "channels_last_as_nchw"_a);
  m.def(
      "load_onnx_split",
      [](const Context& ctx, const std::string& path, const std::string& tensor,
         bool channels_last_as_nchw) {
        nn::SplitNetwork split;
        {
          nb::gil_scoped_release release;
          split = nn::load_onnx_split(lasting_context(ctx), path, tensor,
                                      onnx_input(channels_last_as_nchw));
        }
        return nb::make_tuple(split.g, split.h);
      },
      "ctx"_a, "path"_a, "tensor"_a, "channels_last_as_nchw"_a);
  m.def(
      "onnx_tensors",
      [](const std::string& path, bool channels_last_as_nchw) {
        const nn::OnnxModel model = nn::read_onnx(path, onnx_input(channels_last_as_nchw));
        nb::list tensors;
        for (const auto& [name, node] : model.tensors) {
          tensors.append(nb::make_tuple(name, shape_tuple(model.builder.shape(node)),
                                        name == model.output_name));
        }
        return tensors;
      },
      "path"_a, "channels_last_as_nchw"_a);
  m.def("onnx_available", &nn::onnx_available);
}

}  // namespace cuxplain::python
