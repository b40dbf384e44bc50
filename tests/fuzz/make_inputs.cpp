// Writes the fuzzers' seed corpus (small valid inputs), the regression inputs
// of the defects fixed by hand (each crashed, hung or reached undefined
// behaviour before its fix) and the malformed data directories of the
// command-line tests:
//
//   make_fuzz_inputs <repository>/tests
//
// writes fuzz/corpus/<target>/, fuzz/regressions/<target>/ and
// cli/data/. The files are committed; rerun this after changing it. Inputs
// the fuzzers find go to fuzz/regressions/<target>/ as they are.
#include <stb_image_write.h>
#include <zlib.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/onnx_models.hpp"

namespace fs = std::filesystem;
using namespace cuxplain::test::onnx_models;

namespace {

fs::path root;

void write(const fs::path& relative, const std::string& bytes) {
  const fs::path path = root / relative;
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + path.string());
  std::printf("%s (%zu bytes)\n", relative.c_str(), bytes.size());
}

void write_model(const fs::path& relative, const onnx::ModelProto& model) {
  write(relative, model.SerializeAsString());
}

std::vector<float> ramp(std::size_t n, float scale) {
  std::vector<float> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = scale * (static_cast<float>(i % 7) - 3.0f);
  return v;
}

// ---- ONNX ----

/// x 1x6x6 -> Conv 2x1x3x3 (pads 1, bias) -> BatchNormalization -> Relu ->
/// MaxPool 2x2 stride 2 -> Flatten -> Gemm (transB) -> y (4 classes).
onnx::ModelProto conv_net() {
  auto model = model_with_input(1, 6);
  add_initializer(model, "w", {2, 1, 3, 3}, ramp(18, 0.1f));
  add_initializer(model, "b", {2}, {0.1f, -0.1f});
  add_initializer(model, "scale", {2}, {1.5f, 0.5f});
  add_initializer(model, "shift", {2}, {0.0f, 0.25f});
  add_initializer(model, "mean", {2}, {0.1f, 0.2f});
  add_initializer(model, "var", {2}, {1.0f, 2.0f});
  add_raw_initializer(model, "fc", {4, 18}, ramp(72, 0.05f));
  add_raw_initializer(model, "fc_b", {4}, {0.0f, 0.1f, 0.2f, 0.3f});
  auto* conv = add_node(model, "Conv", "conv", {"x", "w", "b"}, "c");
  set_ints(conv, "kernel_shape", {3, 3});
  set_ints(conv, "pads", {1, 1, 1, 1});
  set_ints(conv, "strides", {1, 1});
  set_float(add_node(model, "BatchNormalization", "bn", {"c", "scale", "shift", "mean", "var"}, "n"),
            "epsilon", 1e-5f);
  add_node(model, "Relu", "relu", {"n"}, "r");
  auto* pool = add_node(model, "MaxPool", "pool", {"r"}, "p");
  set_ints(pool, "kernel_shape", {2, 2});
  set_ints(pool, "strides", {2, 2});
  add_node(model, "Flatten", "flat", {"p"}, "f");
  set_int(add_node(model, "Gemm", "fc", {"f", "fc", "fc_b"}, "y"), "transB", 1);
  set_output(model, "y");
  return model;
}

/// x N x 4 -> MatMul + Add (bias) -> Relu -> Dropout -> Gemm (alpha, beta)
/// -> Identity -> y.
onnx::ModelProto mlp() {
  auto model = model_with_input(std::vector<std::int64_t>{4});
  add_initializer(model, "w1", {4, 3}, ramp(12, 0.3f));
  add_initializer(model, "b1", {3}, {0.1f, 0.0f, -0.1f});
  add_initializer(model, "w2", {3, 2}, ramp(6, 0.2f));
  add_initializer(model, "b2", {2}, {0.5f, -0.5f});
  add_node(model, "MatMul", "mm", {"x", "w1"}, "m");
  add_node(model, "Add", "bias", {"m", "b1"}, "a");
  add_node(model, "Relu", "relu", {"a"}, "r");
  add_node(model, "Dropout", "drop", {"r"}, "d");
  auto* gemm = add_node(model, "Gemm", "head", {"d", "w2", "b2"}, "g");
  set_float(gemm, "alpha", 2.0f);
  set_float(gemm, "beta", 0.5f);
  add_node(model, "Identity", "same", {"g"}, "y");
  set_output(model, "y");
  return model;
}

