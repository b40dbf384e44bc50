#pragma once
// The cases of tests/data/tf_resize_bicubic.txt (make_tf_resize_fixtures.py):
// tf.image.resize(method="bicubic") of float32 NHWC images, shared by the
// CRAFT crop tests and the upsample tests on both backends.
#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace cuxplain::test {

struct TfResizeCase {
  std::string name;  ///< the fixture's "case ..." line
  std::int64_t in_h, in_w, out_h, out_w, channels;
  std::vector<float> input, output;  ///< row-major, channel fastest
};

/// Every case of the fixture file; an unreadable or truncated file gives an
/// error message in `error` (and the cases read before it).
inline std::vector<TfResizeCase> read_tf_resize_cases(const std::string& path,
                                                      std::string& error) {
  std::ifstream file(path);
  std::vector<TfResizeCase> cases;
  if (!file) {
    error = "missing " + path;
    return cases;
  }
  std::string line;
  while (std::getline(file, line)) {
    if (line.rfind("case ", 0) != 0) continue;
    TfResizeCase c;
    c.name = line;
    std::istringstream header(line.substr(5));
    header >> c.in_h >> c.in_w >> c.out_h >> c.out_w >> c.channels;
    c.input.resize(static_cast<std::size_t>(c.in_h * c.in_w * c.channels));
    c.output.resize(static_cast<std::size_t>(c.out_h * c.out_w * c.channels));
    for (float& v : c.input) file >> v;
    for (float& v : c.output) file >> v;
    if (!file) {
      error = "truncated fixture at " + line;
      return cases;
    }
    cases.push_back(std::move(c));
  }
  return cases;
}

}  // namespace cuxplain::test
