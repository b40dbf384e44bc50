#pragma once
// Random networks for the cuxplain::nn tests: each builder call is recorded
// beside a NetworkBuilder so that the same graph can be built with cuxplain
// and evaluated by the double-precision reference (reference/nn_reference.hpp).
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include <cuxplain/nn.hpp>

#include "reference/nn_reference.hpp"

namespace cuxplain::test {

/// A network recorded op by op, with random parameters.
///
/// exact_folding: batch-norm parameters and biases on a coarse binary grid
/// (gamma = +-2^m, var + eps a power of 4, mean / beta / bias multiples of
/// 2^-6 / 2^-10), so that folding a batch norm into the layer before it
/// rounds nothing: the network cuxplain stores is then exactly the network
/// the reference evaluates, which sound-mode checks need.
class RandomGraph {
 public:
  explicit RandomGraph(std::uint32_t seed, bool exact_folding = false)
      : gen_(seed), exact_(exact_folding) {}

  nn::NodeId input(nn::Shape shape) {
    Op op{Kind::input};
    op.shape = shape;
    return record(op, builder_.input(shape));
  }

  nn::NodeId conv(nn::NodeId x, std::int64_t out_c, std::int64_t kh, std::int64_t kw,
                  nn::ConvParams params = {}) {
    Op op{Kind::conv, x};
    const std::int64_t fan_in = builder_.shape(x).c * kh * kw;
    op.weight = weights(out_c * fan_in, fan_in);
    op.bias = biases(out_c);
    op.out = out_c;
    op.kh = kh;
    op.kw = kw;
    op.conv = params;
    return record(op, builder_.conv(x, out_c, kh, kw, op.weight, op.bias, params));
  }

  nn::NodeId dense(nn::NodeId x, std::int64_t out) {
    Op op{Kind::dense, x};
    const std::int64_t fan_in = builder_.shape(x).size();
    op.weight = weights(out * fan_in, fan_in);
    op.bias = biases(out);
    op.out = out;
    return record(op, builder_.dense(x, out, op.weight, op.bias));
  }

  nn::NodeId batch_norm(nn::NodeId x) {
    Op op{Kind::batch_norm, x};
    const std::int64_t c = builder_.shape(x).c;
    std::uniform_int_distribution<int> sign(0, 1), power(-1, 1), grid(-32, 32);
    std::uniform_real_distribution<float> unit(0.0f, 1.0f);
    op.eps = exact_ ? 1.0f / 1024.0f : 1e-5f;
    for (std::int64_t i = 0; i < c; ++i) {
      const float s = sign(gen_) ? 1.0f : -1.0f;
      if (exact_) {
        op.gamma.push_back(s * std::ldexp(1.0f, power(gen_)));
        op.var.push_back(std::ldexp(1.0f, 2 * power(gen_)) - op.eps);
        op.mean.push_back(static_cast<float>(grid(gen_)) / 64.0f);
        op.beta.push_back(static_cast<float>(grid(gen_)) / 64.0f);
      } else {
        op.gamma.push_back(s * (0.5f + unit(gen_)));
        op.var.push_back(0.3f + 2.0f * unit(gen_));
        op.mean.push_back(0.6f * unit(gen_) - 0.3f);
        op.beta.push_back(0.6f * unit(gen_) - 0.3f);
      }
    }
    return record(op, builder_.batch_norm(x, op.gamma, op.beta, op.mean, op.var, op.eps));
  }

  nn::NodeId relu(nn::NodeId x) { return record(Op{Kind::relu, x}, builder_.relu(x)); }

  nn::NodeId max_pool(nn::NodeId x, nn::PoolParams p) {
    Op op{Kind::max_pool, x};
    op.pool = p;
    return record(op, builder_.max_pool(x, p));
  }

  nn::NodeId avg_pool(nn::NodeId x, nn::PoolParams p) {
    Op op{Kind::avg_pool, x};
    op.pool = p;
    return record(op, builder_.avg_pool(x, p));
  }

  nn::NodeId global_avg_pool(nn::NodeId x) {
    return record(Op{Kind::global_avg_pool, x}, builder_.global_avg_pool(x));
  }

  nn::NodeId flatten(nn::NodeId x) {
    Op op{Kind::reshape, x};
    op.shape = {builder_.shape(x).size(), 1, 1};
    return record(op, builder_.flatten(x));
  }

