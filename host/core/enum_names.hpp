#pragma once
// The tables behind enum_names<Enum>() and to_string (core/options.hpp):
// one array per enumeration, read both ways.
#include <cstddef>

#include <cuxplain/core/options.hpp>

namespace cuxplain::detail {

template <class Enum, std::size_t N>
HostSpan<const EnumName<Enum>> span_of(const EnumName<Enum> (&table)[N]) {
  return {table, N};
}

/// The name of `value` in `table`, or `unknown` for a value outside it.
template <class Enum, std::size_t N>
const char* name_in(const EnumName<Enum> (&table)[N], Enum value, const char* unknown) {
  for (const EnumName<Enum>& entry : table) {
    if (entry.value == value) return entry.name;
  }
  return unknown;
}

}  // namespace cuxplain::detail
