// The CUDA backend of kernels/eva.inl.
#include "backend.cuh"

#include "../eva.inl"
