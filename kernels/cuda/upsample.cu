// The CUDA backend of kernels/upsample.inl.
#include "backend.cuh"

#include "../upsample.inl"
