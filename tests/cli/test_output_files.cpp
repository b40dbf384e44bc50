// The cuxplain program's result files (apps/output_files.cpp): every write
// is checked, and a failed one is an error naming the file and the OS's
// reason instead of a truncated file; a run's output directory changes only
// when the run commits, all files at once. The program's tests
// (check_run.py) cover a file size limit and failing runs end to end; a full
// disk is /dev/full here, which cannot stand in for a directory.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "output_files.hpp"

namespace fs = std::filesystem;

namespace cuxplain::cli {
namespace {

/// A fresh, empty directory for one test (the process id keeps two build
/// trees' runs apart).
fs::path scratch(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() /
                       ("cuxplain_output_files_" + name + "_" + std::to_string(::getpid()));
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
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    bytes[i] = static_cast<unsigned char>(i * 31 % 251);
  }
  write_file(file.string(), bytes);
  EXPECT_EQ(read(file), std::string(bytes.begin(), bytes.end()));
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

/// Everything under `dir` (hidden entries too): relative path -> contents,
/// "<dir>" for a directory.
std::map<std::string, std::string> listing(const fs::path& dir) {
  std::map<std::string, std::string> found;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    found[fs::relative(entry.path(), dir).string()] =
        entry.is_directory() ? "<dir>" : read(entry.path());
  }
  return found;
}

/// Entries of `dir` whose name starts with `prefix`.
std::vector<std::string> entries_starting(const fs::path& dir, const std::string& prefix) {
  std::vector<std::string> found;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind(prefix, 0) == 0) found.push_back(name);
  }
  return found;
}

void make_file(const fs::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

TEST(OutputFiles, CommitMakesAMissingDirectoryWithItsParentsAtOnce) {
  const fs::path root = scratch("missing_out");
  const fs::path out = root / "runs" / "day1" / "boot";
  {
    OutputDir dir(out.string() + "/");  // a trailing separator names the same directory
    dir.write("sobol.png", std::vector<unsigned char>{1, 2, 3});
    dir.write("scores.json", std::string("{}"));
    EXPECT_EQ(dir.path("scores.json"), out.string() + "/scores.json");
    EXPECT_FALSE(fs::exists(out)) << "files appeared before the commit";
    EXPECT_EQ(entries_starting(out.parent_path(), "boot.tmp-").size(), 1u);
    dir.commit();
  }
  EXPECT_EQ(listing(out), (std::map<std::string, std::string>{{"scores.json", "{}"},
                                                              {"sobol.png", "\1\2\3"}}));
  EXPECT_TRUE(entries_starting(out.parent_path(), "boot.tmp-").empty());
  // The staging directory became `out`: its mode is a plain mkdir's (the
  // umask's), not a private temporary directory's 0700.
  const fs::path plain = root / "plain";
  fs::create_directory(plain);
  EXPECT_EQ(fs::status(out).permissions(), fs::status(plain).permissions());
  fs::remove_all(root);
}

TEST(OutputFiles, CommitReplacesOnlyTheFilesWrittenInAnExistingDirectory) {
  const fs::path out = scratch("existing_out");
  make_file(out / "sobol.png", "old sobol");
  make_file(out / "hsic.png", "old hsic");
  make_file(out / "notes.txt", "mine");
  {
    OutputDir dir(out.string());
    dir.write("sobol.png", std::string("new sobol"));
    dir.write("scores.json", std::string("{}"));
    EXPECT_EQ(read(out / "sobol.png"), "old sobol") << "replaced before the commit";
    dir.commit();
  }
  EXPECT_EQ(listing(out), (std::map<std::string, std::string>{{"hsic.png", "old hsic"},
                                                              {"notes.txt", "mine"},
                                                              {"scores.json", "{}"},
                                                              {"sobol.png", "new sobol"}}));
  fs::remove_all(out);
}

TEST(OutputFiles, AFailedRunLeavesAnExistingDirectoryAsItWas) {
  const fs::path out = scratch("failed_existing");
  make_file(out / "sobol.png", "old sobol");
  make_file(out / "scores.json", "old scores");
  const auto before = listing(out);
  try {
    OutputDir dir(out.string());
    dir.write("sobol.png", std::string("new sobol"));
    dir.write("eva.png", std::string("new eva"));
    EXPECT_EQ(entries_starting(out, ".cuxplain-tmp-").size(), 1u);
    throw std::runtime_error("the next method failed");
  } catch (const std::runtime_error&) {
  }
  EXPECT_EQ(listing(out), before);
  fs::remove_all(out);
}

TEST(OutputFiles, AFailedRunLeavesNoDirectoryNorTheParentsItMade) {
  const fs::path root = scratch("failed_missing");
  const fs::path out = root / "made" / "for" / "out";
  try {
    OutputDir dir(out.string());
    dir.write("sobol.png", std::string("new"));
    EXPECT_TRUE(fs::is_directory(root / "made" / "for"));
    throw std::runtime_error("the next method failed");
  } catch (const std::runtime_error&) {
  }
  EXPECT_TRUE(fs::is_empty(root)) << "left behind: " << listing(root).begin()->first;
  fs::remove_all(root);
}

TEST(OutputFiles, AnOutputPathThatIsAFileIsRefused) {
  const fs::path root = scratch("out_is_file");
  make_file(root / "out", "a file");
  expect_error([&] { OutputDir dir((root / "out").string()); },
               {"'" + (root / "out").string() + "' exists and is not a directory"});
  EXPECT_EQ(listing(root), (std::map<std::string, std::string>{{"out", "a file"}}));
  fs::remove_all(root);
}

TEST(OutputFiles, CommitMovesNothingWhenAFileWouldReplaceADirectory) {
  const fs::path out = scratch("file_over_dir");
  make_file(out / "sobol.png", "old sobol");
  fs::create_directory(out / "scores.json");
  const auto before = listing(out);
  {
    OutputDir dir(out.string());
    dir.write("sobol.png", std::string("new sobol"));
    dir.write("scores.json", std::string("{}"));
    expect_error([&] { dir.commit(); },
                 {"cannot replace '" + (out / "scores.json").string() + "': it is a directory"});
  }
  EXPECT_EQ(listing(out), before);
  fs::remove_all(out);
}

}  // namespace
}  // namespace cuxplain::cli
