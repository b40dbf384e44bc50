#include "output_files.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>

namespace cuxplain::cli {
namespace {

[[noreturn]] void fail(const std::string& shown, int error) {
  throw std::runtime_error("cannot write '" + shown + "': " + std::strerror(error));
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

}  // namespace cuxplain::cli
