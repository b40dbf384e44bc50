// NMF on the CUDA backend against the host backend: the same iterations
// of both solvers from the same start (small sizes and sizes past the
// reductions' block cap), NNDSVD(a) and random starting points, the stopping
// rules (cd's whatever check_every), transform, the first invalid entry of a
// large A, and host memory handed to a CUDA context.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include <cuxplain/core/buffer.hpp>
#include <cuxplain/nmf.hpp>

#include "common/cuda_stream.hpp"
#include "common/nmf_cases.hpp"
#include "common/test_utils.hpp"

namespace cuxplain {
namespace {

using test::TestStream;

void expect_history_close(const nmf::Result& cuda, const nmf::Result& host, double relative) {
  ASSERT_EQ(cuda.loss_history.size(), host.loss_history.size());
  for (std::size_t k = 0; k < host.loss_history.size(); ++k) {
    EXPECT_NEAR(cuda.loss_history[k], host.loss_history[k], relative * host.loss_history[0])
        << "iteration " << k;
  }
}

struct FitCase {
  std::int64_t n, p, r;
  int iterations;
  bool penalties;
  nmf::Solver solver = nmf::Solver::mu;
};

std::string case_name(const ::testing::TestParamInfo<FitCase>& info) {
  const FitCase& c = info.param;
  return std::to_string(c.n) + "x" + std::to_string(c.p) + "r" + std::to_string(c.r) + "_it" +
         std::to_string(c.iterations) + (c.penalties ? "_penalties" : "") +
         (c.solver == nmf::Solver::mu ? "" : std::string("_") + nmf::to_string(c.solver));
}

class NmfCudaVsHost : public ::testing::TestWithParam<FitCase> {};

TEST_P(NmfCudaVsHost, SameIterationsFromTheSameStart) {
  CUXPLAIN_REQUIRE_CUDA();
  const FitCase param = GetParam();
  const TestStream stream;
  const Context host = Context::host();
  const Context cuda = Context::cuda(stream.get());
  const test::PlantedNmf problem = test::planted_nmf(param.n, param.p, param.r, 0.05, 31);
  nmf::Options options;
  options.rank = param.r;
  options.solver = param.solver;
  options.init = nmf::Init::custom;
  options.tol = 0.0;
  options.max_iter = param.iterations;
  options.loss_history = true;
  if (param.penalties) options.l1_u = 0.1f, options.l2_u = 0.3f, options.l1_w = 0.05f, options.l2_w = 0.2f;
  const std::vector<float> u0 = test::random_uniform(static_cast<std::size_t>(param.n * param.r), 2, 0.1f, 1.0f);
  const std::vector<float> w0 = test::random_uniform(static_cast<std::size_t>(param.r * param.p), 3, 0.1f, 1.0f);

  std::vector<float> u = u0, w = w0;
  const nmf::Result host_result = nmf::fit(host, problem.a.data(), param.n, param.p, options, u.data(), w.data());
  const Buffer<float> a_dev = test::upload(cuda, problem.a);
  Buffer<float> u_dev = test::upload(cuda, u0), w_dev = test::upload(cuda, w0);
  const nmf::Result cuda_result =
      nmf::fit(cuda, a_dev.data(), param.n, param.p, options, u_dev.data(), w_dev.data());

  EXPECT_EQ(cuda_result.iterations, param.iterations);
  test::expect_close(test::download(cuda, u_dev), u, 1e-4, "U");
  test::expect_close(test::download(cuda, w_dev), w, 1e-4, "W");
  expect_history_close(cuda_result, host_result, 1e-5);
  EXPECT_NEAR(cuda_result.relative_error, host_result.relative_error, 1e-4 * host_result.relative_error);
}

INSTANTIATE_TEST_SUITE_P(
    Sizes, NmfCudaVsHost,
    ::testing::Values(FitCase{40, 30, 4, 1, false}, FitCase{37, 53, 5, 10, true},
                      FitCase{300, 257, 25, 20, false},
                      // n r = 150000 and r p = 51200: past 512 blocks of 256 (grid-stride loops)
                      FitCase{6000, 2048, 25, 10, true},
                      FitCase{40, 30, 4, 1, false, nmf::Solver::cd},
                      FitCase{37, 53, 5, 10, true, nmf::Solver::cd},
                      FitCase{300, 257, 25, 20, false, nmf::Solver::cd},
                      FitCase{6000, 2048, 25, 10, true, nmf::Solver::cd},
                      // 40000 rows: past the sweep's 512 blocks of 64 threads (a thread per row)
                      FitCase{40000, 64, 8, 3, true, nmf::Solver::cd}),
    case_name);

TEST(NmfCuda, NndsvdAndRandomStartsMatchHost) {
  CUXPLAIN_REQUIRE_CUDA();
  const TestStream stream;
  const Context host = Context::host();
  const Context cuda = Context::cuda(stream.get());
  const test::PlantedNmf problem = test::planted_nmf(500, 300, 12, 0.02, 5);
  const Buffer<float> a_dev = test::upload(cuda, problem.a);
  for (nmf::Init init : {nmf::Init::nndsvd, nmf::Init::nndsvda, nmf::Init::random}) {
    nmf::Options options;
    options.rank = 10;
    options.init = init;
    options.seed = 3;
    std::vector<float> u(500 * 10), w(10 * 300);
    nmf::initialize(host, problem.a.data(), 500, 300, options, u.data(), w.data());
    Buffer<float> u_dev = test::poisoned(cuda, 500 * 10), w_dev = test::poisoned(cuda, 10 * 300);
    nmf::initialize(cuda, a_dev.data(), 500, 300, options, u_dev.data(), w_dev.data());
    // The random draws agree to the last bit of double log / cos; the SVD's
    // float GEMMs differ in summation order.
    const double relative = init == nmf::Init::random ? 1e-6 : 1e-3;
    test::expect_close(test::download(cuda, u_dev), u, relative, std::string(nmf::to_string(init)) + " U");
    test::expect_close(test::download(cuda, w_dev), w, relative, std::string(nmf::to_string(init)) + " W");
  }
}

TEST(NmfCuda, FitsPlantedProblemToTheNoiseLevelAndStopsLikeHost) {
  CUXPLAIN_REQUIRE_CUDA();
  const TestStream stream;
  const Context host = Context::host();
  const Context cuda = Context::cuda(stream.get());
  const test::PlantedNmf problem = test::planted_nmf(100, 80, 4, 0.05, 3);
  nmf::Options options;
  options.rank = 4;
  options.tol = 1e-5;
  options.max_iter = 2000;
  std::vector<float> u(100 * 4), w(4 * 80);
  const nmf::Result host_result = nmf::fit(host, problem.a.data(), 100, 80, options, u.data(), w.data());
  const Buffer<float> a_dev = test::upload(cuda, problem.a);
  Buffer<float> u_dev = test::poisoned(cuda, 100 * 4), w_dev = test::poisoned(cuda, 4 * 80);
  const nmf::Result result = nmf::fit(cuda, a_dev.data(), 100, 80, options, u_dev.data(), w_dev.data());
  EXPECT_TRUE(result.converged);
  EXPECT_EQ(result.iterations % options.check_every, 0);
  EXPECT_LE(result.relative_error, problem.noise_level);
  EXPECT_GE(result.relative_error, 0.9 * problem.noise_level);
  EXPECT_NEAR(result.relative_error, host_result.relative_error, 1e-2 * host_result.relative_error);
  for (float v : test::download(cuda, u_dev)) ASSERT_TRUE(v >= 0.0f && std::isfinite(v));
  for (float v : test::download(cuda, w_dev)) ASSERT_TRUE(v >= 0.0f && std::isfinite(v));
}

TEST(NmfCuda, TransformMatchesHost) {
  CUXPLAIN_REQUIRE_CUDA();
  const TestStream stream;
  const Context host = Context::host();
  const Context cuda = Context::cuda(stream.get());
  const test::PlantedNmf problem = test::planted_nmf(1000, 200, 8, 0.05, 9);
  nmf::Options options;
  options.rank = 8;
  options.tol = 0.0;
  options.max_iter = 30;
  options.l2_u = 0.5f;
  options.loss_history = true;
  std::vector<float> u(1000 * 8);
  const nmf::Result host_result = nmf::transform(host, problem.a.data(), 1000, 200, problem.w.data(), options, u.data());
  const Buffer<float> a_dev = test::upload(cuda, problem.a), w_dev = test::upload(cuda, problem.w);
  Buffer<float> u_dev = test::poisoned(cuda, 1000 * 8);
  const nmf::Result result = nmf::transform(cuda, a_dev.data(), 1000, 200, w_dev.data(), options, u_dev.data());
  test::expect_close(test::download(cuda, u_dev), u, 1e-4, "U");
  expect_history_close(result, host_result, 1e-5);
}

TEST(NmfCuda, CdStopsWhereHostStopsWhateverCheckEvery) {
  // The violation test runs on the device every iteration; check_every only
  // spaces the read-backs, and the sweeps enqueued after a stop do nothing.
  CUXPLAIN_REQUIRE_CUDA();
  const TestStream stream;
  const Context host = Context::host();
  const Context cuda = Context::cuda(stream.get());
  const test::PlantedNmf problem = test::planted_nmf(100, 80, 4, 0.05, 3);
  nmf::Options options;
  options.rank = 4;
  options.solver = nmf::Solver::cd;
  options.tol = 2e-3;
  options.max_iter = 500;
  options.loss_history = true;
  std::vector<float> u(100 * 4), w(4 * 80);
  const nmf::Result host_result = nmf::fit(host, problem.a.data(), 100, 80, options, u.data(), w.data());
  ASSERT_TRUE(host_result.converged);
  ASSERT_GT(host_result.iterations, 10);
  const Buffer<float> a_dev = test::upload(cuda, problem.a);
  std::vector<float> u_first, w_first;
  for (std::int64_t every : {1, 10, 7}) {
    options.check_every = every;
    Buffer<float> u_dev = test::poisoned(cuda, 100 * 4), w_dev = test::poisoned(cuda, 4 * 80);
    const nmf::Result result = nmf::fit(cuda, a_dev.data(), 100, 80, options, u_dev.data(), w_dev.data());
    EXPECT_TRUE(result.converged) << every;
    EXPECT_EQ(result.iterations, host_result.iterations) << every;
    ASSERT_EQ(result.loss_history.size(), static_cast<std::size_t>(result.iterations + 1)) << every;
    expect_history_close(result, host_result, 1e-5);
    const std::vector<float> cu = test::download(cuda, u_dev), cw = test::download(cuda, w_dev);
    test::expect_close(cu, u, 1e-4, "U");
    test::expect_close(cw, w, 1e-4, "W");
    if (every == 1) {
      u_first = cu, w_first = cw;
    } else {  // the same device computation up to the stop, then nothing
      EXPECT_EQ(cu, u_first) << every;
      EXPECT_EQ(cw, w_first) << every;
    }
  }
}

TEST(NmfCuda, CdTransformMatchesHost) {
  CUXPLAIN_REQUIRE_CUDA();
  const TestStream stream;
  const Context host = Context::host();
  const Context cuda = Context::cuda(stream.get());
  const test::PlantedNmf problem = test::planted_nmf(1000, 200, 8, 0.05, 9);
  const Buffer<float> a_dev = test::upload(cuda, problem.a), w_dev = test::upload(cuda, problem.w);
  for (double tol : {0.0, 1e-4}) {
    nmf::Options options;
    options.rank = 8;
    options.solver = nmf::Solver::cd;
    options.tol = tol;
    options.max_iter = 30;
    options.l1_u = 0.05f;
    options.l2_u = 0.5f;
    options.loss_history = true;
    std::vector<float> u(1000 * 8);
    const nmf::Result host_result =
        nmf::transform(host, problem.a.data(), 1000, 200, problem.w.data(), options, u.data());
    Buffer<float> u_dev = test::poisoned(cuda, 1000 * 8);
    const nmf::Result result = nmf::transform(cuda, a_dev.data(), 1000, 200, w_dev.data(), options, u_dev.data());
    EXPECT_EQ(result.iterations, host_result.iterations) << tol;
    EXPECT_EQ(result.converged, host_result.converged) << tol;
    test::expect_close(test::download(cuda, u_dev), u, 1e-4, "U");
    expect_history_close(result, host_result, 1e-5);
  }
}

TEST(NmfCuda, CdZeroMatrixStopsAtTheFirstIteration) {
  CUXPLAIN_REQUIRE_CUDA();
  const TestStream stream;
  const Context cuda = Context::cuda(stream.get());
  const Buffer<float> a_dev = test::upload(cuda, std::vector<float>(20 * 15, 0.0f));
  nmf::Options options;
  options.rank = 3;
  options.solver = nmf::Solver::cd;
  Buffer<float> u_dev = test::poisoned(cuda, 20 * 3), w_dev = test::poisoned(cuda, 3 * 15);
  const nmf::Result result = nmf::fit(cuda, a_dev.data(), 20, 15, options, u_dev.data(), w_dev.data());
  EXPECT_EQ(result.iterations, 1);
  EXPECT_TRUE(result.converged);
  EXPECT_EQ(result.relative_error, 0.0);
  for (float v : test::download(cuda, u_dev)) EXPECT_EQ(v, 0.0f);
  for (float v : test::download(cuda, w_dev)) EXPECT_EQ(v, 0.0f);
}

TEST(NmfCuda, ZeroMatrixGivesZeroFactors) {
  CUXPLAIN_REQUIRE_CUDA();
  const TestStream stream;
  const Context cuda = Context::cuda(stream.get());
  const Buffer<float> a_dev = test::upload(cuda, std::vector<float>(20 * 15, 0.0f));
  nmf::Options options;
  options.rank = 3;
  Buffer<float> u_dev = test::poisoned(cuda, 20 * 3), w_dev = test::poisoned(cuda, 3 * 15);
  const nmf::Result result = nmf::fit(cuda, a_dev.data(), 20, 15, options, u_dev.data(), w_dev.data());
  EXPECT_EQ(result.relative_error, 0.0);
  for (float v : test::download(cuda, u_dev)) EXPECT_EQ(v, 0.0f);
  for (float v : test::download(cuda, w_dev)) EXPECT_EQ(v, 0.0f);
}

TEST(NmfCuda, FirstInvalidEntryOfALargeMatrixIsReported) {
  CUXPLAIN_REQUIRE_CUDA();
  const TestStream stream;
  const Context cuda = Context::cuda(stream.get());
  const std::int64_t n = 1000, p = 700;  // 700000 entries: 512 blocks, each thread several
  std::vector<float> a = test::random_uniform(static_cast<std::size_t>(n * p), 12);
  a[650000] = -1.0f;
  a[400123] = std::numeric_limits<float>::infinity();  // the first: row 571, column 423
  a[131072 + 5] = 0.0f;
  Buffer<float> a_dev = test::upload(cuda, a);
  nmf::Options options;
  options.rank = 5;
  Buffer<float> u_dev(cuda, n * 5), w_dev(cuda, 5 * p);
  test::expect_error([&] { nmf::fit(cuda, a_dev.data(), n, p, options, u_dev.data(), w_dev.data()); },
                     "A has a non-finite entry inf at (571, 423)");
  a[400123] = 0.5f;
  a_dev = test::upload(cuda, a);
  test::expect_error([&] { nmf::fit(cuda, a_dev.data(), n, p, options, u_dev.data(), w_dev.data()); },
                     "A has a negative entry -1 at (928, 400)");
}

TEST(NmfCuda, HostPointersAreRejected) {
  CUXPLAIN_REQUIRE_CUDA();
  const Context cuda = Context::cuda();
  std::vector<float> a(6 * 5, 1.0f), u(6 * 2), w(2 * 5);
  nmf::Options options;
  options.rank = 2;
  test::expect_error([&] { nmf::fit(cuda, a.data(), 6, 5, options, u.data(), w.data()); },
                     "nmf::fit: A points to host memory");
}

}  // namespace
}  // namespace cuxplain
