// The CPU backend of kernels/upsample.inl.
#include "backend.hpp"

#include "../upsample.inl"