/// x 2x4x4 -> Conv 1x1 -> Relu -> Add (x, residual) -> AveragePool (pads,
/// count_include_pad) -> GlobalAveragePool -> Reshape (Constant [0, -1]) ->
/// Gemm -> y.
onnx::ModelProto residual() {
  auto model = model_with_input(2, 4);
  add_initializer(model, "w", {2, 2, 1, 1}, {1.0f, -0.5f, 0.25f, 2.0f});
  add_initializer(model, "fc", {2, 3}, ramp(6, 0.4f));
  add_node(model, "Conv", "conv", {"x", "w"}, "c");
  add_node(model, "Relu", "relu", {"c"}, "r");
  add_node(model, "Add", "skip", {"r", "x"}, "s");
  auto* pool = add_node(model, "AveragePool", "avg", {"s"}, "p");
  set_ints(pool, "kernel_shape", {3, 3});
  set_ints(pool, "pads", {1, 1, 1, 1});
  set_int(pool, "count_include_pad", 1);
  add_node(model, "GlobalAveragePool", "gap", {"p"}, "g");
  auto* shape = add_node(model, "Constant", "shape", {}, "shape");
  auto* value = shape->add_attribute();
  value->set_name("value");
  value->set_type(onnx::AttributeProto::TENSOR);
  value->mutable_t()->set_data_type(onnx::TensorProto::INT64);
  value->mutable_t()->add_dims(2);
  value->mutable_t()->add_int64_data(0);
  value->mutable_t()->add_int64_data(-1);
  add_node(model, "Reshape", "reshape", {"g", "shape"}, "f");
  add_node(model, "Gemm", "head", {"f", "fc"}, "y");
  set_output(model, "y");
  return model;
}

/// As tf2onnx exports a Keras model: x N x 5x5x2 (channels last) -> Sub and
/// Mul by [1, 1, 1, 2] constants -> Transpose to NCHW -> Conv 3x3 stride 2
/// (auto_pad SAME_UPPER) -> Clip (ReLU6) -> MaxPool 2x2 (auto_pad
/// SAME_LOWER) -> GlobalAveragePool -> Squeeze -> MatMul + Add -> Softmax.
onnx::ModelProto channels_last() {
  auto model = model_with_input(std::vector<std::int64_t>{5, 5, 2});
  add_initializer(model, "mean", {1, 1, 1, 2}, {0.5f, 0.25f});
  add_initializer(model, "inv_std", {1, 1, 1, 2}, {4.0f, 2.0f});
  add_initializer(model, "w", {3, 2, 3, 3}, ramp(54, 0.1f));
  add_initializer(model, "lo", {}, {0.0f});
  add_initializer(model, "hi", {}, {6.0f});
  add_initializer(model, "fc", {3, 4}, ramp(12, 0.2f));
  add_initializer(model, "fc_b", {4}, {0.1f, 0.0f, -0.1f, 0.2f});
  add_node(model, "Sub", "center", {"x", "mean"}, "s");
  add_node(model, "Mul", "scale", {"s", "inv_std"}, "m");
  set_ints(add_node(model, "Transpose", "to_nchw", {"m"}, "t"), "perm", {0, 3, 1, 2});
  auto* conv = add_node(model, "Conv", "conv", {"t", "w"}, "c");
  set_ints(conv, "strides", {2, 2});
  set_string(conv, "auto_pad", "SAME_UPPER");
  add_node(model, "Clip", "relu6", {"c", "lo", "hi"}, "r");
  auto* pool = add_node(model, "MaxPool", "pool", {"r"}, "p");
  set_ints(pool, "kernel_shape", {2, 2});
  set_string(pool, "auto_pad", "SAME_LOWER");
  add_keras_softmax_head(model, "p", "fc", "fc_b", "y");
  set_output(model, "y");
  return model;
}

