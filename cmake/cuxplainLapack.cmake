# LAPACK's dgelsd for KernelSHAP's least-squares fit (host/baselines.cpp).
# OpenBLAS, the host BLAS by default, exports it; with another BLAS, a
# LAPACK found by CMake (Debian's liblapack-dev) provides it. Without one,
# cuxplain::kernel_shap throws an error that says so.
include(CheckCXXSourceCompiles)
set(CUXPLAIN_HAVE_LAPACK OFF)
set(cuxplain_dgelsd_probe "
extern \"C\" void dgelsd_(const int*, const int*, const int*, double*, const int*, double*,
                        const int*, double*, const double*, int*, double*, const int*, int*, int*);
int main() { void (*f)(const int*, const int*, const int*, double*, const int*, double*,
                        const int*, double*, const double*, int*, double*, const int*, int*, int*)
             = &dgelsd_; return f == nullptr; }")
if(CUXPLAIN_HAVE_CBLAS)
  set(CMAKE_REQUIRED_LIBRARIES ${BLAS_LIBRARIES})
  if(OpenMP_CXX_FOUND)
    list(APPEND CMAKE_REQUIRED_LIBRARIES OpenMP::OpenMP_CXX)
  endif()
  check_cxx_source_compiles("${cuxplain_dgelsd_probe}" CUXPLAIN_BLAS_HAS_DGELSD)
  unset(CMAKE_REQUIRED_LIBRARIES)
  if(CUXPLAIN_BLAS_HAS_DGELSD)
    set(CUXPLAIN_HAVE_LAPACK ON)
  endif()
endif()
if(NOT CUXPLAIN_HAVE_LAPACK)
  find_package(LAPACK QUIET)
  if(LAPACK_FOUND)
    target_link_libraries(cuxplain PRIVATE LAPACK::LAPACK)
    set(CUXPLAIN_HAVE_LAPACK ON)
  endif()
endif()
if(CUXPLAIN_HAVE_LAPACK)
  message(STATUS "cuxplain: KernelSHAP's least squares use LAPACK's dgelsd")
  target_compile_definitions(cuxplain PRIVATE CUXPLAIN_HAVE_LAPACK=1)
else()
  message(STATUS "cuxplain: no LAPACK found; kernel_shap will throw")
  target_compile_definitions(cuxplain PRIVATE CUXPLAIN_HAVE_LAPACK=0)
endif()
