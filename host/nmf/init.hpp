#pragma once
// Starting points of cuxplain::nmf::fit (host/nmf/init.cpp): NNDSVD(a) from a
// randomized truncated SVD, and seeded random factors. Internal to host/.
#include <cstdint>
#include <vector>

#include <cuxplain/core/context.hpp>
#include <cuxplain/nmf.hpp>

namespace cuxplain::detail {

/// Writes the starting point of options.init (nndsvd, nndsvda or random) to
/// u (n x r) and w (r x p) for A (already checked: finite, >= 0, with mean
/// mean_a). Drives the backend's NMF ops; synchronizes a CUDA stream as
/// documented at nmf::fit.
void nmf_initialize(const Context& ctx, const float* a, std::int64_t n, std::int64_t p,
                    const nmf::Options& options, double mean_a, float* u, float* w);

/// Eigendecomposition of the symmetric k x k matrix `a` (row-major, double)
/// by LAPACK's dsyevd: values in descending order, vectors[i * k + j] the
/// i-th entry of the eigenvector of values[j].
void symmetric_eigen(std::vector<double> a, std::int64_t k, std::vector<double>& values,
                     std::vector<double>& vectors);

}  // namespace cuxplain::detail
