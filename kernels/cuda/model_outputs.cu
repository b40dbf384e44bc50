// The CUDA backend of kernels/model_outputs.inl.
#include "backend.cuh"

#include "../model_outputs.inl"
