#pragma once
// Writing the commands' result files: every write checked, so that a full
// disk or a file size limit is an error naming the file instead of a
// truncated file and exit status 0; and the output directory, which a run
// changes only when all of its files are written.
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

/// A run's output directory (--out). The files are written into a staging
/// directory and moved into place by commit(), once every one is written,
/// so that a run that fails part way (an exception, a failed write) leaves
/// the directory as it was, or missing when it was missing:
///
///   - `out` missing: the staging directory is "<out>.tmp-XXXXXX" beside it
///     (its missing parents are created first) and commit() renames it to
///     `out`, one atomic step;
///   - `out` a directory: the staging directory is ".cuxplain-tmp-XXXXXX"
///     inside it (one file system, whatever is mounted where) and commit()
///     renames each file over the one of the same name. Files of `out` that
///     the run does not write are left untouched.
///
/// Without commit() the destructor removes the staging directory and the
/// parents it created. A killed process (SIGKILL, Ctrl-C) leaves its
/// staging directory behind.
class OutputDir {
 public:
  /// Makes the staging directory. std::runtime_error when `out` exists and
  /// is not a directory, or when a directory cannot be made (its message
  /// names the path and the OS's reason).
  explicit OutputDir(std::string out);
  ~OutputDir();
  OutputDir(const OutputDir&) = delete;
  OutputDir& operator=(const OutputDir&) = delete;

  /// Where the file `name` is once committed: out/name, for reports.
  std::string path(const std::string& name) const;

  /// Writes the file `name` into the staging directory (write_file; its
  /// error names path(name)).
  void write(const std::string& name, const std::vector<unsigned char>& bytes);
  void write(const std::string& name, const std::string& text);

  /// Moves the written files into `out`. Before it moves anything it checks
  /// that no file would replace a directory; a rename that fails after that
  /// is reported with the files already replaced.
  void commit();

 private:
  void discard() noexcept;

  std::string out_;     // as given, for messages
  std::string target_;  // where the files go
  std::string stage_;
  bool out_existed_ = false;
  bool committed_ = false;
  std::vector<std::string> created_parents_;  // outermost first
  std::vector<std::string> written_;
};

}  // namespace cuxplain::cli
