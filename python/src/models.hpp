#pragma once
// A model as the Python layer passes it: a cuxplain.nn.Network, run directly
// (no Python in the loop), or a Python callable behind a Callback.
#include "common.hpp"

namespace cuxplain::python {

class ModelSource {
 public:
  /// model: an nn::Network instance or the Python layer's adapter callable.
  ModelSource(nb::handle model, bool synchronize, const char* name) {
    if (nb::isinstance<nn::Network>(model)) {
      network_ = nb::cast<const nn::Network*>(model);
    } else {
      callback_.adapter = nb::borrow<nb::callable>(model);
      callback_.synchronize = synchronize;
      callback_.name = name;
    }
  }

  const nn::Network* network() const { return network_; }
  const Callback& callback() const { return callback_; }

  /// The Model for images in `layout`; valid while this and ctx live.
  Model model(const Context& ctx, std::int64_t num_outputs, Layout layout) const {
    if (network_ == nullptr) return make_model(ctx, callback_, num_outputs);
    if (layout != Layout::nchw) {
      fail_argument("a cuxplain.nn.Network model reads NCHW batches; pass layout='nchw' images");
    }
    const nn::Network* network = network_;
    return Model{network->output_shape().size(),
                 [&ctx, network](ConstImageView batch, float* outputs) {
                   network->forward(ctx, batch.data, batch.n, outputs);
                 }};
  }

 private:
  const nn::Network* network_ = nullptr;
  Callback callback_;
};

}  // namespace cuxplain::python
