// Embeds cuxplain the way an application does: a synthetic scene, a model
// whose answer is known (it reads two grid cells and nothing else), and Sobol
// and HSIC attribution asked which cells matter. Prints each score grid and
// the cells found; exits non-zero if they are not the two the model reads
// (and, for Sobol, if any other cell scores other than exactly 0).
//
//   synthetic_scene [--method sobol|hsic|all] [--device cpu|cuda] [--grid-size G]
//                   [--nb-design N]
#include <cuxplain/cuxplain.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <numeric>
#include <random>
#include <string>
#include <vector>

namespace {

constexpr std::int64_t kChannels = 3, kHeight = 64, kWidth = 64, kClasses = 3;

struct Cell {
  std::int64_t row, col;
};

/// The "detector": class 1 fires when both regions are bright. It reads the
/// pixels of two cells of the grid only, so every other cell must score 0.
struct SyntheticModel {
  std::int64_t grid;
  Cell eye, mouth;

  float region_mean(const float* image, Cell cell, std::int64_t channel) const {
    const std::int64_t ch = kHeight / grid, cw = kWidth / grid;
    double sum = 0.0;
    for (std::int64_t y = cell.row * ch; y < (cell.row + 1) * ch; ++y)
      for (std::int64_t x = cell.col * cw; x < (cell.col + 1) * cw; ++x)
        sum += image[(channel * kHeight + y) * kWidth + x];  // NCHW
    return static_cast<float>(sum / static_cast<double>(ch * cw));
  }

  void forward_host(const float* images, std::int64_t n, float* outputs) const {
    const std::int64_t image_size = kChannels * kHeight * kWidth;
    for (std::int64_t i = 0; i < n; ++i) {
      const float* image = images + i * image_size;
      const float a = region_mean(image, eye, 0);
      const float b = region_mean(image, mouth, 1);
      outputs[i * kClasses + 0] = 1.0f - a;
      outputs[i * kClasses + 1] = std::tanh(2.0f * a) * (0.5f + b) + 0.25f * b * b;
      outputs[i * kClasses + 2] = 0.1f;
    }
  }
};

std::vector<float> make_scene(const SyntheticModel& model, std::uint32_t seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> noise(0.0f, 0.2f);
  std::vector<float> image(kChannels * kHeight * kWidth);
  for (std::int64_t c = 0; c < kChannels; ++c)
    for (std::int64_t y = 0; y < kHeight; ++y)
      for (std::int64_t x = 0; x < kWidth; ++x)
        image[(c * kHeight + y) * kWidth + x] = 0.3f * y / kHeight + noise(gen);
  // Bright objects where the model looks.
  const std::int64_t ch = kHeight / model.grid, cw = kWidth / model.grid;
  for (const Cell& cell : {model.eye, model.mouth})
    for (std::int64_t c = 0; c < kChannels; ++c)
      for (std::int64_t y = cell.row * ch; y < (cell.row + 1) * ch; ++y)
        for (std::int64_t x = cell.col * cw; x < (cell.col + 1) * cw; ++x)
          image[(c * kHeight + y) * kWidth + x] = 0.9f + noise(gen) * 0.5f;
  return image;
}

[[noreturn]] void usage(const char* message) {
  std::fprintf(stderr,
               "error: %s\nusage: synthetic_scene [--method sobol|hsic|all] [--device cpu|cuda] "
               "[--grid-size G] [--nb-design N]\n",
               message);
  std::exit(2);
}

/// Prints a method's score grid and whether its two best cells are the two the
/// model reads (and, where asked, whether every other cell is exactly 0).
bool report(const char* method, const std::vector<float>& scores, std::int64_t grid,
            const SyntheticModel& truth, std::int64_t designs, std::int64_t forwards,
            double seconds, bool others_must_be_zero) {
  std::printf("\n%s attribution: grid %lld x %lld, %lld designs, %lld model evaluations, %.3f s\n",
              method, static_cast<long long>(grid), static_cast<long long>(grid),
              static_cast<long long>(designs), static_cast<long long>(forwards), seconds);
  for (std::int64_t r = 0; r < grid; ++r) {
    for (std::int64_t c = 0; c < grid; ++c)
      std::printf(" %8.3f", scores[static_cast<std::size_t>(r * grid + c)]);
    std::printf("\n");
  }
  std::vector<std::int64_t> order(scores.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](std::int64_t a, std::int64_t b) { return scores[a] > scores[b]; });
  const auto index = [&](Cell cell) { return cell.row * grid + cell.col; };
  const bool found =
      std::min(order[0], order[1]) == std::min(index(truth.eye), index(truth.mouth)) &&
      std::max(order[0], order[1]) == std::max(index(truth.eye), index(truth.mouth));
  const bool others_zero = std::all_of(order.begin() + 2, order.end(),
                                       [&](std::int64_t k) { return scores[k] == 0.0f; });
  std::printf("cells found (row, col): (%lld, %lld) (%lld, %lld); the model reads (%lld, %lld) "
              "(%lld, %lld): %s\n",
              static_cast<long long>(order[0] / grid), static_cast<long long>(order[0] % grid),
              static_cast<long long>(order[1] / grid), static_cast<long long>(order[1] % grid),
              static_cast<long long>(truth.eye.row), static_cast<long long>(truth.eye.col),
              static_cast<long long>(truth.mouth.row), static_cast<long long>(truth.mouth.col),
              found ? "match" : "MISMATCH");
  if (others_must_be_zero)
    std::printf("every other cell scores exactly 0: %s\n", others_zero ? "yes" : "NO");
  return found && (others_zero || !others_must_be_zero);
}

}  // namespace