void onnx_inputs() {
  write_model("fuzz/corpus/onnx/conv_net.onnx", conv_net());
  write_model("fuzz/corpus/onnx/mlp.onnx", mlp());
  write_model("fuzz/corpus/onnx/residual.onnx", residual());
  write_model("fuzz/corpus/onnx/channels_last.onnx", channels_last());

  const std::int64_t p32 = std::int64_t{1} << 32;
  // [2^32, 2^32] wrapped to 0 elements and matched the missing data (SIGSEGV).
  for (const std::string op : {"Gemm", "MatMul"}) {
    auto model = model_with_input(std::vector<std::int64_t>{4});
    add_initializer(model, "w", {p32, p32}, {});
    add_node(model, op, "head", {"x", "w"}, "y");
    set_output(model, "y");
    write_model("fuzz/regressions/onnx/" + op + "_weight_dims_2p32.onnx", model);
  }
  // A bias of [2^62 + 5, 2] wrapped to the 40 bytes it held (length_error).
  {
    auto model = model_with_input(std::vector<std::int64_t>{4});
    add_initializer(model, "w", {4, 2}, std::vector<float>(8, 0.5f));
    add_raw_initializer(model, "c", {(std::int64_t{1} << 62) + 5, 2}, std::vector<float>(10, 1.0f));
    add_node(model, "Gemm", "head", {"x", "w", "c"}, "y");
    set_output(model, "y");
    write_model("fuzz/regressions/onnx/Gemm_bias_dims_2p62.onnx", model);
  }
  // [2^40, 0] with transB: 2^40 iterations of an empty loop.
  {
    auto model = model_with_input(std::vector<std::int64_t>{4});
    add_initializer(model, "w", {std::int64_t{1} << 40, 0}, {});
    set_int(add_node(model, "Gemm", "head", {"x", "w"}, "y"), "transB", 1);
    set_output(model, "y");
    write_model("fuzz/regressions/onnx/Gemm_weight_dims_2p40_0.onnx", model);
  }
  // A Reshape target whose product overflowed (undefined behaviour).
  {
    auto model = model_with_input(1, 2);
    add_int64_initializer(model, "shape", {4}, {1, std::int64_t{1} << 62, 4, -1});
    add_node(model, "Reshape", "reshape", {"x", "shape"}, "y");
    set_output(model, "y");
    write_model("fuzz/regressions/onnx/Reshape_product_overflow.onnx", model);
  }
  // Pads near 2^62 overflowed the window's output extent (undefined behaviour).
  {
    auto model = model_with_input(1, 4);
    add_initializer(model, "w", {1, 1, 3, 3}, std::vector<float>(9, 0.1f));
    const std::int64_t huge = std::int64_t{1} << 62;
    set_ints(add_node(model, "Conv", "conv", {"x", "w"}, "y"), "pads", {huge, 0, huge, 0});
    set_output(model, "y");
    write_model("fuzz/regressions/onnx/Conv_pads_2p62.onnx", model);
  }
  // Nodes without inputs: node.input(0) was protobuf's CHECK failure (abort).
  for (const std::string op : {"Relu", "MaxPool", "AveragePool", "GlobalAveragePool", "Flatten",
                               "BatchNormalization", "Identity", "Dropout", "Conv", "Gemm",
                               "MatMul", "Add", "Reshape"}) {
    auto model = model_with_input(1, 4);
    auto* node = add_node(model, op, "lonely", {}, "y");
    if (op == "MaxPool" || op == "AveragePool") set_ints(node, "kernel_shape", {2, 2});
    set_output(model, "y");
    write_model("fuzz/regressions/onnx/" + op + "_without_inputs.onnx", model);
  }
  write("fuzz/regressions/onnx/empty.onnx", "");
}

