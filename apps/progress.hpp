#pragma once
// The progress line of long runs, on stderr.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>

namespace cuxplain::cli {

/// "sobol: 1040/1600 model evaluations". On a terminal the line is rewritten
/// in place (\r) at most ten times a second; elsewhere (when asked for with
/// --progress) a line is printed at every tenth of the run. finish() prints
/// the final count and the time.
class Progress {
 public:
  Progress(bool enabled, bool terminal, std::string label, std::int64_t total, std::string unit)
      : enabled_(enabled), terminal_(terminal), label_(std::move(label)), total_(total),
        unit_(std::move(unit)), last_(std::chrono::steady_clock::now()) {}

  void update(std::int64_t done) {
    if (!enabled_) return;
    const auto now = std::chrono::steady_clock::now();
    if (terminal_) {
      if (now - last_ < std::chrono::milliseconds(100) && done < total_) return;
      last_ = now;
      std::fprintf(stderr, "\r%s: %lld/%lld %s", label_.c_str(), static_cast<long long>(done),
                   static_cast<long long>(total_), unit_.c_str());
      shown_ = true;
    } else {
      const std::int64_t tenth = total_ > 0 ? done * 10 / total_ : 10;
      if (tenth <= printed_tenth_ || done >= total_) return;
      printed_tenth_ = tenth;
      std::fprintf(stderr, "%s: %lld/%lld %s\n", label_.c_str(), static_cast<long long>(done),
                   static_cast<long long>(total_), unit_.c_str());
    }
    std::fflush(stderr);
  }

  void finish(std::int64_t done, double seconds) {
    if (!enabled_) return;
    std::fprintf(stderr, "%s%s: %lld/%lld %s, %.3f s%s\n", terminal_ && shown_ ? "\r" : "",
                 label_.c_str(), static_cast<long long>(done), static_cast<long long>(total_),
                 unit_.c_str(), seconds, terminal_ ? "\033[K" : "");
    std::fflush(stderr);
  }

 private:
  bool enabled_;
  bool terminal_;
  std::string label_;
  std::int64_t total_;
  std::string unit_;
  std::chrono::steady_clock::time_point last_;
  std::int64_t printed_tenth_ = 0;
  bool shown_ = false;
};

}  // namespace cuxplain::cli
