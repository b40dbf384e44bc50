#include "output_files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>
#include <stdexcept>
#include <system_error>
#include <utility>

namespace fs = std::filesystem;

namespace cuxplain::cli {
namespace {

[[noreturn]] void fail(const std::string& shown, int error) {
  throw std::runtime_error("cannot write '" + shown + "': " + std::strerror(error));
}

/// Makes a new directory "<prefix>XXXXXX" (mkdtemp's pattern) and returns
/// its path. Not mkdtemp itself: its mode 0700 would become the output
/// directory's when the staging directory is renamed to it; mkdir's 0777
/// less the umask is what a directory made for the output would have.
std::string make_unique_directory(const std::string& prefix, const std::string& out) {
  static const char kLetters[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  std::random_device device;
  std::mt19937_64 random((std::uint64_t{device()} << 32) ^ device() ^
                         static_cast<std::uint64_t>(::getpid()));
  for (int attempt = 0; attempt < 100; ++attempt) {
    std::string path = prefix;
    for (int i = 0; i < 6; ++i) path += kLetters[random() % (sizeof kLetters - 1)];
    if (::mkdir(path.c_str(), 0777) == 0) return path;
    if (errno != EEXIST) {
      throw std::runtime_error("cannot write the output directory '" + out + "' (making '" +
                               path + "'): " + std::strerror(errno));
    }
  }
  throw std::runtime_error("cannot write the output directory '" + out + "': every name '" +
                           prefix + "XXXXXX' tried exists");
}

}  // namespace

void write_file(const std::string& path, const void* data, std::size_t size,
                const std::string& shown) {
  const std::string& name = shown.empty() ? path : shown;
  // POSIX calls rather than stdio: each failure comes back with its errno
  // (stdio may report a failed buffered write only at fclose, without one).
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd < 0) fail(name, errno);
  const char* next = static_cast<const char*>(data);
  std::size_t left = size;
  while (left > 0) {
    const ssize_t written = ::write(fd, next, left);
    if (written < 0) {
      if (errno == EINTR) continue;
      const int error = errno;
      ::close(fd);
      fail(name, error);
    }
    next += written;
    left -= static_cast<std::size_t>(written);
  }
  // Some file systems (NFS) report a failed write only when the file closes.
  if (::close(fd) != 0) fail(name, errno);
}

void write_file(const std::string& path, const std::string& text, const std::string& shown) {
  write_file(path, text.data(), text.size(), shown);
}

void write_file(const std::string& path, const std::vector<unsigned char>& bytes,
                const std::string& shown) {
  write_file(path, bytes.data(), bytes.size(), shown);
}

void check_stdout() {
  errno = 0;
  const bool flushed = std::fflush(stdout) == 0;
  const int error = errno;
  if (flushed && !std::ferror(stdout)) return;
  // stdio keeps no errno of an earlier failed write, only the error flag.
  throw std::runtime_error(std::string("cannot write the standard output: ") +
                           (!flushed && error != 0 ? std::strerror(error)
                                                   : "a write to it failed"));
}

OutputDir::OutputDir(std::string out) : out_(std::move(out)) {
  std::error_code error;
  const fs::file_status status = fs::status(out_, error);
  if (status.type() != fs::file_type::not_found) {
    if (error) {
      throw std::runtime_error("cannot use the output directory '" + out_ + "': " +
                               error.message());
    }
    if (!fs::is_directory(status)) {
      throw std::runtime_error("the output directory '" + out_ +
                               "' exists and is not a directory");
    }
    out_existed_ = true;
    target_ = out_;
    // Inside `out`: each file's rename then stays on one file system even
    // when `out` is a mount point.
    stage_ = make_unique_directory((fs::path(out_) / ".cuxplain-tmp-").string(), out_);
    return;
  }
  try {
    fs::path target = fs::absolute(out_);
    if (!target.has_filename()) target = target.parent_path();  // "runs/boot/"
    target_ = target.string();
    const fs::path parent = target.parent_path();
    // The parents to make, and to remove again when the run fails: only
    // those known not to exist.
    for (fs::path p = parent; !p.empty(); p = p.parent_path()) {
      const bool exists = fs::exists(p, error);
      if (exists || error || p == p.parent_path()) break;
      created_parents_.insert(created_parents_.begin(), p.string());
    }
    fs::create_directories(parent, error);
    if (error) {
      throw std::runtime_error("cannot create '" + parent.string() +
                               "' for the output directory '" + out_ + "': " + error.message());
    }
    // Beside `out`, in the same directory: commit() renames it to `out`.
    stage_ = make_unique_directory((parent / (target.filename().string() + ".tmp-")).string(),
                                   out_);
  } catch (...) {
    discard();
    throw;
  }
}

OutputDir::~OutputDir() {
  if (!committed_) discard();
}

void OutputDir::discard() noexcept {
  std::error_code error;
  if (!stage_.empty()) fs::remove_all(stage_, error);
  // Innermost first; remove() leaves a directory that is not empty.
  for (auto it = created_parents_.rbegin(); it != created_parents_.rend(); ++it) {
    fs::remove(*it, error);
  }
}

std::string OutputDir::path(const std::string& name) const {
  return (fs::path(out_) / name).string();
}

void OutputDir::write(const std::string& name, const std::vector<unsigned char>& bytes) {
  write_file((fs::path(stage_) / name).string(), bytes, path(name));
  if (std::find(written_.begin(), written_.end(), name) == written_.end()) written_.push_back(name);
}

void OutputDir::write(const std::string& name, const std::string& text) {
  write(name, std::vector<unsigned char>(text.begin(), text.end()));
}

void OutputDir::commit() {
  if (committed_) return;
  std::error_code error;
  if (!out_existed_) {
    if (::rename(stage_.c_str(), target_.c_str()) == 0) {
      committed_ = true;
      return;
    }
    const int reason = errno;
    // Made meanwhile (by another run): the files move into it one by one.
    if (!((reason == EEXIST || reason == ENOTEMPTY) && fs::is_directory(target_, error))) {
      throw std::runtime_error("cannot move '" + stage_ + "' to '" + out_ +
                               "': " + std::strerror(reason));
    }
  }
  for (const std::string& name : written_) {
    if (fs::is_directory(fs::path(target_) / name, error)) {
      throw std::runtime_error("cannot replace '" + path(name) + "': it is a directory");
    }
  }
  std::string moved;
  for (const std::string& name : written_) {
    const std::string from = (fs::path(stage_) / name).string();
    const std::string to = (fs::path(target_) / name).string();
    if (::rename(from.c_str(), to.c_str()) != 0) {
      const int reason = errno;
      throw std::runtime_error("cannot move '" + from + "' to '" + path(name) + "': " +
                               std::strerror(reason) + " (already replaced: " +
                               (moved.empty() ? std::string("none") : moved) + ")");
    }
    moved += (moved.empty() ? "" : ", ") + name;
  }
  committed_ = true;
  fs::remove(stage_, error);  // empty now
}

}  // namespace cuxplain::cli
