// Fuzz target: the Fashion-MNIST test set from arbitrary bytes. The input
// is the images file's length (2 bytes, little endian), the images file,
// then the labels file. parse_fashion_mnist either returns a set or throws
// std::runtime_error; a set must hold exactly count images of rows x cols
// bytes and count labels 0..9.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <vector>

#include "fashion_mnist.hpp"

namespace {

/// A broken invariant: says which, then aborts (libFuzzer keeps the input).
#define REQUIRE(cond)                                                           \
  do {                                                                          \
    if (!(cond)) {                                                              \
      std::fprintf(stderr, "%s:%d: %s does not hold\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                             \
    }                                                                           \
  } while (0)

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace cuxplain::cli;
  if (size < 2) return 0;
  std::size_t split = static_cast<std::size_t>(data[0]) | static_cast<std::size_t>(data[1]) << 8;
  if (split > size - 2) split = size - 2;
  const std::vector<unsigned char> images(data + 2, data + 2 + split);
  const std::vector<unsigned char> labels(data + 2 + split, data + size);
  FashionMnist set;
  try {
    set = parse_fashion_mnist(images, "images", labels, "labels");
  } catch (const std::runtime_error&) {
    return 0;
  }
  REQUIRE(set.count >= 0 && set.rows >= 0 && set.cols >= 0);
  REQUIRE(set.labels.size() == static_cast<std::size_t>(set.count));
  REQUIRE(set.pixels.size() == static_cast<std::size_t>(set.count * set.rows * set.cols));
  unsigned sum = 0;
  for (std::int64_t i = 0; i < set.count; ++i) {
    REQUIRE(set.labels[static_cast<std::size_t>(i)] <= 9);
    const unsigned char* image = set.image(i);
    for (std::int64_t p = 0; p < set.rows * set.cols; ++p) sum += image[p];
  }
  // Every pixel was read (a sanitizer checks each read is in bounds); the
  // sum goes to a volatile so that the reads are kept.
  static volatile unsigned sink;
  sink = sum;
  return 0;
}
