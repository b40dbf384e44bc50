// Host <-> device copies and fills through the Context's backend.
#include <cuxplain/core/error.hpp>
#include <cuxplain/core/memory.hpp>

#include <cuxplain/core/buffer.hpp>

#include <exception>
#include <limits>
#include <new>

#include "../../kernels/dispatch.hpp"

namespace cuxplain {

void* detail::allocate_elements(const Context& ctx, std::int64_t count, std::size_t element_size,
                                const std::string& what) {
  const std::string where =
      ctx.is_host() ? std::string("the host") : concat("CUDA device ", ctx.device());
  const auto limit = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  CUXPLAIN_EXPECTS(count >= 0 && static_cast<std::uint64_t>(count) <= limit / element_size,
                   "cannot allocate ", what, ": ", count, " x ", element_size,
                   " bytes overflows a 64-bit size");
  const std::size_t bytes = static_cast<std::size_t>(count) * element_size;
  const auto fail = [&](const char* reason) {
    CUXPLAIN_FAIL("cannot allocate ", what, ": ", count, " x ", element_size, " = ", bytes,
                  " bytes (", static_cast<double>(bytes) / (1024.0 * 1024.0 * 1024.0),
                  " GiB) on ", where, ": ", reason);
  };
  try {
    return ctx.allocator().allocate(bytes, ctx.stream());
  } catch (const std::bad_alloc&) {
    fail("out of memory");
  } catch (const std::exception& e) {
    fail(e.what());
  } catch (...) {
    fail("the allocator threw a non-standard exception");
  }
  return nullptr;
}

void copy_to_device(const Context& ctx, void* dst, const void* src, std::size_t bytes) {
  CUXPLAIN_DISPATCH(ctx, copy_to_device, dst, src, bytes);
}

void copy_to_host(const Context& ctx, void* dst, const void* src, std::size_t bytes) {
  CUXPLAIN_DISPATCH(ctx, copy_to_host, dst, src, bytes);
}

void copy_on_device(const Context& ctx, void* dst, const void* src, std::size_t bytes) {
  CUXPLAIN_DISPATCH(ctx, copy_on_device, dst, src, bytes);
}

void fill(const Context& ctx, float* dst, std::int64_t count, float value) {
  CUXPLAIN_EXPECTS(count >= 0, "fill: count must be >= 0, got ", count);
  CUXPLAIN_DISPATCH(ctx, fill, dst, count, value);
}

void zero(const Context& ctx, void* dst, std::size_t bytes) {
  CUXPLAIN_DISPATCH(ctx, zero, dst, bytes);
}

std::vector<float> to_host(const Context& ctx, const float* src, std::int64_t count) {
  CUXPLAIN_EXPECTS(count >= 0, "to_host: count must be >= 0, got ", count);
  std::vector<float> out(static_cast<std::size_t>(count));
  copy_to_host(ctx, out.data(), src, out.size() * sizeof(float));
  return out;
}

}  // namespace cuxplain
