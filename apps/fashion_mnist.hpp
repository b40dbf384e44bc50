#pragma once
// The Fashion-MNIST test set (t10k) as Debian's dataset-fashion-mnist ships
// it: IDX files of unsigned bytes, gzip-compressed or raw.
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace cuxplain::cli {

/// The Debian package's directory.
constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";

/// The test set: count images of rows x cols bytes (row-major, image after
/// image) and their labels 0..9.
struct FashionMnist {
  std::int64_t count = 0;
  std::int64_t rows = 0;
  std::int64_t cols = 0;
  std::vector<unsigned char> pixels;
  std::vector<unsigned char> labels;
  std::string images_file;  ///< the files read
  std::string labels_file;

  const unsigned char* image(std::int64_t i) const {
    return pixels.data() + static_cast<std::size_t>(i * rows * cols);
  }
};

/// Reads t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte from `dir`, each
/// raw or as FILE.gz (the raw file is preferred when both exist; .gz needs a
/// build with zlib). Throws std::runtime_error naming the file: missing
/// (saying to install dataset-fashion-mnist or pass --data), unreadable,
/// not an unsigned-byte IDX file of the expected rank, truncated, labels
/// above 9, or image and label counts that differ.
FashionMnist read_fashion_mnist_test(const std::string& dir);

}  // namespace cuxplain::cli
