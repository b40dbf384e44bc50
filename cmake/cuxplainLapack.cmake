# LAPACK: dsyevd for the small eigenproblems of NMF's NNDSVD start
# (host/nmf/init.cpp) and dgelsd for KernelSHAP's least squares
# (host/explain/baselines.cpp). OpenBLAS, the host BLAS by default (Debian's
# carries LAPACK), exports both; with another BLAS, a LAPACK found by CMake
# (Debian's liblapack-dev) provides them.
include(CheckCXXSourceCompiles)
set(cuxplain_lapack_probe "
extern \"C\" void dsyevd_();
extern \"C\" void dgelsd_();
int main() { void (*a)() = &dsyevd_; void (*b)() = &dgelsd_; return a == nullptr || b == nullptr; }")
set(CUXPLAIN_HAVE_LAPACK OFF)
if(CUXPLAIN_HAVE_CBLAS)
  set(CMAKE_REQUIRED_LIBRARIES ${BLAS_LIBRARIES})
  if(OpenMP_CXX_FOUND)
    list(APPEND CMAKE_REQUIRED_LIBRARIES OpenMP::OpenMP_CXX)
  endif()
  check_cxx_source_compiles("${cuxplain_lapack_probe}" CUXPLAIN_BLAS_HAS_LAPACK)
  unset(CMAKE_REQUIRED_LIBRARIES)
  if(CUXPLAIN_BLAS_HAS_LAPACK)
    set(CUXPLAIN_HAVE_LAPACK ON)
  endif()
endif()
if(NOT CUXPLAIN_HAVE_LAPACK)
  find_package(LAPACK)
  if(NOT LAPACK_FOUND)
    message(FATAL_ERROR "cuxplain: no LAPACK found (NMF's NNDSVD start needs dsyevd, KernelSHAP "
                        "dgelsd); Debian: apt-get install libopenblas-dev (or liblapack-dev)")
  endif()
  target_link_libraries(cuxplain PRIVATE LAPACK::LAPACK)
  set(CUXPLAIN_HAVE_LAPACK ON)
endif()
message(STATUS "cuxplain: NNDSVD's eigenproblems and KernelSHAP's least squares use LAPACK")
target_compile_definitions(cuxplain PRIVATE CUXPLAIN_HAVE_LAPACK=1)
