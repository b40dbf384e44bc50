// Public NMF entry points: argument checks, the pass over A, and the
// multiplicative-update and coordinate-descent loops of fit and transform,
// which drive the backend's ops (kernels/nmf.hpp) and so run the same
// algorithm on both.
#include <cuxplain/core/buffer.hpp>
#include <cuxplain/core/error.hpp>
#include <cuxplain/core/memory.hpp>
#include <cuxplain/detail/nmf.hpp>
#include <cuxplain/nmf.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

#include "../../kernels/nmf.hpp"
#include "../../kernels/dispatch.hpp"
#include "../core/enum_names.hpp"
#include "init.hpp"
#include "internal.hpp"
#include "../core/validate.hpp"

namespace cuxplain::nmf {

namespace {

constexpr EnumName<Init> kInits[] = {{Init::nndsvd, "nndsvd"},
                                     {Init::nndsvda, "nndsvda"},
                                     {Init::random, "random"},
                                     {Init::custom, "custom"}};

constexpr EnumName<Solver> kSolvers[] = {{Solver::mu, "mu"}, {Solver::cd, "cd"}};

}  // namespace

const char* to_string(Init init) { return detail::name_in(kInits, init, "unknown init"); }

const char* to_string(Solver solver) {
  return detail::name_in(kSolvers, solver, "unknown solver");
}

Solver parse_solver(std::string_view name) {
  if (const std::optional<Solver> solver = parse_enum<Solver>(name)) return *solver;
  CUXPLAIN_FAIL("nmf::parse_solver: unknown solver \"", std::string(name),
                "\" (expected mu or cd)");
}

namespace {

using detail::kNmfReduceBlocks;
using detail::kNmfTerms;

bool known_init(Init init) {
  return init == Init::nndsvd || init == Init::nndsvda || init == Init::random ||
         init == Init::custom;
}

bool known_solver(Solver solver) { return solver == Solver::mu || solver == Solver::cd; }

void check_penalty(float value, const char* caller, const char* name) {
  CUXPLAIN_EXPECTS(std::isfinite(value) && value >= 0.0f, caller, ": options.", name,
                   " must be finite and >= 0, got ", value);
}

/// Sizes and options; the pointers are checked by the callers.
/// A factorization needs rank <= min(n, p); transform, with W given, only
/// rank <= p (a few rows may be solved against a larger bank).
void check_arguments(const char* caller, std::int64_t n, std::int64_t p, const Options& options,
                     bool rank_bounded_by_n = true) {
  constexpr std::int64_t kMaxDim = std::numeric_limits<int>::max();  // BLAS int arguments
  CUXPLAIN_EXPECTS(n >= 1 && n <= kMaxDim, caller, ": n must be in [1, 2^31 - 1], got ", n);
  CUXPLAIN_EXPECTS(p >= 1 && p <= kMaxDim, caller, ": p must be in [1, 2^31 - 1], got ", p);
  if (rank_bounded_by_n) {
    const std::int64_t max_rank = n < p ? n : p;
    CUXPLAIN_EXPECTS(options.rank >= 1 && options.rank <= max_rank, caller,
                     ": options.rank must be in [1, min(n, p)] = [1, ", max_rank, "], got ",
                     options.rank, " (n = ", n, ", p = ", p, ")");
  } else {
    CUXPLAIN_EXPECTS(options.rank >= 1 && options.rank <= p, caller,
                     ": options.rank must be in [1, p] = [1, ", p, "], got ", options.rank);
  }
  CUXPLAIN_EXPECTS(known_init(options.init), caller, ": options.init has an unknown value ",
                   static_cast<int>(options.init));
  CUXPLAIN_EXPECTS(known_solver(options.solver), caller,
                   ": options.solver has an unknown value ", static_cast<int>(options.solver),
                   " (expected Solver::mu or Solver::cd)");
  CUXPLAIN_EXPECTS(options.max_iter >= 1, caller, ": options.max_iter must be >= 1, got ",
                   options.max_iter);
  CUXPLAIN_EXPECTS(std::isfinite(options.tol) && options.tol >= 0.0, caller,
                   ": options.tol must be finite and >= 0, got ", options.tol);
  CUXPLAIN_EXPECTS(options.check_every >= 1, caller, ": options.check_every must be >= 1, got ",
                   options.check_every);
  CUXPLAIN_EXPECTS(options.svd_oversamples >= 0, caller,
                   ": options.svd_oversamples must be >= 0, got ", options.svd_oversamples);
  check_penalty(options.l1_u, caller, "l1_u");
  check_penalty(options.l2_u, caller, "l2_u");
  check_penalty(options.l1_w, caller, "l1_w");
  check_penalty(options.l2_w, caller, "l2_w");
}

/// Throws when [a, a + a_count) and [b, b + b_count) share a float.
void expect_disjoint(const float* a, std::int64_t a_count, const float* b, std::int64_t b_count,
                     const char* caller, const char* a_name, const char* b_name) {
  const auto a0 = reinterpret_cast<std::uintptr_t>(a), b0 = reinterpret_cast<std::uintptr_t>(b);
  const auto a1 = a0 + static_cast<std::uintptr_t>(a_count) * sizeof(float);
  const auto b1 = b0 + static_cast<std::uintptr_t>(b_count) * sizeof(float);
  CUXPLAIN_EXPECTS(a1 <= b0 || b1 <= a0, caller, ": ", a_name, " and ", b_name, " overlap");
}

/// One pass over x (rows x cols): its sums, or an Error naming the first
/// negative or non-finite entry.
detail::NmfScan scan_matrix(const Context& ctx, const float* x, std::int64_t rows,
                            std::int64_t cols, Buffer<double>& partials, const char* caller,
                            const char* name) {
  Buffer<detail::NmfScan> device_scan(ctx, 1);
  CUXPLAIN_DISPATCH(ctx, nmf_scan, x, rows * cols, partials.data(), device_scan.data());
  detail::NmfScan scan;
  copy_to_host(ctx, &scan, device_scan.data(), sizeof scan);
  if (scan.first_invalid >= 0) {
    float value = 0.0f;
    copy_to_host(ctx, &value, x + scan.first_invalid, sizeof value);
    const std::int64_t i = scan.first_invalid / cols, j = scan.first_invalid % cols;
    CUXPLAIN_FAIL(caller, ": ", name, " has a ", std::isfinite(value) ? "negative" : "non-finite",
                  " entry ", value, " at (", i, ", ", j, "); NMF needs finite entries >= 0");
  }
  return scan;
}

/// A multiplicative update of x; with `terms`, also the sums the objective
/// needs (one fused pass).
void update(const Context& ctx, float* x, const float* numerator, const float* denominator,
            std::int64_t count, float l1, float l2, Buffer<double>& partials, double* terms) {
  if (terms == nullptr) {
    CUXPLAIN_DISPATCH(ctx, nmf_update, x, numerator, denominator, count, l1, l2);
  } else {
    CUXPLAIN_DISPATCH(ctx, nmf_update_terms, x, numerator, denominator, count, l1, l2,
                      partials.data(), terms);
  }
}

detail::NmfPenalties penalties_of(const Options& options, bool with_w) {
  detail::NmfPenalties penalties;
  penalties.l1_u = options.l1_u;
  penalties.l2_u = options.l2_u;
  penalties.l1_w = with_w ? options.l1_w : 0.0f;
  penalties.l2_w = with_w ? options.l2_w : 0.0f;
  return penalties;
}

/// Where the objective after each iteration goes: one [objective, residual]
/// pair per iteration with a history, a single reused pair otherwise.
class LossSlots {
 public:
  LossSlots(const Context& ctx, const Options& options)
      : ctx_(ctx), history_(options.loss_history),
        slots_(ctx, 2 * (options.loss_history ? options.max_iter + 1 : 1)) {}

