// Run-time choice of the host backend's instruction set (isa.hpp).
#include "isa.hpp"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

namespace cuxplain::kernels::cpu {
namespace {

#if CUXPLAIN_CPU_HAVE_AVX2_FMA
/// CPUID leaf 1, ECX bit 29. Read directly: clang's __builtin_cpu_supports
/// does not know "f16c" (GCC's does). The avx2 check made with it covers
/// the operating system's saving of the registers F16C uses.
bool has_f16c() {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (__get_cpuid(1, &eax, &ebx, &ecx, &edx) == 0) return false;
  return (ecx & bit_F16C) != 0;
}
#endif

}  // namespace

bool isa_supported(Isa isa) {
  switch (isa) {
    case Isa::generic:
      return true;
    case Isa::avx2_fma:
#if CUXPLAIN_CPU_HAVE_AVX2_FMA
      // libgcc's checks include the operating system's saving of the AVX
      // registers (XGETBV), not only the CPUID bits.
      __builtin_cpu_init();
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && has_f16c();
#else
      return false;
#endif
  }
  return false;
}

Isa best_isa() {
  static const Isa best = isa_supported(Isa::avx2_fma) ? Isa::avx2_fma : Isa::generic;
  return best;
}

const char* to_string(Isa isa) { return isa == Isa::avx2_fma ? "avx2_fma" : "generic"; }

}  // namespace cuxplain::kernels::cpu
