#pragma once
// The 64 Fashion-MNIST test images of tests/data/fashion_mnist_logits.txt
// (written by tests/data/make_fashion_mnist_fixture.py) with their labels
// and the exporter's logits.
#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace cuxplain::test {

struct Fixture {
  std::int64_t count = 0, classes = 0, h = 0, w = 0;
  std::vector<int> labels;
  std::vector<float> pixels;  // count x 1 x h x w, byte / 255
  std::vector<float> logits;  // count x classes
};

inline Fixture read_fixture() {
  std::ifstream in(std::string(CUXPLAIN_TEST_DATA_DIR) + "/fashion_mnist_logits.txt");
  Fixture f;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream words(line);
    std::string key;
    words >> key;
    if (key == "fashion_mnist_fixture") {
      words >> f.count >> f.classes >> f.h >> f.w;
    } else if (key == "image") {
      int index = 0, label = 0;
      words >> index >> label;
      f.labels.push_back(label);
    } else if (key == "pixels") {
      std::string hex;
      words >> hex;
      for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
        f.pixels.push_back(static_cast<float>(std::stoi(hex.substr(i, 2), nullptr, 16)) / 255.0f);
      }
    } else if (key == "logits") {
      float v = 0.0f;
      while (words >> v) f.logits.push_back(v);
    }
  }
  return f;
}

}  // namespace cuxplain::test