  double* at(std::int64_t iteration) const {
    return slots_.data() + 2 * (history_ ? iteration : 0);
  }

  /// [objective, residual] after `iteration` (synchronizes a CUDA stream).
  void read(std::int64_t iteration, double* out) const {
    copy_to_host(ctx_, out, at(iteration), 2 * sizeof(double));
  }

  /// Writes the result's loss, relative error and history.
  void finish(std::int64_t iterations, double norm_a2, Result& result) const {
    double last[2];
    read(iterations, last);
    result.loss = last[0];
    result.relative_error = norm_a2 > 0.0 ? std::sqrt(last[1] / norm_a2) : 0.0;
    if (history_) {
      std::vector<double> pairs(static_cast<std::size_t>(2 * (iterations + 1)));
      copy_to_host(ctx_, pairs.data(), slots_.data(), pairs.size() * sizeof(double));
      result.loss_history.resize(static_cast<std::size_t>(iterations + 1));
      for (std::int64_t k = 0; k <= iterations; ++k) result.loss_history[k] = pairs[2 * k];
    }
  }

 private:
  Context ctx_;  // a handle: copies share the state
  bool history_;
  Buffer<double> slots_;
};

/// scikit-learn's stopping rule: error e = ||A - U W||_F, tested every
/// check_every iterations against the previous test, relative to e_0.
class StoppingTest {
 public:
  explicit StoppingTest(const Options& options) : tol_(options.tol), every_(options.check_every) {}

