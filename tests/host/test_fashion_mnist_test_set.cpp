// The embedded Fashion-MNIST model on the whole test set (10000 images from
// Debian's dataset-fashion-mnist): every predicted class equals the ONNX
// reference evaluator's (tests/data/fashion_mnist_logits.txt) and so does the
// accuracy. The dataset is a test dependency (scripts/install_deps.sh): when
// it is missing the test fails and says what to install.
//
// With CUXPLAIN_FASHION_MNIST_LOGITS_OUT=<file> in the environment the test
// also writes the 10000 x 10 logits there (float32, native byte order, row-major)
// for tests/data/compare_test_set_logits.py, which compares them with the
// reference evaluator's.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#if CUXPLAIN_TEST_HAVE_ZLIB
#include <zlib.h>
#endif

#include <cuxplain/cuxplain.hpp>
#include <cuxplain/nn.hpp>
#include <cuxplain/onnx.hpp>

#include "common/test_utils.hpp"

namespace cuxplain {
namespace {

const std::string kModel = std::string(CUXPLAIN_MODELS_DIR) + "/fashion_mnist_cnn.onnx";
const std::string kDataDir = "/usr/share/datasets/fashion-mnist";
const std::string kInstallHint =
    "install the Debian package dataset-fashion-mnist (scripts/install_deps.sh does), "
    "or set CUXPLAIN_FASHION_MNIST_DIR to a directory with the t10k IDX files";

std::string data_dir() {
  const char* dir = std::getenv("CUXPLAIN_FASHION_MNIST_DIR");
  return dir != nullptr && *dir != '\0' ? std::string(dir) : kDataDir;
}

bool exists(const std::string& path) { return std::ifstream(path, std::ios::binary).good(); }

/// The bytes of `name` in the data directory, raw or gzip-compressed
/// (`name`.gz); an empty string with `error` set when neither can be read.
std::string read_bytes(const std::string& name, std::string& error) {
  const std::string raw = data_dir() + "/" + name;
  if (exists(raw)) {
    std::ifstream in(raw, std::ios::binary);
    std::ostringstream bytes;
    bytes << in.rdbuf();
    return bytes.str();
  }
  const std::string gz = raw + ".gz";
  if (!exists(gz)) {
    error = "neither " + raw + " nor " + gz + " exists: " + kInstallHint;
    return {};
  }
#if CUXPLAIN_TEST_HAVE_ZLIB
  gzFile file = gzopen(gz.c_str(), "rb");
  if (file == nullptr) {
    error = "cannot open " + gz;
    return {};
  }
  std::string out;
  char chunk[1 << 16];
  int got = 0;
  while ((got = gzread(file, chunk, sizeof chunk)) > 0) out.append(chunk, static_cast<std::size_t>(got));
  const bool failed = got < 0;
  gzclose(file);
  if (failed) {
    error = "cannot decompress " + gz;
    return {};
  }
  return out;
#else
  error = gz + " is gzip-compressed and this test was built without zlib (zlib1g-dev)";
  return {};
#endif
}

/// An IDX file of unsigned bytes: its dimensions and the data after the header.
struct Idx {
  std::vector<std::int64_t> dims;
  std::string data;
};

Idx read_idx(const std::string& name, std::string& error) {
  Idx idx;
  std::string bytes = read_bytes(name, error);
  if (!error.empty()) return idx;
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(bytes[i]); };
  if (bytes.size() < 4 || byte(0) != 0 || byte(1) != 0 || byte(2) != 0x08) {
    error = name + ": not an unsigned-byte IDX file";
    return idx;
  }
  const std::size_t ndim = byte(3);
  const std::size_t header = 4 + 4 * ndim;
  if (bytes.size() < header) {
    error = name + ": truncated IDX header";
    return idx;
  }
  std::int64_t count = 1;
  for (std::size_t d = 0; d < ndim; ++d) {
    const std::size_t at = 4 + 4 * d;
    const std::int64_t dim = (std::int64_t{byte(at)} << 24) | (std::int64_t{byte(at + 1)} << 16) |
                             (std::int64_t{byte(at + 2)} << 8) | std::int64_t{byte(at + 3)};
    idx.dims.push_back(dim);
    count *= dim;
  }
  if (static_cast<std::int64_t>(bytes.size() - header) != count) {
    error = name + ": " + std::to_string(bytes.size() - header) + " data bytes, expected " +
            std::to_string(count);
    return idx;
  }
  idx.data = bytes.substr(header);
  return idx;
}

struct Reference {
  std::string predictions;  // one digit per test image
  double accuracy = -1.0;
};

Reference read_reference() {
  std::ifstream in(std::string(CUXPLAIN_TEST_DATA_DIR) + "/fashion_mnist_logits.txt");
  Reference r;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string key;
    words >> key;
    if (key == "test_predictions") {
      std::int64_t n = 0;
      words >> n >> r.predictions;
      if (static_cast<std::int64_t>(r.predictions.size()) != n) r.predictions.clear();
    } else if (key == "test_accuracy") {
      words >> r.accuracy;
    }
  }
  return r;
}

