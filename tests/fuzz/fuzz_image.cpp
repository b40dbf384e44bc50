// Fuzz target: an image file from arbitrary bytes, decoded as cuxplain
// explain does (RGB for the overlays and the model's channel count, here
// 1 + size % 4) and turned into a 28 x 28 model input. read_image_from_memory
// either returns an image or throws std::runtime_error; the image must be
// non-empty, within the pixel limit and hold exactly its pixels, and the
// model input must be 28 x 28 finite values.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <vector>

#include "image_io.hpp"

namespace {

// Smaller than the program's 2^26 so that each run stays fast; the check is
// the same code.
constexpr std::int64_t kFuzzMaxPixels = std::int64_t{1} << 16;

/// A broken invariant: says which, then aborts (libFuzzer keeps the input).
#define REQUIRE(cond)                                                           \
  do {                                                                          \
    if (!(cond)) {                                                              \
      std::fprintf(stderr, "%s:%d: %s does not hold\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                             \
    }                                                                           \
  } while (0)

void decode(const std::uint8_t* data, std::size_t size, int channels) {
  using namespace cuxplain::cli;
  Image8 image;
  try {
    image = read_image_from_memory(data, size, channels, "fuzz", kFuzzMaxPixels);
  } catch (const std::runtime_error&) {
    return;
  }
  REQUIRE(image.width >= 1 && image.height >= 1 && image.channels == channels);
  REQUIRE(std::int64_t{image.width} * image.height <= kFuzzMaxPixels);
  REQUIRE(image.pixels.size() ==
          static_cast<std::size_t>(image.width) * image.height * static_cast<std::size_t>(channels));
  const std::vector<float> input = to_model_input(image, channels, 28, 28, 255.0);
  REQUIRE(input.size() == static_cast<std::size_t>(28 * 28 * channels));
  for (float v : input) REQUIRE(std::isfinite(v));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  decode(data, size, 3);
  decode(data, size, 1 + static_cast<int>(size % 4));
  return 0;
}