  bool active() const { return tol_ > 0.0; }
  bool due(std::int64_t iteration) const { return active() && iteration % every_ == 0; }

  void start(double residual) { initial_ = previous_ = std::sqrt(residual); }

  /// True when the fit has converged at this test.
  bool converged(double residual) {
    const double error = std::sqrt(residual);
    const bool stop = previous_ - error <= tol_ * initial_;  // <=: an exact fit (e_0 = 0) stops
    previous_ = error;
    return stop;
  }

 private:
  double tol_;
  std::int64_t every_;
  double initial_ = 0.0, previous_ = 0.0;
};

/// Coordinate descent's stopping verdict (detail::NmfCdState, on ctx's
/// device), read back every iteration on the host, where reading is free,
/// and every check_every iterations and at max_iter on CUDA, where it is a
/// stream synchronization; the device skips the sweeps after a stop, so the
/// later read sees the factors of the stop.
class CdVerdict {
 public:
  CdVerdict(const Context& ctx, const Options& options)
      : ctx_(ctx), every_(ctx.is_cuda() ? options.check_every : 1),
        max_iter_(options.max_iter), state_(ctx, 1) {
    zero(ctx, state_.data(), sizeof(detail::NmfCdState));
  }

  detail::NmfCdState* state() const { return state_.data(); }

  /// The iteration the rule stopped at, when it is read at `iteration`; 0
  /// while running or not read.
  std::int64_t stopped_at(std::int64_t iteration) const {
    if (iteration % every_ != 0 && iteration != max_iter_) return 0;
    detail::NmfCdState state;
    copy_to_host(ctx_, &state, state_.data(), sizeof state);
    return state.stopped_at;
  }

