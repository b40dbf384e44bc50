#pragma once
// The shape of an upsampling case, shared by the host and CUDA upsample tests.
#include <cstdint>
#include <ostream>

namespace cuxplain::test {

/// n grids of grid_h x grid_w cells upsampled to h x w, `channels` per image.
struct UpsampleShape {
  std::int64_t n, grid_h, grid_w, h, w, channels;
  std::int64_t cell_count() const { return n * grid_h * grid_w * channels; }
  std::int64_t out_count() const { return n * h * w * channels; }
};

/// Printed into the test names and messages: n1_8x8_to_224x224_c1.
inline std::ostream& operator<<(std::ostream& os, const UpsampleShape& s) {
  return os << "n" << s.n << "_" << s.grid_h << "x" << s.grid_w << "_to_" << s.h << "x" << s.w
            << "_c" << s.channels;
}

}  // namespace cuxplain::test
