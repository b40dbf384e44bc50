// Starting points of NMF: NNDSVD(a) (Boutsidis and Gallopoulos 2008, as
// scikit-learn's _initialize_nmf) from a randomized truncated SVD (Halko,
// Martinsson and Tropp 2011, as scikit-learn's randomized_svd), and seeded
// random factors.
//
// The SVD runs on ctx's backend through the NMF ops: the sketch and its
// power iterations are GEMMs with A (n p k flops each, k = rank +
// oversamples), and the small problems are solved here in double for both
// backends: each orthonormalization of an n x k (or p x k) block X takes the
// k x k Gram X^T X (a GEMM), its eigendecomposition (LAPACK) and X <- X V
// diag(lambda^-1/2), repeated until the Gram is close to the identity
// (usually twice: "CholeskyQR2" with an eigendecomposition in place of the
// Cholesky factor, which also survives rank-deficient sketches); the core
// B = Q^T A (k x p) is read back and B B^T eigendecomposed here, giving
// A's singular values, its right singular vectors B^T u_j / s_j and its left
// ones Q u_j (a GEMM).
#include "init.hpp"

#include <cuxplain/core/buffer.hpp>
#include <cuxplain/core/error.hpp>
#include <cuxplain/core/memory.hpp>
#include <cuxplain/detail/nmf.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <numeric>

#include "../../kernels/nmf.hpp"
#include "../../kernels/dispatch.hpp"

// LAPACK's symmetric eigensolver (OpenBLAS ships LAPACK; CMakeLists.txt
// checks that the library linked has it), with gfortran's hidden lengths of
// the two character arguments.
extern "C" void dsyevd_(const char* jobz, const char* uplo, const int* n, double* a,
                        const int* lda, double* w, double* work, const int* lwork, int* iwork,
                        const int* liwork, int* info, std::size_t jobz_length,
                        std::size_t uplo_length);

