// Run-time choice of the host backend's instruction set (isa.hpp).
#include "isa.hpp"

namespace cuxplain::kernels::cpu {

bool isa_supported(Isa isa) {
  switch (isa) {
    case Isa::generic:
      return true;
    case Isa::avx2_fma:
#if CUXPLAIN_CPU_HAVE_AVX2_FMA
      // libgcc's checks include the operating system's saving of the AVX
      // registers (XGETBV), not only the CPUID bits.
      __builtin_cpu_init();
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
             __builtin_cpu_supports("f16c");
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
