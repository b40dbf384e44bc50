// The CUDA backend of kernels/sobol_design.inl.
#include "backend.cuh"

#include "../sobol_design.inl"
