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

/// The largest IDX file read: 1 GiB (the test set's images are 7.8 MB),
/// checked before a raw file is read and while a .gz one is decompressed.
constexpr std::size_t kMaxIdxBytes = std::size_t{1} << 30;

/// Reads t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte from `dir`, each
/// raw or as FILE.gz (the raw file is preferred when both exist; .gz needs a
/// build with zlib), and parses them with parse_fashion_mnist. Throws
/// std::runtime_error naming the file: missing (saying to install
/// dataset-fashion-mnist or pass --data), unreadable, a gzip stream that
/// ends early (truncated), larger than kMaxIdxBytes, or what
/// parse_fashion_mnist refuses.
FashionMnist read_fashion_mnist_test(const std::string& dir);

/// The dims of an unsigned-byte IDX file and where its data starts.
struct IdxHeader {
  std::vector<std::int64_t> dims;
  std::size_t data_offset = 0;
};

/// Checks that `bytes` are an unsigned-byte IDX file of `rank` dimensions
/// whose data is exactly the product of its dims (formed with overflow
/// checks); `name` names it in errors. Throws std::runtime_error otherwise.
IdxHeader parse_idx(const std::vector<unsigned char>& bytes, std::size_t rank,
                    const std::string& name);

/// The test set from the bytes of its two IDX files (rank 3 and rank 1; the
/// names go to errors and to images_file / labels_file): throws
/// std::runtime_error when parse_idx refuses either, when their counts
/// differ, or for a label above 9.
FashionMnist parse_fashion_mnist(const std::vector<unsigned char>& images,
                                 const std::string& images_file,
                                 const std::vector<unsigned char>& labels,
                                 const std::string& labels_file);

}  // namespace cuxplain::cli
