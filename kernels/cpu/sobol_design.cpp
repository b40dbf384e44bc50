// The CPU backend of kernels/sobol_design.inl.
#include "backend.hpp"

#include "../sobol_design.inl"
