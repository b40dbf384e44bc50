#pragma once
// The cases of the Sobol design tests, host and CUDA: N, d and whether the
// design stacks B.
#include <cstdint>
#include <initializer_list>
#include <ostream>
#include <vector>

namespace cuxplain::test {

struct DesignCase {
  std::int64_t nb_design, d;
  bool with_b;
};

/// Printed into the test names: N32_d64_withB.
inline std::ostream& operator<<(std::ostream& os, const DesignCase& c) {
  return os << "N" << c.nb_design << "_d" << c.d << (c.with_b ? "_withB" : "_noB");
}

/// N = 2, 5 and 32 with every d of `dims`, without B and with it.
inline std::vector<DesignCase> design_cases(std::initializer_list<std::int64_t> dims) {
  std::vector<DesignCase> cases;
  for (std::int64_t nb_design : {2, 5, 32}) {
    for (std::int64_t d : dims) {
      for (bool with_b : {false, true}) cases.push_back({nb_design, d, with_b});
    }
  }
  return cases;
}

}  // namespace cuxplain::test