int main(int argc, char** argv) {
  std::string device = "cpu", method = "all";
  std::int64_t grid = 8, nb_design = 0;  // 0: each method's default (xplique's)
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (i + 1 >= argc) usage(("missing value for " + arg).c_str());
    if (arg == "--device") device = argv[++i];
    else if (arg == "--method") method = argv[++i];
    else if (arg == "--grid-size") grid = std::atoll(argv[++i]);
    else if (arg == "--nb-design") nb_design = std::atoll(argv[++i]);
    else usage(("unknown option " + arg).c_str());
  }
  if (device != "cpu" && device != "cuda") usage("--device must be cpu or cuda");
  if (method != "sobol" && method != "hsic" && method != "all")
    usage("--method must be sobol, hsic or all");
  if (grid < 2 || kHeight % grid != 0) usage("--grid-size must divide 64 and be >= 2");

  const SyntheticModel truth{grid, {grid / 4, grid - 2}, {grid - 1, 1}};
  const std::vector<float> scene = make_scene(truth, 7);
  const int target = 1;

  try {
    cuxplain::Context ctx =
        device == "cuda" ? cuxplain::Context::cuda() : cuxplain::Context::host();
    cuxplain::Buffer<float> image(ctx, static_cast<std::int64_t>(scene.size()));
    cuxplain::copy_to_device(ctx, image.data(), scene.data(), scene.size() * sizeof(float));

    // The callback sees batches on ctx's device. This model is plain C++, so on
    // CUDA it copies the batch to the host (copy_to_host waits for the stream).
    std::int64_t forwards = 0;
    cuxplain::Model model{kClasses, [&](cuxplain::ConstImageView batch, float* outputs) {
      forwards += batch.n;
      if (ctx.is_host()) return truth.forward_host(batch.data, batch.n, outputs);
      std::vector<float> host_batch(static_cast<std::size_t>(batch.size()));
      cuxplain::copy_to_host(ctx, host_batch.data(), batch.data, host_batch.size() * sizeof(float));
      std::vector<float> host_outputs(static_cast<std::size_t>(batch.n * kClasses));
      truth.forward_host(host_batch.data(), batch.n, host_outputs.data());
      cuxplain::copy_to_device(ctx, outputs, host_outputs.data(), host_outputs.size() * sizeof(float));
    }};

    const cuxplain::ConstImageView images{image.data(), 1, kChannels, kHeight, kWidth,
                                          cuxplain::Layout::nchw};
    const std::vector<int> targets{target};
    cuxplain::Buffer<float> scores(ctx, grid * grid);
    std::printf("A %lldx%lldx%lld synthetic scene on the %s backend; the model's class %d reads "
                "two grid cells only.\n",
                static_cast<long long>(kChannels), static_cast<long long>(kHeight),
                static_cast<long long>(kWidth), device.c_str(), target);
    bool ok = true;
    const auto timed = [&](auto&& run) {
      forwards = 0;
      const auto start = std::chrono::steady_clock::now();
      run();
      const std::vector<float> result = cuxplain::to_host(ctx, scores.data(), grid * grid);
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      return std::make_pair(result, seconds);
    };

    if (method == "sobol" || method == "all") {
      cuxplain::SobolOptions options;  // grid 8, 32 designs, Jansen, inpainting
      options.grid_size = grid;
      if (nb_design > 0) options.nb_design = nb_design;
      const auto [st, seconds] = timed([&] {
        cuxplain::sobol_attribution(ctx, model, images, targets, scores.data(), options);
      });
      ok &= report("Sobol (total order)", st, grid, truth, options.nb_design, forwards, seconds,
                   /*others_must_be_zero=*/true);
    }
    if (method == "hsic" || method == "all") {
      cuxplain::HsicOptions options;  // grid 8, 500 binary Sobol designs, binary kernel
      options.grid_size = grid;
      if (nb_design > 0) options.nb_design = nb_design;
      const auto [hsic, seconds] = timed([&] {
        cuxplain::hsic_attribution(ctx, model, images, targets, scores.data(), options);
      });
      ok &= report("HSIC", hsic, grid, truth, options.nb_design, forwards, seconds,
                   /*others_must_be_zero=*/false);
    }
    return ok ? 0 : 1;
  } catch (const cuxplain::Error& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
}
