// CRAFT benchmarks.
//  - crops: 64 ImageNet-sized images (224 x 224 x 3, NCHW), xplique's
//    patch 64 (stride 51, 4 x 4 crops each): the 1024 crops resized back to
//    224 x 224. items = output elements; bytes = crops written.
//  - fashion_mnist: the embedded model cut after its second pool (g: input ->
//    32 x 7 x 7, h: -> 10 logits), on 28 x 28 images whose pixels come from a
//    fixed hash (the timing depends on the sizes, barely on the content):
//    fit on 1000 images (patch 10: 9000 crops, 10 concepts, default NMF),
//    concept_importance and concept_maps on 100 images. Wall-clock on the
//    host (OpenMP and OpenBLAS threads), CUDA events on a device.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>
#include <vector>

#include <cuxplain/core/buffer.hpp>
#include <cuxplain/core/memory.hpp>
#include <cuxplain/craft.hpp>
#include <cuxplain/onnx.hpp>

#include "bench_common.hpp"

namespace {

using namespace cuxplain;

constexpr const char* kCut = "/features/features.7/MaxPool_output_0";

std::vector<float> hashed_pixels(std::int64_t count) {
  std::vector<float> pixels(static_cast<std::size_t>(count));
  std::uint64_t state = 0x9e3779b97f4a7c15ull;
  for (float& p : pixels) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    p = static_cast<float>(state >> 40) / 16777216.0f;
  }
  return pixels;
}

/// Host images, or a device copy that lives as long as this object.
struct Images {
  Images(const Context& ctx, std::int64_t n, std::int64_t c, std::int64_t h, std::int64_t w)
      : host(hashed_pixels(n * c * h * w)), device(ctx, ctx.is_cuda() ? n * c * h * w : 0) {
    const float* data = host.data();
    if (ctx.is_cuda()) {
      copy_to_device(ctx, device.data(), host.data(), host.size() * sizeof(float));
      data = device.data();
    }
    view = {data, n, c, h, w, Layout::nchw};
  }
  std::vector<float> host;
  Buffer<float> device;
  ConstImageView view;
};

/// Times `work` on either backend: CUDA events, or the wall clock.
template <class Work>
void time_work(benchmark::State& state, const Context& ctx, Work&& work) {
#if CUXPLAIN_WITH_CUDA
  if (ctx.is_cuda()) {
    bench::time_cuda(state, ctx, work);
    return;
  }
#endif
  for (auto _ : state) work();
}

void crops_case(benchmark::State& state, const Context& ctx) {
  const Images images(ctx, 64, 3, 224, 224);
  const craft::CropGrid grid = craft::crop_grid(224, 224, 64);
  const std::int64_t crops = images.view.n * grid.per_image();
  Buffer<float> out(ctx, crops * images.view.image_size());
  time_work(state, ctx, [&] { craft::extract_crops(ctx, images.view, 64, 0, crops, out.data()); });
  const double elements = static_cast<double>(out.size());
  bench::set_throughput(state, 4.0 * elements, elements);
#if CUXPLAIN_WITH_CUDA
  if (ctx.is_cuda()) bench::set_percent_of_peak(state, 4.0 * elements);
#endif
}

enum class Stage { fit, importance, maps };

void fashion_case(benchmark::State& state, const Context& ctx, Stage stage) {
  const nn::SplitNetwork parts =
      nn::load_onnx_split(ctx, std::string(CUXPLAIN_MODELS_DIR) + "/fashion_mnist_cnn.onnx", kCut);
  const craft::SplitModel model = craft::split_model(ctx, parts.g, parts.h);
  craft::CraftOptions options;
  options.patch_size = 10;
  options.nmf.rank = 10;
  options.batch_size = 256;
  const Images fit_images(ctx, 1000, 1, 28, 28);
  const Images images(ctx, 100, 1, 28, 28);
  craft::Concepts concepts = craft::fit(ctx, model, fit_images.view, options);
  const std::vector<int> targets(100, 0);
  Buffer<float> importances(ctx, concepts.rank);
  Buffer<float> maps(ctx, 100 * concepts.rank * 28 * 28);
  time_work(state, ctx, [&] {
    switch (stage) {
      case Stage::fit:
        concepts = craft::fit(ctx, model, fit_images.view, options);
        break;
      case Stage::importance:
        craft::concept_importance(ctx, model, concepts.W.data(), concepts.rank, images.view,
                                  targets, importances.data(), options);
        break;
      case Stage::maps:
        craft::concept_maps(ctx, model, concepts.W.data(), concepts.rank, images.view, maps.data(),
                            options);
        break;
    }
  });
  state.counters["nmf_iterations"] = static_cast<double>(concepts.nmf.iterations);
}

void register_cases(const char* backend, const Context& ctx) {
  const auto finish = [&](benchmark::internal::Benchmark* b) {
    b->Unit(benchmark::kMillisecond);
    if (ctx.is_cuda()) {
      b->UseManualTime();
    } else {
      b->UseRealTime();
    }
  };
  finish(benchmark::RegisterBenchmark(
      (std::string(backend) + "/craft/crops/n:64/224x224x3/patch:64").c_str(), crops_case, ctx));
  if (!nn::onnx_available()) return;
  const std::pair<Stage, const char*> stages[] = {{Stage::fit, "fit/images:1000/crops:9000"},
                                                  {Stage::importance, "importance/images:100"},
                                                  {Stage::maps, "maps/images:100"}};
  for (const auto& [stage, label] : stages) {
    finish(benchmark::RegisterBenchmark(
               (std::string(backend) + "/craft/fashion_mnist/" + label + "/rank:10").c_str(),
               fashion_case, ctx, stage)
               ->Iterations(3));
  }
}

}  // namespace

int main(int argc, char** argv) {
  register_cases("host", Context::host());
  return bench::run_benchmarks(argc, argv, [] {
#if CUXPLAIN_WITH_CUDA
    static const bench::CudaStream stream;
    register_cases("cuda", Context::cuda(stream.get()));
#endif
  });
}
