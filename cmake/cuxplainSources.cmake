# Library sources, globbed so that this list cannot drift: the host API layer
# (host/<layer>/*.cpp), the CPU backend (kernels/cpu) and, with CUDA, the CUDA
# backend (kernels/cuda).
file(GLOB CUXPLAIN_HOST_SOURCES CONFIGURE_DEPENDS
  ${CMAKE_CURRENT_SOURCE_DIR}/host/*/*.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/kernels/cpu/*.cpp)
file(GLOB CUXPLAIN_CUDA_SOURCES CONFIGURE_DEPENDS
  ${CMAKE_CURRENT_SOURCE_DIR}/kernels/cuda/*.cu)

# The metric and baseline ops (kernels/metrics.inl) hand CUXPLAIN_LAMBDA
# (__host__ __device__) lambdas to the contract's for_each.
set_source_files_properties(${CMAKE_CURRENT_SOURCE_DIR}/kernels/cuda/metrics.cu
  PROPERTIES COMPILE_OPTIONS "--extended-lambda")

# The host HSIC's continuous scores vectorize expf through glibc's libmvec
# (kernels/cpu/hsic.cpp), which GCC does only for calls that cannot set errno.
if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
  set_source_files_properties(${CMAKE_CURRENT_SOURCE_DIR}/kernels/cpu/hsic.cpp
    PROPERTIES COMPILE_OPTIONS "-fno-math-errno")
endif()
