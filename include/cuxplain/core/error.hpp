#pragma once
// cuxplain::Error and the checking macros every entry point uses.
#include <sstream>
#include <stdexcept>
#include <string>

namespace cuxplain {

/// Thrown by every cuxplain entry point on bad input or a failed CUDA/cuBLAS
/// call. what() says what was wrong (naming the argument and its value) and
/// where in cuxplain it was detected.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

namespace detail {

template <class... Parts>
std::string concat(const Parts&... parts) {
  std::ostringstream out;
  (out << ... << parts);
  return out.str();
}

/// Strips the build machine's directories so messages show "explain/sobol.cpp:42".
constexpr const char* short_path(const char* path) {
  const char* last = path;
  const char* before_last = path;
  for (const char* p = path; *p != '\0'; ++p) {
    if (*p == '/' || *p == '\\') {
      before_last = last;
      last = p + 1;
    }
  }
  return before_last;
}

[[noreturn]] inline void throw_error(const char* file, int line, const std::string& message) {
  throw Error(concat("cuxplain: ", message, " [", short_path(file), ":", line, "]"));
}

}  // namespace detail
}  // namespace cuxplain

/// Throws cuxplain::Error with the concatenated message parts unless `cond` holds.
#define CUXPLAIN_EXPECTS(cond, ...)                                                      \
  do {                                                                                   \
    if (!(cond)) {                                                                       \
      ::cuxplain::detail::throw_error(__FILE__, __LINE__,                                \
                                      ::cuxplain::detail::concat(__VA_ARGS__));          \
    }                                                                                    \
  } while (0)

/// Throws cuxplain::Error with the concatenated message parts.
#define CUXPLAIN_FAIL(...) \
  ::cuxplain::detail::throw_error(__FILE__, __LINE__, ::cuxplain::detail::concat(__VA_ARGS__))