  nn::NodeId reshape(nn::NodeId x, nn::Shape shape) {
    Op op{Kind::reshape, x};
    op.shape = shape;
    return record(op, builder_.reshape(x, shape));
  }

  nn::NodeId add(nn::NodeId a, nn::NodeId b) {
    Op op{Kind::add, a};
    op.b = b;
    return record(op, builder_.add(a, b));
  }

  const nn::NetworkBuilder& builder() const { return builder_; }
  nn::Shape input_shape() const { return ops_.front().shape; }

  nn::Network build(const Context& ctx, nn::NodeId output) const {
    return builder_.build(ctx, output);
  }

  /// The reference output of `output` for one sample.
  std::vector<double> reference(const float* sample, nn::NodeId output) const {
    std::vector<reference::Tensor> values(ops_.size());
    for (std::size_t i = 0; i <= static_cast<std::size_t>(output); ++i) {
      const Op& op = ops_[i];
      const reference::Tensor* a = op.a >= 0 ? &values[static_cast<std::size_t>(op.a)] : nullptr;
      const nn::PoolParams& p = op.pool;
      switch (op.kind) {
        case Kind::input:
          values[i] = reference::tensor_from(sample, op.shape.c, op.shape.h, op.shape.w);
          break;
        case Kind::conv:
          values[i] = reference::conv2d(*a, op.weight, op.bias, op.out, op.kh, op.kw,
                                        op.conv.stride_h, op.conv.stride_w, op.conv.pad_top,
                                        op.conv.pad_left, op.conv.pad_bottom, op.conv.pad_right);
          break;
        case Kind::dense:
          values[i] = reference::dense(*a, op.weight, op.bias, op.out);
          break;
        case Kind::batch_norm:
          values[i] = reference::batch_norm(*a, op.gamma, op.beta, op.mean, op.var, op.eps);
          break;
        case Kind::relu:
          values[i] = reference::relu(*a);
          break;
        case Kind::max_pool:
        case Kind::avg_pool:
          values[i] = reference::pool2d(*a, op.kind == Kind::max_pool, p.kernel_h, p.kernel_w,
                                        p.stride_h, p.stride_w, p.pad_top, p.pad_left,
                                        p.pad_bottom, p.pad_right, p.count_include_pad);
          break;
        case Kind::global_avg_pool:
          values[i] = reference::global_avg_pool(*a);
          break;
        case Kind::reshape:
          values[i] = reference::reshape(*a, op.shape.c, op.shape.h, op.shape.w);
          break;
        case Kind::add:
          values[i] = reference::add(*a, values[static_cast<std::size_t>(op.b)]);
          break;
      }
    }
    return values[static_cast<std::size_t>(output)].v;
  }

 private:
  enum class Kind {
    input,
    conv,
    dense,
    batch_norm,
    relu,
    max_pool,
    avg_pool,
    global_avg_pool,
    reshape,
    add
  };
  struct Op {
    Kind kind;
    nn::NodeId a = -1;
    nn::NodeId b = -1;
    nn::Shape shape;
    std::vector<float> weight, bias, gamma, beta, mean, var;
    float eps = 0.0f;
    std::int64_t out = 0, kh = 1, kw = 1;
    nn::ConvParams conv;
    nn::PoolParams pool;
  };

  nn::NodeId record(const Op& op, nn::NodeId id) {
    ops_.push_back(op);
    return id;
  }

  /// Uniform weights with variance 2 / fan_in (He), so activations keep
  /// their scale through relu layers.
  std::vector<float> weights(std::int64_t count, std::int64_t fan_in) {
    const float limit = std::sqrt(6.0f / static_cast<float>(fan_in));
    std::uniform_real_distribution<float> dist(-limit, limit);
    std::vector<float> w(static_cast<std::size_t>(count));
    for (float& v : w) v = dist(gen_);
    return w;
  }

  std::vector<float> biases(std::int64_t count) {
    std::uniform_int_distribution<int> grid(-100, 100);
    std::uniform_real_distribution<float> dist(-0.1f, 0.1f);
    std::vector<float> b(static_cast<std::size_t>(count));
    for (float& v : b) v = exact_ ? static_cast<float>(grid(gen_)) / 1024.0f : dist(gen_);
    return b;
  }

  std::mt19937 gen_;
  bool exact_;
  nn::NetworkBuilder builder_;
  std::vector<Op> ops_;
};

}  // namespace cuxplain::test
