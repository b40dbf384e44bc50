#pragma once
// Host executor of the for_each contract (kernels/for_each.hpp).
#include <cstdint>

#include "../for_each.hpp"

namespace cuxplain::kernels::host {

struct HostExec {
  template <class Body>
  void operator()(std::int64_t count, Body body) const {
#pragma omp parallel for schedule(static)
    for (std::int64_t i = 0; i < count; ++i) body(i);
  }
};

}  // namespace cuxplain::kernels::host
