// The CPU backend of kernels/eva.inl.
#include "backend.hpp"

#include "../eva.inl"
