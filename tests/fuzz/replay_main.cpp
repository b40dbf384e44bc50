// Runs a fuzz target's LLVMFuzzerTestOneInput once on each file of the
// directories (or files) given, without libFuzzer, so that the normal test
// run replays the seed corpus and every regression input. Fails when an
// input throws, when a directory holds no file, or when the target aborts
// (a broken invariant, or a sanitizer report in a sanitized build).
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace fs = std::filesystem;

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s DIR_OR_FILE...\n", argv[0]);
    return 2;
  }
  int failures = 0;
  std::size_t replayed = 0;
  for (int a = 1; a < argc; ++a) {
    std::vector<fs::path> files;
    if (fs::is_directory(argv[a])) {
      for (const auto& entry : fs::recursive_directory_iterator(argv[a])) {
        if (entry.is_regular_file()) files.push_back(entry.path());
      }
      std::sort(files.begin(), files.end());
      if (files.empty()) {
        std::fprintf(stderr, "FAIL %s: no input in the directory\n", argv[a]);
        ++failures;
      }
    } else {
      files.emplace_back(argv[a]);
    }
    for (const fs::path& file : files) {
      std::ifstream in(file, std::ios::binary);
      const std::vector<char> bytes((std::istreambuf_iterator<char>(in)),
                                    std::istreambuf_iterator<char>());
      if (!in.eof() && !in) {
        std::fprintf(stderr, "FAIL %s: cannot read it\n", file.c_str());
        ++failures;
        continue;
      }
      std::printf("replay %s (%zu bytes)\n", file.c_str(), bytes.size());
      std::fflush(stdout);
      try {
        LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
        ++replayed;
      } catch (const std::exception& e) {
        std::fprintf(stderr, "FAIL %s: %s\n", file.c_str(), e.what());
        ++failures;
      }
    }
  }
  std::printf("%zu inputs replayed, %d failed\n", replayed, failures);
  return failures == 0 ? 0 : 1;
}
