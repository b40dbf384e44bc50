// Malformed ONNX files: dims whose element count overflows or that the data
// does not back, nodes without their inputs, attributes of the wrong type or
// out of range, files that are directories or too large. Each is a
// cuxplain::Error naming the file, the node, the op and the tensor or
// attribute, never a crash or an out-of-bounds read.
#include <gtest/gtest.h>

#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <cuxplain/nn.hpp>
#include <cuxplain/nn.hpp>
#include <cuxplain/onnx.hpp>

#include "common/test_utils.hpp"


namespace cuxplain {
namespace {

namespace fs = std::filesystem;

TEST(OnnxInputs, DirectoryIsAnError) {
  if (!nn::onnx_available()) GTEST_SKIP() << "built without ONNX support";
  const fs::path dir = fs::path(::testing::TempDir()) / "cuxplain_model_dir.onnx";
  fs::create_directories(dir);
  const std::string message = test::error_message([&] { nn::read_onnx(dir.string()); });
  test::expect_mentions(message, "ONNX model '" + dir.string() + "' is a directory");
  fs::remove(dir);
}

TEST(OnnxInputs, FileBelowANonDirectoryIsAnErrorWithTheSystemsReason) {
  if (!nn::onnx_available()) GTEST_SKIP() << "built without ONNX support";
  const fs::path file = fs::path(::testing::TempDir()) / "cuxplain_plain_file";
  { std::ofstream(file) << "x"; }
  const std::string path = (file / "model.onnx").string();
  const std::string message = test::error_message([&] { nn::read_onnx(path); });
  test::expect_mentions(message, "cannot open ONNX model '" + path + "': Not a directory");
  fs::remove(file);
}

TEST(OnnxInputs, UnreadableFileIsAnError) {
  if (!nn::onnx_available()) GTEST_SKIP() << "built without ONNX support";
  if (geteuid() == 0) GTEST_SKIP() << "running as root: file permissions do not deny reading";
  const fs::path file = fs::path(::testing::TempDir()) / "cuxplain_unreadable.onnx";
  { std::ofstream(file) << "x"; }
  fs::permissions(file, fs::perms::none);
  const std::string message = test::error_message([&] { nn::read_onnx(file.string()); });
  test::expect_mentions(message, "cannot open ONNX model '" + file.string() + "': Permission denied");
  fs::remove(file);
}

TEST(OnnxInputs, FileLargerThanProtobufParsesIsRefusedBeforeReadingIt) {
  if (!nn::onnx_available()) GTEST_SKIP() << "built without ONNX support";
  // 3 GiB, sparse: reading it whole took 21 s and 6.4 GB before the size check.
  const fs::path file = fs::path(::testing::TempDir()) / "cuxplain_3gib.onnx";
  { std::ofstream(file) << "x"; }
  fs::resize_file(file, std::uintmax_t{3} << 30);
  const auto start = std::chrono::steady_clock::now();
  const std::string message = test::error_message([&] { nn::read_onnx(file.string()); });
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  fs::remove(file);
  test::expect_mentions(message, "ONNX model '" + file.string() + "' is 3221225472 bytes");
  test::expect_mentions(message, "2 GiB");
  // Reading 3 GiB takes seconds; the size check alone takes microseconds.
  EXPECT_LT(seconds, 2.0);
}

TEST(NetworkBuilderInputs, WindowsBeyondIntAreErrors) {
  // in + pads - kernel overflowed int64 with pads near 2^62 (undefined behaviour).
  const std::int64_t huge = std::int64_t{1} << 62;
  nn::NetworkBuilder b;
  const nn::NodeId x = b.input({1, 4, 4});
  nn::ConvParams conv;
  conv.pad_top = conv.pad_bottom = huge;
  test::expect_error([&] { b.conv(x, 1, 3, 3, std::vector<float>(9, 0.1f), {}, conv); },
                     "conv: kernel, strides and pads must be <= 2147483647, got kernel 3 x 3, "
                     "strides 1 x 1, pads [4611686018427387904, 0, 4611686018427387904, 0]");
  nn::PoolParams pool;
  pool.kernel_h = pool.kernel_w = 2;
  pool.stride_w = huge;
  test::expect_error([&] { b.max_pool(x, pool); }, "max_pool: kernel, strides and pads must be <= ");
  pool.stride_w = 1;
  pool.kernel_h = huge;
  test::expect_error([&] { b.avg_pool(x, pool); }, "got kernel 4611686018427387904 x 2");
  EXPECT_EQ(b.size(), 1);
}

}  // namespace
}  // namespace cuxplain