// ---- images ----

std::string file_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::vector<unsigned char> pattern(int w, int h, int c) {
  std::vector<unsigned char> p(static_cast<std::size_t>(w * h * c));
  for (std::size_t i = 0; i < p.size(); ++i) p[i] = static_cast<unsigned char>((i * 37 + 11) % 256);
  return p;
}

/// A PNG chunk: length, type, data, CRC of type and data.
std::string png_chunk(const std::string& type, const std::string& data) {
  std::string out;
  const auto be32 = [&](std::uint32_t v) {
    for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<char>((v >> s) & 0xff));
  };
  be32(static_cast<std::uint32_t>(data.size()));
  const std::string body = type + data;
  out += body;
  be32(static_cast<std::uint32_t>(
      crc32(0, reinterpret_cast<const Bytef*>(body.data()), static_cast<uInt>(body.size()))));
  return out;
}

void image_inputs() {
  const fs::path dir = root / "fuzz/corpus/image";
  fs::create_directories(dir);
  const auto gray = pattern(4, 4, 1), rgb = pattern(3, 2, 3), rgba = pattern(2, 2, 4),
             big = pattern(8, 8, 3);
  stbi_write_png((dir / "gray_4x4.png").c_str(), 4, 4, 1, gray.data(), 4);
  stbi_write_png((dir / "rgb_3x2.png").c_str(), 3, 2, 3, rgb.data(), 9);
  stbi_write_png((dir / "rgba_2x2.png").c_str(), 2, 2, 4, rgba.data(), 8);
  stbi_write_bmp((dir / "rgb_3x2.bmp").c_str(), 3, 2, 3, rgb.data());
  stbi_write_tga((dir / "rgba_2x2.tga").c_str(), 2, 2, 4, rgba.data());
  stbi_write_jpg((dir / "rgb_8x8.jpg").c_str(), 8, 8, 3, big.data(), 90);
  for (const char* name : {"gray_4x4.png", "rgb_3x2.png", "rgba_2x2.png", "rgb_3x2.bmp",
                           "rgba_2x2.tga", "rgb_8x8.jpg"}) {
    std::printf("fuzz/corpus/image/%s (%ju bytes)\n", name,
                static_cast<std::uintmax_t>(fs::file_size(dir / name)));
  }
  write("fuzz/corpus/image/gray_4x4.pgm",
        "P5\n4 4\n255\n" + std::string(gray.begin(), gray.end()));
  write("fuzz/corpus/image/rgb_3x2.ppm", "P6\n3 2\n255\n" + std::string(rgb.begin(), rgb.end()));
  // 16-bit samples, reduced to 8 bits by the reader.
  write("fuzz/corpus/image/gray16_2x2.pgm", std::string("P5\n2 2\n65535\n") +
                                                std::string("\x12\x34\xff\xff\x00\x00\x80\x00", 8));
  // A 1 x 1 GIF: header, logical screen, 2-colour table, image descriptor,
  // LZW data, trailer.
  write("fuzz/corpus/image/gray_1x1.gif",
        std::string("GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff"
                    "\x2c\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02\x44\x01\x00\x3b",
                    35));

  // Zero height or width: the resizer asserted (SIGABRT) on the empty image.
  write("fuzz/regressions/image/zero_height.pgm", "P5\n16 0\n255\n");
  write("fuzz/regressions/image/zero_width.pgm", "P5\n0 16\n255\n");
  // A PNG header claiming 16000 x 16000 gray pixels (a real one is 746 KB
  // compressed and took 3 GB to decode): refused from the header alone.
  std::string ihdr;
  for (std::uint32_t v : {16000u, 16000u}) {
    for (int s = 24; s >= 0; s -= 8) ihdr.push_back(static_cast<char>((v >> s) & 0xff));
  }
  ihdr += std::string("\x08\x00\x00\x00\x00", 5);  // 8 bits, gray, deflate, filter 0, no interlace
  write("fuzz/regressions/image/header_16000x16000.png",
        std::string("\x89PNG\r\n\x1a\n", 8) + png_chunk("IHDR", ihdr) + png_chunk("IEND", ""));
}

