// The cuxplain program's result files (apps/output_files.cpp): every write
// is checked, and a failed one is an error naming the file and the OS's
// reason instead of a truncated file. The program's tests (check_run.py)
// cover a file size limit end to end; a full disk is /dev/full here, which
// cannot stand in for a directory.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

#include "output_files.hpp"

namespace fs = std::filesystem;

namespace cuxplain::cli {
namespace {

/// A fresh, empty directory for one test.
fs::path scratch(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("cuxplain_output_files_" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

std::string read(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

/// Runs `call`, which must throw std::runtime_error whose message contains
/// every one of `parts`.
template <class Call>
void expect_error(Call call, const std::vector<std::string>& parts) {
  try {
    call();
    ADD_FAILURE() << "no error";
  } catch (const std::runtime_error& e) {
    for (const std::string& part : parts) {
      EXPECT_NE(std::string(e.what()).find(part), std::string::npos)
          << "'" << e.what() << "' does not contain '" << part << "'";
    }
  }
}

TEST(OutputFiles, WriteFileWritesEveryByteAndTruncates) {
  const fs::path dir = scratch("write");
  const fs::path file = dir / "bytes.bin";
  std::vector<unsigned char> bytes(300000);
  for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<unsigned char>(i * 31 % 251);
  write_file(file.string(), bytes);
  const std::string back = read(file);
  ASSERT_EQ(back.size(), bytes.size());
  EXPECT_TRUE(std::equal(bytes.begin(), bytes.end(), back.begin(),
                         [](unsigned char a, char b) { return a == static_cast<unsigned char>(b); }));
  write_file(file.string(), std::string("short"));
  EXPECT_EQ(read(file), "short");
  fs::remove_all(dir);
}

TEST(OutputFiles, FullDiskIsAnErrorNamingTheFileAndReason) {
  // /dev/full accepts the open and fails every write with ENOSPC. Without
  // it, open(O_CREAT) would make a regular file there: skipped instead.
  struct stat info {};
  if (::stat("/dev/full", &info) != 0 || !S_ISCHR(info.st_mode)) {
    GTEST_SKIP() << "/dev/full is not a character device here";
  }
  const std::vector<unsigned char> bytes(100000, 7);
  expect_error([&] { write_file("/dev/full", bytes); },
               {"cannot write '/dev/full'", "No space left on device"});
  expect_error([&] { write_file("/dev/full", bytes, "out/sobol.png"); },
               {"cannot write 'out/sobol.png'", "No space left on device"});
  // A write smaller than any buffer fails too: nothing is buffered.
  expect_error([&] { write_file("/dev/full", std::string("{}")); }, {"No space left on device"});
}

TEST(OutputFiles, MissingDirectoryIsAnErrorNamingTheFileAndReason) {
  const fs::path dir = scratch("missing");
  const std::string file = (dir / "no_such_dir" / "scores.json").string();
  expect_error([&] { write_file(file, std::string("{}")); },
               {"cannot write '" + file + "'", "No such file or directory"});
  fs::remove_all(dir);
}

}  // namespace
}  // namespace cuxplain::cli
