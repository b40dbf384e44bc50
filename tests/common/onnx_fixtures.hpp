#pragma once
// The exported-classifier fixtures of tests/data/onnx (make_fixtures.py for
// torch exports, make_keras_fixture.py for a tf2onnx export): each
// <name>.onnx with <name>.io, its inputs and onnxruntime's outputs.
#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

namespace cuxplain::test {

inline const std::vector<std::string>& onnx_fixture_names() {
  static const std::vector<std::string> names = {
      "resnet18",    "mobilenet_v2", "efficientnet_b0", "mobilenet_v3_small", "squeezenet",
      "densenet121", "vgg16",        "resnet50",        "channels_last_mix",  "keras_cnn",
      "keras_cnn_autopad"};
  return names;
}

inline std::string onnx_fixture_path(const std::string& name, const char* ext) {
  return std::string(CUXPLAIN_TEST_DATA_DIR) + "/onnx/" + name + ext;
}

struct OnnxFixtureIo {
  std::int64_t n = 0, in_size = 0, out_size = 0;
  std::vector<float> inputs, outputs;
};

inline OnnxFixtureIo read_onnx_fixture_io(const std::string& name) {
  std::ifstream in(onnx_fixture_path(name, ".io"), std::ios::binary);
  const std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::int32_t header[3];
  if (bytes.size() < sizeof header) throw std::runtime_error("cannot read " + name + ".io");
  std::memcpy(header, bytes.data(), sizeof header);
  OnnxFixtureIo io;
  io.n = header[0];
  io.in_size = header[1];
  io.out_size = header[2];
  const std::size_t floats = static_cast<std::size_t>(io.n * (io.in_size + io.out_size));
  if (bytes.size() != sizeof header + floats * sizeof(float)) {
    throw std::runtime_error(name + ".io has " + std::to_string(bytes.size()) + " bytes");
  }
  io.inputs.resize(static_cast<std::size_t>(io.n * io.in_size));
  io.outputs.resize(static_cast<std::size_t>(io.n * io.out_size));
  std::memcpy(io.inputs.data(), bytes.data() + sizeof header, io.inputs.size() * sizeof(float));
  std::memcpy(io.outputs.data(), bytes.data() + sizeof header + io.inputs.size() * sizeof(float),
              io.outputs.size() * sizeof(float));
  return io;
}

}  // namespace cuxplain::test
