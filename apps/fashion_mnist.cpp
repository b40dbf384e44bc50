#include "fashion_mnist.hpp"

#include <filesystem>
#include <fstream>
#include <iterator>

#if CUXPLAIN_CLI_HAVE_ZLIB
#include <zlib.h>
#endif

namespace fs = std::filesystem;

namespace cuxplain::cli {
namespace {

const char kInstallHint[] =
    "install the Debian package dataset-fashion-mnist (apt-get install "
    "dataset-fashion-mnist) or pass --data DIR, a directory with the t10k IDX files "
    "(.gz or raw)";

std::vector<unsigned char> read_raw(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open '" + path + "'");
  std::vector<unsigned char> bytes((std::istreambuf_iterator<char>(in)),
                                   std::istreambuf_iterator<char>());
  if (in.bad()) throw std::runtime_error("cannot read '" + path + "'");
  return bytes;
}

std::vector<unsigned char> read_gz(const std::string& path) {
#if CUXPLAIN_CLI_HAVE_ZLIB
  gzFile file = gzopen(path.c_str(), "rb");
  if (file == nullptr) throw std::runtime_error("cannot open '" + path + "'");
  std::vector<unsigned char> bytes;
  std::vector<unsigned char> chunk(1 << 16);
  int got = 0;
  while ((got = gzread(file, chunk.data(), static_cast<unsigned>(chunk.size()))) > 0) {
    bytes.insert(bytes.end(), chunk.begin(), chunk.begin() + got);
  }
  int code = Z_OK;
  const char* message = got < 0 ? gzerror(file, &code) : nullptr;
  const std::string reason = message != nullptr ? message : "";
  gzclose(file);
  if (got < 0) throw std::runtime_error("cannot decompress '" + path + "': " + reason);
  return bytes;
#else
  throw std::runtime_error("'" + path +
                           "' is gzip-compressed and this cuxplain was built without zlib "
                           "(zlib1g-dev): decompress it with gunzip -k, or pass --data DIR with "
                           "the raw IDX files");
#endif
}

/// The bytes of `name` in `dir`, raw or `name`.gz; `path` is the file read.
std::vector<unsigned char> read_file(const std::string& dir, const std::string& name,
                                     std::string& path) {
  std::error_code error;
  if (!fs::is_directory(dir, error)) {
    throw std::runtime_error("no Fashion-MNIST data: '" + dir + "' is not a directory; " +
                             kInstallHint);
  }
  const fs::path raw = fs::path(dir) / name;
  fs::path gz = raw;
  gz += ".gz";
  if (fs::is_regular_file(raw, error)) {
    path = raw.string();
    return read_raw(path);
  }
  if (fs::is_regular_file(gz, error)) {
    path = gz.string();
    return read_gz(path);
  }
  throw std::runtime_error("no Fashion-MNIST test set in '" + dir + "': neither " + raw.string() +
                           " nor " + gz.string() + " exists; " + kInstallHint);
}

/// Checks an unsigned-byte IDX file of `rank` dimensions; returns them and
/// the offset of the data.
std::vector<std::int64_t> idx_dims(const std::vector<unsigned char>& bytes, std::size_t rank,
                                   const std::string& path, std::size_t& data_offset) {
  if (bytes.size() < 4 || bytes[0] != 0 || bytes[1] != 0 || bytes[2] != 0x08 ||
      bytes[3] != rank) {
    throw std::runtime_error("'" + path + "' is not an IDX file of unsigned bytes with " +
                             std::to_string(rank) + " dimension" + (rank > 1 ? "s" : ""));
  }
  data_offset = 4 + 4 * rank;
  if (bytes.size() < data_offset) throw std::runtime_error("'" + path + "': truncated header");
  std::vector<std::int64_t> dims;
  std::int64_t count = 1;
  for (std::size_t d = 0; d < rank; ++d) {
    const std::size_t at = 4 + 4 * d;
    const std::int64_t dim = (std::int64_t{bytes[at]} << 24) | (std::int64_t{bytes[at + 1]} << 16) |
                             (std::int64_t{bytes[at + 2]} << 8) | std::int64_t{bytes[at + 3]};
    dims.push_back(dim);
    count *= dim;
  }
  if (static_cast<std::int64_t>(bytes.size() - data_offset) != count) {
    throw std::runtime_error("'" + path + "': " + std::to_string(bytes.size() - data_offset) +
                             " data bytes, the header says " + std::to_string(count));
  }
  return dims;
}

}  // namespace

FashionMnist read_fashion_mnist_test(const std::string& dir) {
  FashionMnist set;
  const std::vector<unsigned char> images =
      read_file(dir, "t10k-images-idx3-ubyte", set.images_file);
  const std::vector<unsigned char> labels =
      read_file(dir, "t10k-labels-idx1-ubyte", set.labels_file);
  std::size_t image_offset = 0, label_offset = 0;
  const std::vector<std::int64_t> image_dims = idx_dims(images, 3, set.images_file, image_offset);
  const std::vector<std::int64_t> label_dims = idx_dims(labels, 1, set.labels_file, label_offset);
  if (image_dims[0] != label_dims[0]) {
    throw std::runtime_error("'" + set.images_file + "' holds " + std::to_string(image_dims[0]) +
                             " images, '" + set.labels_file + "' " +
                             std::to_string(label_dims[0]) + " labels");
  }
  set.count = image_dims[0];
  set.rows = image_dims[1];
  set.cols = image_dims[2];
  set.pixels.assign(images.begin() + static_cast<std::ptrdiff_t>(image_offset), images.end());
  set.labels.assign(labels.begin() + static_cast<std::ptrdiff_t>(label_offset), labels.end());
  for (std::size_t i = 0; i < set.labels.size(); ++i) {
    if (set.labels[i] > 9) {
      throw std::runtime_error("'" + set.labels_file + "': label " + std::to_string(set.labels[i]) +
                               " of image " + std::to_string(i) + " is not a class 0..9");
    }
  }
  return set;
}

}  // namespace cuxplain::cli
