#pragma once
// Instruction sets the host backend compiles its hot loops for, picked once
// at run time. The library itself targets baseline x86-64 (or whatever the
// compiler defaults to); the loops that stream through memory or evaluate
// kernels element by element are compiled a second time for AVX2, FMA and
// F16C (GCC's target attribute) and called through this dispatch.
//
// Bits do not depend on the choice where the math is fused multiply-adds
// and plain IEEE operations (detail/rounding.hpp): std::fma is a true fused
// multiply-add on every target, a libm call without FMA hardware and one
// instruction with it.

namespace cuxplain::kernels::cpu {

enum class Isa {
  generic,   ///< the compiler's baseline target
  avx2_fma,  ///< x86-64 with AVX2, FMA and F16C (Haswell, Zen and later)
};

/// Whether this CPU (and its operating system) runs code compiled for `isa`.
bool isa_supported(Isa isa);

/// The best supported instruction set, detected once.
Isa best_isa();

/// "generic" / "avx2_fma".
const char* to_string(Isa isa);

}  // namespace cuxplain::kernels::cpu

// Marks a function compiled for AVX2, FMA and F16C, and inlines everything it calls
// (the shared per-element math included) so that it is compiled for that
// target too. Empty where the compiler or architecture has no such target:
// the function is then a second copy of the generic one.
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#define CUXPLAIN_CPU_HAVE_AVX2_FMA 1
#define CUXPLAIN_TARGET_AVX2_FMA __attribute__((target("avx2,fma,f16c"), flatten))
#define CUXPLAIN_TARGET_GENERIC __attribute__((flatten))
#else
#define CUXPLAIN_CPU_HAVE_AVX2_FMA 0
#define CUXPLAIN_TARGET_AVX2_FMA
#define CUXPLAIN_TARGET_GENERIC
#endif
