#pragma once
// Writing the commands' result files: every write checked, so that a full
// disk or a file size limit is an error naming the file instead of a
// truncated file and exit status 0.
#include <cstddef>
#include <string>
#include <vector>

namespace cuxplain::cli {

/// Creates or truncates `path` and writes `size` bytes to it. Throws
/// std::runtime_error "cannot write '<shown>': <the OS's reason>" when
/// opening, any write or closing fails (ENOSPC, EFBIG, EACCES, ...); `shown`
/// is the name the message gives the file (default: path).
void write_file(const std::string& path, const void* data, std::size_t size,
                const std::string& shown = {});
void write_file(const std::string& path, const std::string& text, const std::string& shown = {});
void write_file(const std::string& path, const std::vector<unsigned char>& bytes,
                const std::string& shown = {});

/// Flushes stdout and throws std::runtime_error when it or an earlier write
/// to it failed (stdout on a full disk or /dev/full), so that a lost report
/// is not exit status 0. The OS's reason is known only when the flush
/// itself fails.
void check_stdout();

}  // namespace cuxplain::cli
