#include "fashion_mnist.hpp"

#include <algorithm>
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
  std::error_code error;
  const std::uintmax_t size = fs::file_size(path, error);
  if (!error && size > kMaxIdxBytes) {
    throw std::runtime_error("'" + path + "' is " + std::to_string(size) +
                             " bytes, more than the " + std::to_string(kMaxIdxBytes) +
                             " an IDX file may have");
  }
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
  while ((got = gzread(file, chunk.data(), static_cast<unsigned>(chunk.size()))) > 0 &&
         bytes.size() <= kMaxIdxBytes) {
    bytes.insert(bytes.end(), chunk.begin(), chunk.begin() + got);
  }
  // gzread returns what it decompressed of a stream that ends early, then
  // 0; only gzerror's Z_BUF_ERROR tells that the end was unexpected.
  int code = Z_OK;
  const char* message = gzerror(file, &code);
  const std::string reason = message != nullptr ? message : "";
  gzclose(file);
  if (bytes.size() > kMaxIdxBytes) {
    throw std::runtime_error("'" + path + "' decompresses to more than the " +
                             std::to_string(kMaxIdxBytes) + " bytes an IDX file may have");
  }
  if (code == Z_BUF_ERROR) {
    throw std::runtime_error("'" + path + "' is truncated: the gzip stream ends after " +
                             std::to_string(bytes.size()) + " bytes (" + reason + ")");
  }
  if (got < 0 || code != Z_OK) {
    throw std::runtime_error("cannot decompress '" + path + "': " + reason);
  }
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

}  // namespace

IdxHeader parse_idx(const std::vector<unsigned char>& bytes, std::size_t rank,
                    const std::string& name) {
  if (bytes.size() < 4 || bytes[0] != 0 || bytes[1] != 0 || bytes[2] != 0x08 ||
      bytes[3] != rank) {
    throw std::runtime_error("'" + name + "' is not an IDX file of unsigned bytes with " +
                             std::to_string(rank) + " dimension" + (rank > 1 ? "s" : ""));
  }
  IdxHeader header;
  header.data_offset = 4 + 4 * rank;
  if (bytes.size() < header.data_offset) throw std::runtime_error("'" + name + "': truncated header");
  std::string shown;
  for (std::size_t d = 0; d < rank; ++d) {
    const std::size_t at = 4 + 4 * d;
    const std::int64_t dim = (std::int64_t{bytes[at]} << 24) | (std::int64_t{bytes[at + 1]} << 16) |
                             (std::int64_t{bytes[at + 2]} << 8) | std::int64_t{bytes[at + 3]};
    header.dims.push_back(dim);
    shown += (d > 0 ? " x " : "") + std::to_string(dim);
  }
  // Each dim is below 2^32, so three of them can pass 2^63: the product is
  // compared with the data present and never formed past it.
  const std::uint64_t present = bytes.size() - header.data_offset;
  std::uint64_t count = 1;
  if (std::find(header.dims.begin(), header.dims.end(), 0) != header.dims.end()) count = 0;
  for (std::int64_t dim : header.dims) {
    if (count == 0) break;
    const auto d = static_cast<std::uint64_t>(dim);
    if (count > present / d) {
      throw std::runtime_error("'" + name + "' has dims " + shown + ", more than the " +
                               std::to_string(present) + " data bytes it holds");
    }
    count *= d;
  }
  if (count != present) {
    throw std::runtime_error("'" + name + "': " + std::to_string(present) +
                             " data bytes, the header says " + shown + " = " +
                             std::to_string(count));
  }
  return header;
}

FashionMnist parse_fashion_mnist(const std::vector<unsigned char>& images,
                                 const std::string& images_file,
                                 const std::vector<unsigned char>& labels,
                                 const std::string& labels_file) {
  FashionMnist set;
  set.images_file = images_file;
  set.labels_file = labels_file;
  const IdxHeader image_header = parse_idx(images, 3, images_file);
  const IdxHeader label_header = parse_idx(labels, 1, labels_file);
  const std::vector<std::int64_t>& image_dims = image_header.dims;
  const std::vector<std::int64_t>& label_dims = label_header.dims;
  if (image_dims[0] != label_dims[0]) {
    throw std::runtime_error("'" + images_file + "' holds " + std::to_string(image_dims[0]) +
                             " images, '" + labels_file + "' " + std::to_string(label_dims[0]) +
                             " labels");
  }
  set.count = image_dims[0];
  set.rows = image_dims[1];
  set.cols = image_dims[2];
  set.pixels.assign(images.begin() + static_cast<std::ptrdiff_t>(image_header.data_offset),
                    images.end());
  set.labels.assign(labels.begin() + static_cast<std::ptrdiff_t>(label_header.data_offset),
                    labels.end());
  for (std::size_t i = 0; i < set.labels.size(); ++i) {
    if (set.labels[i] > 9) {
      throw std::runtime_error("'" + labels_file + "': label " + std::to_string(set.labels[i]) +
                               " of image " + std::to_string(i) + " is not a class 0..9");
    }
  }
  return set;
}

FashionMnist read_fashion_mnist_test(const std::string& dir) {
  std::string images_file, labels_file;
  const std::vector<unsigned char> images = read_file(dir, "t10k-images-idx3-ubyte", images_file);
  const std::vector<unsigned char> labels = read_file(dir, "t10k-labels-idx1-ubyte", labels_file);
  return parse_fashion_mnist(images, images_file, labels, labels_file);
}

}  // namespace cuxplain::cli
