# Library sources. Each op family adds one file per backend under kernels/ and
# its public entry under host/; globbing keeps this list from drifting.
file(GLOB CUXPLAIN_HOST_SOURCES CONFIGURE_DEPENDS
  ${CMAKE_CURRENT_SOURCE_DIR}/host/*.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/kernels/host/*.cpp)
file(GLOB CUXPLAIN_CUDA_SOURCES CONFIGURE_DEPENDS
  ${CMAKE_CURRENT_SOURCE_DIR}/kernels/cuda/*.cu)

# The ops written once over the for_each executor (kernels/for_each.hpp) pass
# __host__ __device__ lambdas to cub::DeviceFor.
set_source_files_properties(${CMAKE_CURRENT_SOURCE_DIR}/kernels/cuda/metrics.cu
  PROPERTIES COMPILE_OPTIONS "--extended-lambda")
