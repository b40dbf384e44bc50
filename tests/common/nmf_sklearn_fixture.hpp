#pragma once
// Reader of tests/data/nmf_sklearn.txt, scikit-learn's NMF runs on float32
// data (written by tests/data/make_nmf_cd_fixtures.py, which describes the
// cases and the format).
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <cuxplain/nmf.hpp>

namespace cuxplain::test {

struct SklearnNmfCase {
  std::string name;
  std::map<std::string, std::vector<std::string>> values;  ///< key -> its words, as read

  bool has(const std::string& key) const { return values.count(key) != 0; }

  const std::vector<std::string>& entry(const std::string& key) const {
    const auto it = values.find(key);
    if (it == values.end()) {
      ADD_FAILURE() << name << " has no " << key;
      static const std::vector<std::string> none;
      return none;
    }
    return it->second;
  }
  double number(const std::string& key) const {
    const auto& v = entry(key);
    return v.empty() ? 0.0 : std::strtod(v[0].c_str(), nullptr);
  }
  std::int64_t integer(const std::string& key) const {
    const auto& v = entry(key);
    return v.empty() ? 0 : std::strtoll(v[0].c_str(), nullptr, 10);
  }
  /// A matrix entry, read as float32 (strtof rounds the 9-digit decimals
  /// back to the floats scikit-learn held).
  std::vector<float> floats(const std::string& key) const {
    std::vector<float> out;
    for (const std::string& v : entry(key)) out.push_back(std::strtof(v.c_str(), nullptr));
    return out;
  }
  std::vector<double> doubles(const std::string& key) const {
    std::vector<double> out;
    for (const std::string& v : entry(key)) out.push_back(std::strtod(v.c_str(), nullptr));
    return out;
  }

  /// nmf::Options of the case: rank, solver, max_iter, tol, and the
  /// penalties of scikit-learn's alpha_W (alpha_H='same') and l1_ratio as
  /// nmf::Options documents them (computed in double, as scikit-learn does,
  /// then rounded to float, as its float32 arithmetic does).
  nmf::Options options() const {
    nmf::Options o;
    o.rank = integer("r");
    o.solver = nmf::parse_solver(entry("solver").empty() ? "" : entry("solver")[0]);
    o.max_iter = integer("max_iter");
    o.tol = number("tol");
    const double n = static_cast<double>(integer("n")), p = static_cast<double>(integer("p"));
    const double alpha = number("alpha_W"), ratio = number("l1_ratio");
    o.l1_u = static_cast<float>(p * alpha * ratio);
    o.l2_u = static_cast<float>(p * alpha * (1.0 - ratio));
    o.l1_w = static_cast<float>(n * alpha * ratio);
    o.l2_w = static_cast<float>(n * alpha * (1.0 - ratio));
    return o;
  }
};

/// Every case of tests/data/nmf_sklearn.txt, by name.
inline const std::map<std::string, SklearnNmfCase>& sklearn_nmf_cases() {
  static const std::map<std::string, SklearnNmfCase> cases = [] {
    std::map<std::string, SklearnNmfCase> out;
    const std::string path = std::string(CUXPLAIN_TEST_DATA_DIR) + "/nmf_sklearn.txt";
    std::ifstream file(path);
    EXPECT_TRUE(file.good()) << "cannot open " << path;
    SklearnNmfCase* current = nullptr;
    for (std::string line; std::getline(file, line);) {
      if (line.empty() || line[0] == '#') continue;
      std::istringstream words(line);
      std::string key;
      words >> key;
      std::vector<std::string> values;
      for (std::string v; words >> v;) values.push_back(v);
      if (key == "case") {
        current = &out[values.at(0)];
        current->name = values.at(0);
      } else if (current != nullptr) {
        current->values[key] = values;
      }
    }
    EXPECT_FALSE(out.empty()) << "no case in " << path;
    return out;
  }();
  return cases;
}

/// The case `name` (a test failure when the fixture lacks it).
inline const SklearnNmfCase& sklearn_nmf_case(const std::string& name) {
  const auto& cases = sklearn_nmf_cases();
  const auto it = cases.find(name);
  if (it == cases.end()) {
    ADD_FAILURE() << "tests/data/nmf_sklearn.txt has no case " << name;
    static const SklearnNmfCase none;
    return none;
  }
  return it->second;
}

}  // namespace cuxplain::test