// ---- IDX ----

std::string idx(const std::vector<std::uint32_t>& dims, const std::string& data) {
  std::string out("\x00\x00\x08", 3);
  out.push_back(static_cast<char>(dims.size()));
  for (std::uint32_t d : dims) {
    for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<char>((d >> s) & 0xff));
  }
  return out + data;
}

/// The IDX fuzzer's input: the images file's length (2 bytes, little
/// endian), the images file, the labels file.
std::string idx_pair(const std::string& images, const std::string& labels) {
  std::string out;
  out.push_back(static_cast<char>(images.size() & 0xff));
  out.push_back(static_cast<char>(images.size() >> 8));
  return out + images + labels;
}

void write_gz(const fs::path& relative, const std::string& bytes, std::uintmax_t keep) {
  const fs::path path = root / relative;
  fs::create_directories(path.parent_path());
  gzFile file = gzopen(path.c_str(), "wb9");
  if (file == nullptr || gzwrite(file, bytes.data(), static_cast<unsigned>(bytes.size())) <= 0) {
    throw std::runtime_error("cannot write " + path.string());
  }
  gzclose(file);
  if (keep > 0) fs::resize_file(path, keep);
  std::printf("%s (%ju bytes)\n", relative.c_str(), static_cast<std::uintmax_t>(fs::file_size(path)));
}

void idx_inputs() {
  const auto pixels = pattern(3 * 3, 2, 1);
  write("fuzz/corpus/idx/two_3x3_images.bin",
        idx_pair(idx({2, 3, 3}, std::string(pixels.begin(), pixels.end())),
                 idx({2}, std::string("\x07\x02", 2))));
  write("fuzz/corpus/idx/no_images.bin", idx_pair(idx({0, 28, 28}, ""), idx({0}, "")));

  // 2^31 x 2^31 x 4 wrapped to 0 bytes in int64 (undefined behaviour).
  write("fuzz/regressions/idx/dims_product_2p64.bin",
        idx_pair(idx({1u << 31, 1u << 31, 4}, ""), idx({0}, "")));
  write("fuzz/regressions/idx/dims_2p32_minus_1.bin",
        idx_pair(idx({0xffffffffu, 0xffffffffu, 0xffffffffu}, ""), idx({0xffffffffu}, "")));

  // cuxplain concepts --data DIR: the same overflow in a raw file, and a
  // gzip stream cut in the middle (reported as "not an IDX file").
  write("cli/data/idx_dims_overflow/t10k-images-idx3-ubyte", idx({1u << 31, 1u << 31, 4}, ""));
  write("cli/data/idx_dims_overflow/t10k-labels-idx1-ubyte", idx({1}, std::string(1, '\0')));
  const auto many = pattern(28 * 28, 40, 1);
  std::string labels;
  for (int i = 0; i < 40; ++i) labels.push_back(static_cast<char>(i % 10));
  const std::string images = idx({40, 28, 28}, std::string(many.begin(), many.end()));
  write_gz("cli/data/truncated_gz/t10k-images-idx3-ubyte.gz", images, 0);
  const std::uintmax_t whole = fs::file_size(root / "cli/data/truncated_gz/t10k-images-idx3-ubyte.gz");
  write_gz("cli/data/truncated_gz/t10k-images-idx3-ubyte.gz", images, whole / 2);
  write_gz("cli/data/truncated_gz/t10k-labels-idx1-ubyte.gz", idx({40}, labels), 0);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <repository>/tests\n", argv[0]);
    return 2;
  }
  root = argv[1];
  try {
    onnx_inputs();
    image_inputs();
    idx_inputs();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