std::int64_t argmax(const float* row, std::int64_t k) {
  return std::max_element(row, row + k) - row;
}

TEST(FashionMnistTestSet, EveryPredictionAndTheAccuracyMatchTheExporter) {
  if (!nn::onnx_available()) GTEST_SKIP() << "built without ONNX support";

  std::string error;
  const Idx images = read_idx("t10k-images-idx3-ubyte", error);
  ASSERT_TRUE(error.empty()) << error;
  const Idx labels = read_idx("t10k-labels-idx1-ubyte", error);
  ASSERT_TRUE(error.empty()) << error;
  ASSERT_EQ(images.dims, (std::vector<std::int64_t>{10000, 28, 28}));
  ASSERT_EQ(labels.dims, (std::vector<std::int64_t>{10000}));
  const std::int64_t n = 10000, pixels = 28 * 28;

  const Reference ref = read_reference();
  ASSERT_EQ(static_cast<std::int64_t>(ref.predictions.size()), n)
      << "test_predictions missing from fashion_mnist_logits.txt";
  ASSERT_GE(ref.accuracy, 0.0) << "test_accuracy missing from fashion_mnist_logits.txt";

  // The model's input convention: pixel byte / 255 as float32.
  std::vector<float> input(static_cast<std::size_t>(n * pixels));
  for (std::size_t i = 0; i < input.size(); ++i) {
    input[i] = static_cast<float>(static_cast<unsigned char>(images.data[i])) / 255.0f;
  }

  const Context ctx = Context::host();
  const nn::Network net = nn::load_onnx(ctx, kModel);
  ASSERT_EQ(net.input_shape(), (nn::Shape{1, 28, 28}));
  const std::int64_t classes = net.output_shape().size();
  ASSERT_EQ(classes, 10);

  std::vector<float> logits(static_cast<std::size_t>(n * classes), test::poison());
  const std::int64_t batch = 500;
  for (std::int64_t first = 0; first < n; first += batch) {
    const std::int64_t count = std::min(batch, n - first);
    net.forward(ctx, input.data() + first * pixels, count, logits.data() + first * classes);
  }

  std::int64_t mismatches = 0, correct = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    const float* row = logits.data() + i * classes;
    const std::int64_t predicted = argmax(row, classes);
    const std::int64_t expected = ref.predictions[static_cast<std::size_t>(i)] - '0';
    if (predicted != expected) {
      ++mismatches;
      std::ostringstream values;
      for (std::int64_t k = 0; k < classes; ++k) values << ' ' << row[k];
      ADD_FAILURE() << "image " << i << ": predicted " << predicted << ", the exporter "
                    << expected << "; logits" << values.str();
    }
    correct += predicted == static_cast<unsigned char>(labels.data[static_cast<std::size_t>(i)]);
  }
  const double accuracy = static_cast<double>(correct) / static_cast<double>(n);
  EXPECT_EQ(mismatches, 0);
  // The fixture prints the accuracy with enough digits for 10000 images.
  EXPECT_EQ(correct, std::llround(ref.accuracy * static_cast<double>(n)))
      << "accuracy " << accuracy << ", the exporter's " << ref.accuracy;

  RecordProperty("prediction_mismatches", std::to_string(mismatches));
  RecordProperty("test_accuracy", std::to_string(accuracy));
  std::printf("Fashion-MNIST test set: %lld prediction mismatches vs the exporter, accuracy %.4f "
              "(%lld/%lld; the exporter's %.4f)\n",
              static_cast<long long>(mismatches), accuracy, static_cast<long long>(correct),
              static_cast<long long>(n), ref.accuracy);

  if (const char* out = std::getenv("CUXPLAIN_FASHION_MNIST_LOGITS_OUT"); out != nullptr && *out) {
    std::ofstream file(out, std::ios::binary);
    file.write(reinterpret_cast<const char*>(logits.data()),
               static_cast<std::streamsize>(logits.size() * sizeof(float)));
    ASSERT_TRUE(file.good()) << "cannot write " << out;
    std::printf("wrote %lld x %lld float32 logits to %s\n", static_cast<long long>(n),
                static_cast<long long>(classes), out);
  }
}

}  // namespace
}  // namespace cuxplain