namespace cuxplain::detail {
namespace {

/// Eigenvalues below this fraction of the largest are raised to it when a
/// block is whitened: directions the float Gram cannot resolve become unit
/// vectors of rounding noise (harmless in a subspace iteration) instead of
/// infinities.
constexpr double kEigenFloor = 1e-14;

/// Orthonormalization passes at most; a pass whose input Gram has all its
/// eigenvalues within this ratio of each other leaves an orthonormal block.
constexpr int kMaxOrthonormalizePasses = 4;
constexpr double kOrthonormalSpread = 10.0;

/// x (rows x k, row-major) <- an orthonormal basis of its column span; tmp
/// is scratch of the same size (the two buffers may be swapped).
void orthonormalize(const Context& ctx, Buffer<float>& x, Buffer<float>& tmp, std::int64_t rows,
                    std::int64_t k, Buffer<float>& small) {
  std::vector<double> gram(static_cast<std::size_t>(k * k)), values, vectors;
  std::vector<float> whitening(static_cast<std::size_t>(k * k));
  for (int pass = 0; pass < kMaxOrthonormalizePasses; ++pass) {
    CUXPLAIN_DISPATCH(ctx, gemm, true, false, k, k, rows, 1.0f, x.data(), k, x.data(), k, 0.0f,
                      small.data(), k);
    const std::vector<float> gram_f = to_host(ctx, small.data(), k * k);
    for (std::int64_t i = 0; i < k; ++i)
      for (std::int64_t j = 0; j < k; ++j)  // symmetrize the float GEMM's result
        gram[i * k + j] = 0.5 * (static_cast<double>(gram_f[i * k + j]) + gram_f[j * k + i]);
    symmetric_eigen(gram, k, values, vectors);
    const double largest = values.front();
    if (!(largest > 0.0)) {  // x = 0: nothing to orthonormalize
      zero(ctx, x.data(), x.bytes());
      return;
    }
    const double floor = kEigenFloor * largest;
    for (std::int64_t j = 0; j < k; ++j) {
      const double scale = 1.0 / std::sqrt(std::max(values[j], floor));
      for (std::int64_t i = 0; i < k; ++i)
        whitening[i * k + j] = static_cast<float>(vectors[i * k + j] * scale);
    }
    copy_to_device(ctx, small.data(), whitening.data(), whitening.size() * sizeof(float));
    CUXPLAIN_DISPATCH(ctx, gemm, false, false, rows, k, k, 1.0f, x.data(), k, small.data(), k,
                      0.0f, tmp.data(), k);
    x.swap(tmp);
    if (largest <= kOrthonormalSpread * std::max(values.back(), floor)) return;
  }
}

/// The leading r singular triplets of A (n x p): s (r), the left vectors on
/// ctx's device (n x r, row-major, in `left`) and the right ones on the host
/// (r x p, row-major, double).
struct TruncatedSvd {
  std::vector<double> values;
  Buffer<float> left;
  std::vector<double> right;
};

TruncatedSvd randomized_svd(const Context& ctx, const float* a, std::int64_t n, std::int64_t p,
                            const nmf::Options& options) {
  const std::int64_t r = options.rank;
  const std::int64_t k = std::min(r + options.svd_oversamples, std::min(n, p));
  const std::int64_t power_iterations =
      options.svd_power_iterations >= 0
          ? options.svd_power_iterations
          : (static_cast<double>(r) < 0.1 * static_cast<double>(std::min(n, p)) ? 7 : 4);

  Buffer<float> y(ctx, n * k), y_tmp(ctx, n * k), z(ctx, p * k), z_tmp(ctx, p * k);
  Buffer<float> small(ctx, k * k);
  // Y = A Omega with Omega (p x k) standard normal.
  CUXPLAIN_DISPATCH(ctx, nmf_fill_random, z.data(), p * k,
                    nmf_random_key(options.seed, kNmfSketchSalt), 1.0f, false);
  CUXPLAIN_DISPATCH(ctx, gemm, false, false, n, k, p, 1.0f, a, p, z.data(), k, 0.0f, y.data(),
                    k);
  for (std::int64_t it = 0; it < power_iterations; ++it) {
    orthonormalize(ctx, y, y_tmp, n, k, small);
    CUXPLAIN_DISPATCH(ctx, gemm, true, false, p, k, n, 1.0f, a, p, y.data(), k, 0.0f,
                      z.data(), k);
    orthonormalize(ctx, z, z_tmp, p, k, small);
    CUXPLAIN_DISPATCH(ctx, gemm, false, false, n, k, p, 1.0f, a, p, z.data(), k, 0.0f,
                      y.data(), k);
  }
  orthonormalize(ctx, y, y_tmp, n, k, small);  // Q

  // B = Q^T A (k x p), read back; B B^T = Ub diag(s^2) Ub^T here in double.
  CUXPLAIN_DISPATCH(ctx, gemm, true, false, k, p, n, 1.0f, y.data(), k, a, p, 0.0f, z.data(),
                    p);
  const std::vector<float> core = to_host(ctx, z.data(), k * p);
  std::vector<double> core_gram(static_cast<std::size_t>(k * k), 0.0);
  for (std::int64_t i = 0; i < k; ++i) {
    for (std::int64_t j = i; j < k; ++j) {
      double sum = 0.0;
      for (std::int64_t c = 0; c < p; ++c)
        sum += static_cast<double>(core[i * p + c]) * core[j * p + c];
      core_gram[i * k + j] = core_gram[j * k + i] = sum;
    }
  }
  std::vector<double> values, vectors;
  symmetric_eigen(core_gram, k, values, vectors);

  TruncatedSvd svd;
  svd.values.resize(static_cast<std::size_t>(r));
  svd.right.assign(static_cast<std::size_t>(r * p), 0.0);
  std::vector<float> left_core(static_cast<std::size_t>(k * r));
  for (std::int64_t j = 0; j < r; ++j) {
    const double s = std::sqrt(std::max(values[j], 0.0));
    svd.values[j] = s;
    for (std::int64_t i = 0; i < k; ++i) left_core[i * r + j] = static_cast<float>(vectors[i * k + j]);
    if (s == 0.0) continue;
    double* v = svd.right.data() + j * p;
    for (std::int64_t i = 0; i < k; ++i) {
      const double weight = vectors[i * k + j] / s;
      for (std::int64_t c = 0; c < p; ++c) v[c] += weight * core[i * p + c];
    }
  }
  // Left vectors: Q Ub[:, :r] (n x r).
  copy_to_device(ctx, small.data(), left_core.data(), left_core.size() * sizeof(float));
  svd.left = Buffer<float>(ctx, n * r);
  CUXPLAIN_DISPATCH(ctx, gemm, false, false, n, r, k, 1.0f, y.data(), k, small.data(), r, 0.0f,
                    svd.left.data(), r);
  return svd;
}

double norm_of(const std::vector<double>& x, std::int64_t begin, std::int64_t count, int sign) {
  double sum = 0.0;
  for (std::int64_t c = begin; c < begin + count; ++c) {
    const double v = sign > 0 ? std::max(x[c], 0.0) : std::max(-x[c], 0.0);
    sum += v * v;
  }
  return std::sqrt(sum);
}

void nndsvd(const Context& ctx, const float* a, std::int64_t n, std::int64_t p,
            const nmf::Options& options, double mean_a, float* u, float* w) {
  const std::int64_t r = options.rank;
  const TruncatedSvd svd = randomized_svd(ctx, a, n, p, options);

  Buffer<double> left_norms(ctx, 2 * r);
  CUXPLAIN_DISPATCH(ctx, nmf_column_part_norms, svd.left.data(), n, r, left_norms.data());
  std::vector<double> x_norms(static_cast<std::size_t>(2 * r));
  copy_to_host(ctx, x_norms.data(), left_norms.data(), x_norms.size() * sizeof(double));

  std::vector<NndsvdComponent> u_parts(static_cast<std::size_t>(r)), w_parts(u_parts.size());
  u_parts[0] = w_parts[0] = {static_cast<float>(std::sqrt(svd.values[0])), NndsvdPart::absolute};
  for (std::int64_t j = 1; j < r; ++j) {
    const double x_pos = std::sqrt(x_norms[2 * j]), x_neg = std::sqrt(x_norms[2 * j + 1]);
    const double y_pos = norm_of(svd.right, j * p, p, 1), y_neg = norm_of(svd.right, j * p, p, -1);
    const double m_pos = x_pos * y_pos, m_neg = x_neg * y_neg;
    // The part with the larger norm product; its vectors normalized and
    // scaled by sqrt(s_j * that product).
    const bool positive = m_pos > m_neg;
    const double sigma = positive ? m_pos : m_neg;
    const double lambda = std::sqrt(svd.values[j] * sigma);
    const NndsvdPart part = positive ? NndsvdPart::positive : NndsvdPart::negative;
    const double x_norm = positive ? x_pos : x_neg, y_norm = positive ? y_pos : y_neg;
    u_parts[j] = {sigma > 0.0 ? static_cast<float>(lambda / x_norm) : 0.0f, part};
    w_parts[j] = {sigma > 0.0 ? static_cast<float>(lambda / y_norm) : 0.0f, part};
  }
  const float fill = options.init == nmf::Init::nndsvda ? static_cast<float>(mean_a) : 0.0f;

  Buffer<NndsvdComponent> parts(ctx, 2 * r);
  copy_to_device(ctx, parts.data(), u_parts.data(), u_parts.size() * sizeof(NndsvdComponent));
  copy_to_device(ctx, parts.data() + r, w_parts.data(), w_parts.size() * sizeof(NndsvdComponent));
  CUXPLAIN_DISPATCH(ctx, nmf_nndsvd_apply, svd.left.data(), n, r, false, parts.data(), fill, u);

  std::vector<float> right(svd.right.begin(), svd.right.end());
  Buffer<float> right_dev(ctx, r * p);
  copy_to_device(ctx, right_dev.data(), right.data(), right.size() * sizeof(float));
  CUXPLAIN_DISPATCH(ctx, nmf_nndsvd_apply, right_dev.data(), r, p, true, parts.data() + r, fill,
                    w);
  // Freeing the host vectors on return is safe: a copy from pageable memory
  // has staged its source by the time cudaMemcpyAsync returns.
}

}  // namespace

void symmetric_eigen(std::vector<double> a, std::int64_t k, std::vector<double>& values,
                     std::vector<double>& vectors) {
  // LAPACK's divide-and-conquer solver: ascending eigenvalues, the
  // eigenvectors in a's columns (column-major; a is symmetric, so its
  // row-major storage reads the same).
  CUXPLAIN_EXPECTS(k >= 1 && k <= 46340, "symmetric_eigen: k = ", k, " is out of LAPACK's range");
  const int n = static_cast<int>(k);
  std::vector<double> ascending(static_cast<std::size_t>(k));
  int info = 0, lwork = -1, liwork = -1, iwork_size = 0;
  double work_size = 0.0;
  dsyevd_("V", "U", &n, a.data(), &n, ascending.data(), &work_size, &lwork, &iwork_size, &liwork,
          &info, 1, 1);  // the workspace query
  CUXPLAIN_EXPECTS(info == 0, "symmetric_eigen: LAPACK dsyevd's workspace query failed (info ",
                   info, ")");
  lwork = static_cast<int>(work_size);
  liwork = iwork_size;
  std::vector<double> work(static_cast<std::size_t>(lwork));
  std::vector<int> iwork(static_cast<std::size_t>(liwork));
  dsyevd_("V", "U", &n, a.data(), &n, ascending.data(), work.data(), &lwork, iwork.data(), &liwork,
          &info, 1, 1);
  CUXPLAIN_EXPECTS(info == 0, "symmetric_eigen: LAPACK dsyevd did not converge (info ", info,
                   ") on a ", k, " x ", k, " Gram matrix");
  values.resize(static_cast<std::size_t>(k));
  vectors.resize(static_cast<std::size_t>(k * k));
  for (std::int64_t j = 0; j < k; ++j) {
    const std::int64_t from = k - 1 - j;  // descending
    values[j] = ascending[from];
    for (std::int64_t i = 0; i < k; ++i) vectors[i * k + j] = a[from * k + i];
  }
}

void nmf_initialize(const Context& ctx, const float* a, std::int64_t n, std::int64_t p,
                    const nmf::Options& options, double mean_a, float* u, float* w) {
  const std::int64_t r = options.rank;
  switch (options.init) {
    case nmf::Init::nndsvd:
    case nmf::Init::nndsvda:
      nndsvd(ctx, a, n, p, options, mean_a, u, w);
      return;
    case nmf::Init::random: {
      const float scale = static_cast<float>(std::sqrt(mean_a / static_cast<double>(r)));
      CUXPLAIN_DISPATCH(ctx, nmf_fill_random, u, n * r, nmf_random_key(options.seed, kNmfRandomUSalt),
                        scale, true);
      CUXPLAIN_DISPATCH(ctx, nmf_fill_random, w, r * p, nmf_random_key(options.seed, kNmfRandomWSalt),
                        scale, true);
      return;
    }
    case nmf::Init::custom:
      return;
  }
}

}  // namespace cuxplain::detail
