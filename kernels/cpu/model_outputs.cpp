// The CPU backend of kernels/model_outputs.inl.
#include "backend.hpp"

#include "../model_outputs.inl"