 private:
  Context ctx_;  // a handle: copies share the state
  std::int64_t every_, max_iter_;
  Buffer<detail::NmfCdState> state_;
};

/// Solver::cd for fit from the starting point in U and W: scikit-learn's
/// _fit_coordinate_descent (update U with W fixed, then W with U fixed).
Result fit_cd(const Context& ctx, const float* A, std::int64_t n, std::int64_t p,
              const Options& options, double norm_a2, Buffer<double>& partials, float* U,
              float* W) {
  const std::int64_t r = options.rank;
  // C_U = A W^T (n x r), C_W = U^T A (r x p: W's sweep reads column j of W
  // and of C_W as its row j, at stride p), and the Grams.
  Buffer<float> cross_u(ctx, n * r), cross_w(ctx, r * p), gram_u(ctx, r * r), gram_w(ctx, r * r);
  Buffer<double> terms_u(ctx, kNmfTerms), terms_w(ctx, kNmfTerms);
  const std::int64_t blocks_u = detail::nmf_cd_blocks(n), blocks_w = detail::nmf_cd_blocks(p);
  Buffer<double> violation_u(ctx, blocks_u), violation_w(ctx, blocks_w);
  const detail::NmfPenalties penalties = penalties_of(options, true);
  LossSlots slots(ctx, options);
  CdVerdict verdict(ctx, options);

  const auto gram_of_w = [&] {  // G_W = W W^T
    CUXPLAIN_DISPATCH(ctx, gemm, false, true, r, r, p, 1.0f, W, p, W, p, 0.0f, gram_w.data(), r);
  };
  const auto gram_of_u = [&] {  // G_U = U^T U
    CUXPLAIN_DISPATCH(ctx, gemm, true, false, r, r, n, 1.0f, U, r, U, r, 0.0f, gram_u.data(), r);
  };
  const auto cross_of_u = [&] {  // C_U = A W^T
    CUXPLAIN_DISPATCH(ctx, gemm, false, true, n, r, p, 1.0f, A, p, W, p, 0.0f, cross_u.data(), r);
  };

  gram_of_w();
  cross_of_u();
  if (options.loss_history) {
    // The objective at the start: <A, U W> = <A W^T, U>.
    gram_of_u();
    CUXPLAIN_DISPATCH(ctx, nmf_terms, U, cross_u.data(), n * r, partials.data(), terms_u.data());
    CUXPLAIN_DISPATCH(ctx, nmf_terms, W, nullptr, r * p, partials.data(), terms_w.data());
    CUXPLAIN_DISPATCH(ctx, nmf_objective, norm_a2, terms_u.data(), terms_u.data(), terms_w.data(),
                      gram_u.data(), gram_w.data(), r, penalties, slots.at(0));
  }

  Result result;
  result.iterations = options.max_iter;
  for (std::int64_t it = 1; it <= options.max_iter; ++it) {
    if (it > 1) cross_of_u();
    CUXPLAIN_DISPATCH(ctx, nmf_cd_sweep, U, n, r, r, 1, cross_u.data(), gram_w.data(),
                      options.l1_u, options.l2_u, verdict.state(), violation_u.data());
    gram_of_u();
    CUXPLAIN_DISPATCH(ctx, gemm, true, false, r, p, n, 1.0f, U, r, A, p, 0.0f, cross_w.data(), p);
    CUXPLAIN_DISPATCH(ctx, nmf_cd_sweep, W, p, r, 1, p, cross_w.data(), gram_u.data(),
                      options.l1_w, options.l2_w, verdict.state(), violation_w.data());
    CUXPLAIN_DISPATCH(ctx, nmf_cd_stop, violation_u.data(), blocks_u, violation_w.data(), blocks_w,
                      it, options.tol, verdict.state());
    gram_of_w();  // the next iteration's, and the loss's <G_U, G_W>
    const std::int64_t stopped_at = verdict.stopped_at(it);
    if (options.loss_history || stopped_at != 0 || it == options.max_iter) {
      // <A, U W> = <U^T A, W> with the new W; after a stop nothing changed
      // since stopped_at, so this is its objective.
      CUXPLAIN_DISPATCH(ctx, nmf_terms, W, cross_w.data(), r * p, partials.data(), terms_w.data());
      CUXPLAIN_DISPATCH(ctx, nmf_terms, U, nullptr, n * r, partials.data(), terms_u.data());
      CUXPLAIN_DISPATCH(ctx, nmf_objective, norm_a2, terms_w.data(), terms_u.data(), terms_w.data(),
                        gram_u.data(), gram_w.data(), r, penalties, slots.at(it));
    }
    if (stopped_at != 0) {
      result.iterations = stopped_at;
      result.converged = true;
      break;
    }
  }
  slots.finish(result.iterations, norm_a2, result);
  return result;
}

/// Solver::cd for transform: the U sweeps of fit_cd with W fixed, from U's
/// content (scikit-learn's _fit_coordinate_descent with update_H=False).
Result transform_cd(const Context& ctx, const float* A, std::int64_t n, std::int64_t p,
                    const float* W, const Options& options, double norm_a2,
                    Buffer<double>& partials, float* U) {
  const std::int64_t r = options.rank;
  Buffer<float> cross_u(ctx, n * r), gram_u(ctx, r * r), gram_w(ctx, r * r);
  Buffer<double> terms_u(ctx, kNmfTerms);
  const std::int64_t blocks_u = detail::nmf_cd_blocks(n);
  Buffer<double> violation_u(ctx, blocks_u);
  const detail::NmfPenalties penalties = penalties_of(options, false);
  LossSlots slots(ctx, options);
  CdVerdict verdict(ctx, options);
  CUXPLAIN_DISPATCH(ctx, gemm, false, true, r, r, p, 1.0f, W, p, W, p, 0.0f, gram_w.data(), r);
  CUXPLAIN_DISPATCH(ctx, gemm, false, true, n, r, p, 1.0f, A, p, W, p, 0.0f, cross_u.data(), r);

  const auto objective = [&](std::int64_t iteration) {  // <A, U W> = <A W^T, U>
    CUXPLAIN_DISPATCH(ctx, nmf_terms, U, cross_u.data(), n * r, partials.data(), terms_u.data());
    CUXPLAIN_DISPATCH(ctx, gemm, true, false, r, r, n, 1.0f, U, r, U, r, 0.0f, gram_u.data(), r);
    CUXPLAIN_DISPATCH(ctx, nmf_objective, norm_a2, terms_u.data(), terms_u.data(), nullptr,
                      gram_u.data(), gram_w.data(), r, penalties, slots.at(iteration));
  };
  if (options.loss_history) objective(0);

  Result result;
  result.iterations = options.max_iter;
  for (std::int64_t it = 1; it <= options.max_iter; ++it) {
    CUXPLAIN_DISPATCH(ctx, nmf_cd_sweep, U, n, r, r, 1, cross_u.data(), gram_w.data(),
                      options.l1_u, options.l2_u, verdict.state(), violation_u.data());
    CUXPLAIN_DISPATCH(ctx, nmf_cd_stop, violation_u.data(), blocks_u, nullptr, 0, it, options.tol,
                      verdict.state());
    const std::int64_t stopped_at = verdict.stopped_at(it);
    if (options.loss_history || stopped_at != 0 || it == options.max_iter) objective(it);
    if (stopped_at != 0) {
      result.iterations = stopped_at;
      result.converged = true;
      break;
    }
  }
  slots.finish(result.iterations, norm_a2, result);
  return result;
}

}  // namespace

Result fit(const Context& ctx, const float* A, std::int64_t n, std::int64_t p,
           const Options& options, float* U, float* W) {
  const char* caller = "nmf::fit";
  check_arguments(caller, n, p, options);
  detail::expect_on_device(ctx, A, "nmf::fit: A");
  detail::expect_on_device(ctx, U, "nmf::fit: U");
  detail::expect_on_device(ctx, W, "nmf::fit: W");
  const std::int64_t r = options.rank;
  expect_disjoint(A, n * p, U, n * r, caller, "A", "U");
  expect_disjoint(A, n * p, W, r * p, caller, "A", "W");
  expect_disjoint(U, n * r, W, r * p, caller, "U", "W");

  Buffer<double> partials(ctx, kNmfTerms * kNmfReduceBlocks);
  const detail::NmfScan scan = scan_matrix(ctx, A, n, p, partials, caller, "A");
  const double norm_a2 = scan.sum_squares;
  const double mean_a = scan.sum / (static_cast<double>(n) * static_cast<double>(p));
  if (options.init == Init::custom) {
    scan_matrix(ctx, U, n, r, partials, caller, "U (the starting point of Init::custom)");
    scan_matrix(ctx, W, r, p, partials, caller, "W (the starting point of Init::custom)");
  } else {
    detail::nmf_initialize(ctx, A, n, p, options, mean_a, U, W);
  }
  if (options.solver == Solver::cd) return fit_cd(ctx, A, n, p, options, norm_a2, partials, U, W);

  // N and D: numerator and denominator of a factor's update; G: Grams.
  Buffer<float> num_u(ctx, n * r), den_u(ctx, n * r), num_w(ctx, r * p), den_w(ctx, r * p);
  Buffer<float> gram_u(ctx, r * r), gram_w(ctx, r * r);
  Buffer<double> terms_u(ctx, kNmfTerms), terms_w(ctx, kNmfTerms);
  const detail::NmfPenalties penalties = penalties_of(options, true);
  LossSlots slots(ctx, options);
  StoppingTest stopping(options);

  const auto gram_of_w = [&] {  // G_W = W W^T
    CUXPLAIN_DISPATCH(ctx, gemm, false, true, r, r, p, 1.0f, W, p, W, p, 0.0f, gram_w.data(), r);
  };
  const auto numerator_of_u = [&] {  // N_U = A W^T
    CUXPLAIN_DISPATCH(ctx, gemm, false, true, n, r, p, 1.0f, A, p, W, p, 0.0f, num_u.data(), r);
  };
  const auto gram_of_u = [&] {  // G_U = U^T U
    CUXPLAIN_DISPATCH(ctx, gemm, true, false, r, r, n, 1.0f, U, r, U, r, 0.0f, gram_u.data(), r);
  };

  gram_of_w();
  numerator_of_u();
  if (stopping.active() || options.loss_history) {
    // The objective at the start: <A, U W> = <A W^T, U>.
    gram_of_u();
    CUXPLAIN_DISPATCH(ctx, nmf_terms, U, num_u.data(), n * r, partials.data(), terms_u.data());
    CUXPLAIN_DISPATCH(ctx, nmf_terms, W, nullptr, r * p, partials.data(), terms_w.data());
    CUXPLAIN_DISPATCH(ctx, nmf_objective, norm_a2, terms_u.data(), terms_u.data(), terms_w.data(),
                      gram_u.data(), gram_w.data(), r, penalties, slots.at(0));
  }
  if (stopping.active()) {
    double start[2];
    slots.read(0, start);
    stopping.start(start[1]);
  }

  Result result;
  result.iterations = options.max_iter;
  for (std::int64_t it = 1; it <= options.max_iter; ++it) {
    const bool test = stopping.due(it);
    const bool loss = test || options.loss_history || it == options.max_iter;
    if (it > 1) numerator_of_u();
    // U <- U o (A W^T) / (U G_W + l1 + l2 U)
    CUXPLAIN_DISPATCH(ctx, gemm, false, false, n, r, r, 1.0f, U, r, gram_w.data(), r, 0.0f,
                      den_u.data(), r);
    update(ctx, U, num_u.data(), den_u.data(), n * r, options.l1_u, options.l2_u, partials,
           loss ? terms_u.data() : nullptr);
    // W <- W o (U^T A) / (G_U W + l1 + l2 W)
    gram_of_u();
    CUXPLAIN_DISPATCH(ctx, gemm, true, false, r, p, n, 1.0f, U, r, A, p, 0.0f, num_w.data(), p);
    CUXPLAIN_DISPATCH(ctx, gemm, false, false, r, p, r, 1.0f, gram_u.data(), r, W, p, 0.0f,
                      den_w.data(), p);
    update(ctx, W, num_w.data(), den_w.data(), r * p, options.l1_w, options.l2_w, partials,
           loss ? terms_w.data() : nullptr);
    gram_of_w();  // the next iteration's, and the loss's <G_U, G_W>
    if (!loss) continue;
    // <A, U W> = <U^T A, W> with the new W: the W update's term 0.
    CUXPLAIN_DISPATCH(ctx, nmf_objective, norm_a2, terms_w.data(), terms_u.data(), terms_w.data(),
                      gram_u.data(), gram_w.data(), r, penalties, slots.at(it));
    if (test) {
      double now[2];
      slots.read(it, now);
      if (stopping.converged(now[1])) {
        result.iterations = it;
        result.converged = true;
        break;
      }
    }
  }
  slots.finish(result.iterations, norm_a2, result);
  return result;
}

namespace {
Result transform_checked_w(const Context& ctx, const float* A, std::int64_t n, std::int64_t p,
                           const float* W, const Options& options, float* U, const char* caller,
                           bool check_w);
}  // namespace

Result transform(const Context& ctx, const float* A, std::int64_t n, std::int64_t p,
                 const float* W, const Options& options, float* U) {
  const char* caller = "nmf::transform";
  check_arguments(caller, n, p, options, /*rank_bounded_by_n=*/false);
  detail::expect_on_device(ctx, A, "nmf::transform: A");
  detail::expect_on_device(ctx, W, "nmf::transform: W");
  detail::expect_on_device(ctx, U, "nmf::transform: U");
  const std::int64_t r = options.rank;
  expect_disjoint(A, n * p, U, n * r, caller, "A", "U");
  expect_disjoint(W, r * p, U, n * r, caller, "W", "U");
  return transform_checked_w(ctx, A, n, p, W, options, U, caller, /*check_w=*/true);
}

namespace {

/// transform after its argument checks: A's pass (and W's when check_w),
/// U's start, the solver.
Result transform_checked_w(const Context& ctx, const float* A, std::int64_t n, std::int64_t p,
                           const float* W, const Options& options, float* U, const char* caller,
                           bool check_w) {
  const std::int64_t r = options.rank;
  Buffer<double> partials(ctx, kNmfTerms * kNmfReduceBlocks);
  const detail::NmfScan scan = scan_matrix(ctx, A, n, p, partials, caller, "A");
  if (check_w) scan_matrix(ctx, W, r, p, partials, caller, "W");
  const double norm_a2 = scan.sum_squares;
  if (options.init == Init::custom) {
    scan_matrix(ctx, U, n, r, partials, caller, "U (the starting point of Init::custom)");
  } else if (options.solver == Solver::cd) {
    fill(ctx, U, n * r, 0.0f);  // scikit-learn's start for cd
  } else {
    const double mean_a = scan.sum / (static_cast<double>(n) * static_cast<double>(p));
    fill(ctx, U, n * r, static_cast<float>(std::sqrt(mean_a / static_cast<double>(r))));
  }
  if (options.solver == Solver::cd) {
    return transform_cd(ctx, A, n, p, W, options, norm_a2, partials, U);
  }

  // W is fixed: N_U = A W^T and G_W = W W^T once.
  Buffer<float> num_u(ctx, n * r), den_u(ctx, n * r), gram_u(ctx, r * r), gram_w(ctx, r * r);
  Buffer<double> terms_u(ctx, kNmfTerms);
  const detail::NmfPenalties penalties = penalties_of(options, false);
  LossSlots slots(ctx, options);
  StoppingTest stopping(options);
  CUXPLAIN_DISPATCH(ctx, gemm, false, true, r, r, p, 1.0f, W, p, W, p, 0.0f, gram_w.data(), r);
  CUXPLAIN_DISPATCH(ctx, gemm, false, true, n, r, p, 1.0f, A, p, W, p, 0.0f, num_u.data(), r);

  const auto objective = [&](std::int64_t iteration) {  // terms_u holds the sums of the current U
    CUXPLAIN_DISPATCH(ctx, gemm, true, false, r, r, n, 1.0f, U, r, U, r, 0.0f, gram_u.data(), r);
    CUXPLAIN_DISPATCH(ctx, nmf_objective, norm_a2, terms_u.data(), terms_u.data(), nullptr,
                      gram_u.data(), gram_w.data(), r, penalties, slots.at(iteration));
  };
  if (stopping.active() || options.loss_history) {
    CUXPLAIN_DISPATCH(ctx, nmf_terms, U, num_u.data(), n * r, partials.data(), terms_u.data());
    objective(0);
  }
  if (stopping.active()) {
    double start[2];
    slots.read(0, start);
    stopping.start(start[1]);
  }

  Result result;
  result.iterations = options.max_iter;
  for (std::int64_t it = 1; it <= options.max_iter; ++it) {
    const bool test = stopping.due(it);
    const bool loss = test || options.loss_history || it == options.max_iter;
    CUXPLAIN_DISPATCH(ctx, gemm, false, false, n, r, r, 1.0f, U, r, gram_w.data(), r, 0.0f,
                      den_u.data(), r);
    update(ctx, U, num_u.data(), den_u.data(), n * r, options.l1_u, options.l2_u, partials,
           loss ? terms_u.data() : nullptr);
    if (!loss) continue;
    objective(it);
    if (test) {
      double now[2];
      slots.read(it, now);
      if (stopping.converged(now[1])) {
        result.iterations = it;
        result.converged = true;
        break;
      }
    }
  }
  slots.finish(result.iterations, norm_a2, result);
  return result;
}

}  // namespace

void initialize(const Context& ctx, const float* A, std::int64_t n, std::int64_t p,
                const Options& options, float* U, float* W) {
  const char* caller = "nmf::initialize";
  check_arguments(caller, n, p, options);
  CUXPLAIN_EXPECTS(options.init != Init::custom, caller,
                   ": options.init must be nndsvd, nndsvda or random, got custom");
  detail::expect_on_device(ctx, A, "nmf::initialize: A");
  detail::expect_on_device(ctx, U, "nmf::initialize: U");
  detail::expect_on_device(ctx, W, "nmf::initialize: W");
  const std::int64_t r = options.rank;
  expect_disjoint(A, n * p, U, n * r, caller, "A", "U");
  expect_disjoint(A, n * p, W, r * p, caller, "A", "W");
  expect_disjoint(U, n * r, W, r * p, caller, "U", "W");
  Buffer<double> partials(ctx, kNmfTerms * kNmfReduceBlocks);
  const detail::NmfScan scan = scan_matrix(ctx, A, n, p, partials, caller, "A");
  detail::nmf_initialize(ctx, A, n, p, options,
                         scan.sum / (static_cast<double>(n) * static_cast<double>(p)), U, W);
}

}  // namespace cuxplain::nmf

namespace cuxplain {

template <>
HostSpan<const EnumName<nmf::Init>> enum_names<nmf::Init>() {
  return detail::span_of(nmf::kInits);
}
template <>
HostSpan<const EnumName<nmf::Solver>> enum_names<nmf::Solver>() {
  return detail::span_of(nmf::kSolvers);
}

}  // namespace cuxplain

namespace cuxplain::detail {

void nmf_check_matrix(const Context& ctx, const float* x, std::int64_t rows,
                      std::int64_t cols, const char* caller, const char* name) {
  Buffer<double> partials(ctx, kNmfTerms * kNmfReduceBlocks);
  nmf::scan_matrix(ctx, x, rows, cols, partials, caller, name);
}

nmf::Result nmf_transform(const Context& ctx, const float* A, std::int64_t n, std::int64_t p,
                          const float* W, const nmf::Options& options, float* U,
                          const char* caller) {
  return nmf::transform_checked_w(ctx, A, n, p, W, options, U, caller, /*check_w=*/false);
}

}  // namespace cuxplain::detail
