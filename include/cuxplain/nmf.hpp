#pragma once
// cuxplain::nmf: non-negative matrix factorization A ~ U W (Frobenius loss;
// Lee-Seung multiplicative updates, or scikit-learn's coordinate descent),
// the concept extraction step of CRAFT.
//
//   nmf::Options options;
//   options.rank = 25;
//   nmf::Result result = nmf::fit(ctx, A, n, p, options, U, W);   // U: n x r, W: r x p
//   nmf::transform(ctx, A2, n2, p, W, options, U2);               // U2 for a fixed W
//
// Every matrix is row-major float32 on ctx's device. Semantics follow
// scikit-learn's NMF(solver='mu' or 'cd', beta_loss='frobenius') where they
// can; the differences are written down at each option.
#include <cstdint>
#include <string_view>
#include <vector>

#include "core/context.hpp"
#include "core/options.hpp"

namespace cuxplain::nmf {

/// Starting point of fit.
enum class Init {
  /// NNDSVD (Boutsidis and Gallopoulos 2008) from a truncated SVD of A, as
  /// scikit-learn's init='nndsvd'. Its zeros stay zero under the
  /// multiplicative updates, which suits sparse factors and slows the fit.
  nndsvd,
  /// NNDSVD with its zeros filled with mean(A) (scikit-learn's default
  /// init='nndsvda', and xplique's).
  nndsvda,
  /// U, W = sqrt(mean(A) / rank) * |N(0, 1)| from a seeded counter-based
  /// generator (scikit-learn's init='random'; the draws differ from numpy's).
  random,
  /// U and W hold the starting point on entry (scikit-learn's init='custom').
  custom,
};

const char* to_string(Init init);

/// The algorithm of fit and transform.
enum class Solver {
  /// Multiplicative updates (Lee and Seung; scikit-learn's solver='mu'):
  /// every entry of a factor at once, GEMMs and one elementwise pass, the
  /// shape that suits a GPU. The default.
  mu,
  /// Cyclic coordinate descent (Cichocki and Phan 2009; scikit-learn's
  /// solver='cd' with shuffle=False, its default solver and xplique's
  /// CRAFT's): per factor, the components t = 0..r-1 in order, each one
  /// minimizing the objective exactly in its column (of U) or row (of W)
  /// with the others fixed. Fewer iterations than mu to the same error;
  /// each sweep is sequential over components (see fit).
  cd,
};

/// "mu" or "cd": scikit-learn's names, which parse_solver reads back.
const char* to_string(Solver solver);

/// The Solver named "mu" or "cd" (command lines, configuration files); a
/// cuxplain::Error naming `name` for anything else.
Solver parse_solver(std::string_view name);

/// Options of fit and transform. Defaults are scikit-learn's (and xplique's,
/// apart from the penalties: see l2_u).
struct Options {
  /// r, the number of components (concepts): 1 <= r <= min(n, p). The
  /// default is a placeholder (scikit-learn's is all p features): set it.
  std::int64_t rank = 10;
  /// mu (default) or cd. xplique's CRAFT runs scikit-learn's default, cd.
  Solver solver = Solver::mu;
  Init init = Init::nndsvda;
  /// Seed of Init::random and of the randomized SVD behind NNDSVD(a).
  std::uint64_t seed = 0;
  /// Iterations at most (>= 1); one iteration updates U, then W.
  std::int64_t max_iter = 200;
  /// The stopping rule is the solver's in scikit-learn.
  ///
  /// mu: stop when (e_prev - e) <= tol * e_0, tested every check_every
  /// iterations: e = ||A - U W||_F now, e_prev at the previous test, e_0 at
  /// the start (scikit-learn tests every 10 iterations). 0 runs max_iter
  /// iterations. On CUDA each test reads the loss back: one stream
  /// synchronization per check_every iterations, none in between.
  ///
  /// cd: stop at the first iteration k whose violation v_k (the sum of the
  /// projected gradients' magnitudes met by its sweeps, before each
  /// coordinate's step) satisfies v_1 == 0 or v_k / v_1 <= tol, tested after
  /// every iteration as scikit-learn does, whatever check_every. check_every
  /// only sets how often CUDA reads the verdict back (one synchronization
  /// per check_every iterations): the test runs on the device, which skips
  /// the sweeps of the iterations enqueued after a stop, so the factors,
  /// iterations and loss are those of iteration k (the skipped iterations
  /// still cost their GEMMs). tol = 0 still stops on a zero violation (a
  /// fixed point: further iterations would change nothing). The violation
  /// is summed in double (scikit-learn sums in the data's dtype, float32):
  /// the two agree to float rounding, which moves a stop only when v_k / v_1
  /// is within about 1e-6 of tol.
  double tol = 1e-4;
  std::int64_t check_every = 10;
  /// Penalties, all >= 0 and applied as written (objective below), unlike
  /// scikit-learn, which scales alpha_W by p and alpha_H by n: its
  /// NMF(alpha_W=a, alpha_H='same', l1_ratio=q) is l1_u = a q p,
  /// l2_u = a (1 - q) p, l1_w = a q n, l2_w = a (1 - q) n here (xplique's
  /// CRAFT: a = 1e-2, q = 0).
  ///   objective = 0.5 ||A - U W||_F^2 + l1_u sum(U) + 0.5 l2_u ||U||_F^2
  ///                                   + l1_w sum(W) + 0.5 l2_w ||W||_F^2
  float l1_u = 0.0f;
  float l2_u = 0.0f;
  float l1_w = 0.0f;
  float l2_w = 0.0f;
  /// Record the objective after every iteration in Result::loss_history
  /// (on CUDA computed on the device each iteration and read back once at
  /// the end; costs two small reductions per iteration).
  bool loss_history = false;
  /// Randomized SVD behind NNDSVD(a) (Halko, Martinsson and Tropp 2011, as
  /// scikit-learn's randomized_svd): rank + svd_oversamples sketch vectors
  /// (at most min(n, p)); svd_power_iterations < 0 picks scikit-learn's
  /// 'auto' (7 when rank < 0.1 min(n, p), else 4).
  std::int64_t svd_oversamples = 10;
  std::int64_t svd_power_iterations = -1;
};

/// What fit and transform report.
struct Result {
  std::int64_t iterations = 0;  ///< iterations run
  bool converged = false;       ///< stopped by the tol test (not by max_iter)
  /// The objective at the end (Options, penalties included). Like
  /// relative_error it comes from the Gram form (float GEMMs summed in
  /// double): its error is float rounding of ||A||^2, so relative to the
  /// loss about 1e-7 ||A||^2 / ||A - U W||^2.
  double loss = 0.0;
  double relative_error = 0.0;  ///< ||A - U W||_F / ||A||_F at the end (0 when A = 0)
  /// With Options::loss_history: the objective after k = 0..iterations
  /// iterations (entry 0: at the starting point). Empty otherwise.
  std::vector<double> loss_history;
};

/// Factorizes A (n x p, entries finite and >= 0) as U (n x r) W (r x p),
/// U, W >= 0, minimizing the objective of Options.
///
/// Solver::mu, multiplicative updates:
///   U <- U o (A W^T) / (U (W W^T) + l1_u + l2_u U)
///   W <- W o (U^T A) / ((U^T U) W + l1_w + l2_w W)
/// (a zero denominator is replaced by float32's epsilon). U W is never
/// formed: each iteration is the GEMMs A W^T, U^T A (n p r each) and the
/// Gram products (n r^2, p r^2), then one fused elementwise pass per factor;
/// the loss comes from the same products (see detail/nmf.hpp).
///
/// Solver::cd, coordinate descent (scikit-learn's _fit_coordinate_descent):
/// G = W W^T + l2_u I and C = A W^T - l1_u (float32 GEMMs), then for
/// t = 0..r-1 in order and every row i of U
///   g = -C_it + sum_q G_tq U_iq,  U_it <- max(U_it - g / G_tt, 0)
/// (skipped when G_tt = 0), each g summed in float32 in q order without
/// fused multiply-adds, as scikit-learn's Cython loop does; then the same
/// for W^T with U^T U + l2_w I and (U^T A)^T - l1_w. A row reads only its own
/// entries, so rows are updated independently and still exactly as
/// scikit-learn's sequential loop: one CUDA thread per row, components in
/// order; on the host, blocks of rows component by component in vector lanes.
/// Per iteration: the same GEMMs as mu, a sweep of (n + p) r^2 multiply-adds
/// and, on CUDA, two sweep launches and a one-block stopping test.
/// From the same start the host backend follows scikit-learn's float32 run
/// to float rounding (its GEMMs sum in another order than numpy's BLAS); see
/// tests/host/test_nmf.cpp for the measured agreement.
///
/// U, W: written with the factors when the call succeeds (read first as the
/// starting point with Init::custom); they must not overlap A or each
/// other. Errors (cuxplain::Error naming the argument and value): a null
/// pointer or memory on the wrong device, n or p < 1 or >= 2^31, rank
/// outside [1, min(n, p)], max_iter or check_every < 1, a negative or
/// non-finite tol or penalty, an unknown init or solver, and a negative or
/// non-finite entry of A ("A has a negative entry -0.5 at (i, j)"; of U or
/// W for Init::custom). Checking A is one pass over it (on CUDA: a reduction and
/// a 24-byte read-back, one stream synchronization) that also gives ||A||^2
/// and mean(A).
///
/// CUDA: work is enqueued on ctx.stream(), GEMMs through cuBLAS. The stream
/// is synchronized by the check of A, by NNDSVD(a) (a k x k read-back per
/// orthonormalization pass of the SVD's sketch, k = rank + svd_oversamples:
/// usually two passes for each of the 2q + 1 orthonormalizations of q power
/// iterations, plus the reads of the k x p core and of 2r column norms), once
/// per stopping test and once at the end; never inside an iteration.
/// Temporary memory (ctx's allocator): 2 (n + p) r + 2 r^2 floats (cd:
/// (n + p) r + 2 r^2) and a few KiB during the iterations (plus 16 bytes per
/// iteration with loss_history); before them NNDSVD(a) holds about
/// 2 (n + p) k + (n + p) r. With cd, CUDA synchronizes once per check_every
/// iterations to read the stopping verdict (see Options::tol).
///
/// Host: GEMMs through the host backend's CBLAS (OpenBLAS), elementwise
/// passes with OpenMP. Both backends run the same algorithm, sketch and
/// NNDSVD included (the small k x k eigenproblems of the randomized SVD are
/// solved on the host in double for both), and agree to float rounding.
Result fit(const Context& ctx, const float* A, std::int64_t n, std::int64_t p,
           const Options& options, float* U, float* W);

/// U (n x r) >= 0 for a fixed W (r x p): the U updates of fit's solver with
/// W frozen (non-negative least squares, scikit-learn's NMF.transform). U
/// starts where scikit-learn's transform starts it for the solver:
/// sqrt(mean(A) / r) everywhere for mu, zeros for cd; or at its content with
/// Init::custom. rank, solver, max_iter, tol, check_every, l1_u, l2_u and
/// loss_history apply, with the solver's stopping rule (for cd the
/// violation is that of the U sweeps alone, as scikit-learn's); the
/// objective leaves W's penalty out. scikit-learn's transform keeps the
/// fitted model's alpha_W, l1_ratio, max_iter and tol, and its U penalty
/// scales with p only: transform with the Options of the fit reproduces it.
/// W must be finite and >= 0 (a second pass, over W). rank may exceed n
/// (it must be in [1, p]). Synchronization and errors as fit; temporaries 2 n r + 2 r^2 floats
/// (cd: n r + 2 r^2).
Result transform(const Context& ctx, const float* A, std::int64_t n, std::int64_t p,
                 const float* W, const Options& options, float* U);

/// The starting point fit uses for options.init (nndsvd, nndsvda or
/// random), written to U (n x r) and W (r x p): for inspecting or reusing
/// an initialization. Checks A as fit does.
void initialize(const Context& ctx, const float* A, std::int64_t n, std::int64_t p,
                const Options& options, float* U, float* W);

}  // namespace cuxplain::nmf

namespace cuxplain {

/// The names of nmf::Init and nmf::Solver (core/options.hpp's enum_names).
template <>
HostSpan<const EnumName<nmf::Init>> enum_names<nmf::Init>();
template <>
HostSpan<const EnumName<nmf::Solver>> enum_names<nmf::Solver>();

}  // namespace cuxplain
