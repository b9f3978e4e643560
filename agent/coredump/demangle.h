#pragma once

#include <string>

namespace vigie::coredump {

// The demangled C++ name of `symbol` ("_ZN3foo3barEv" -> "foo::bar()"), or `symbol` itself
// when it is not a mangled name.
std::string demangle(const char* symbol);

}  // namespace vigie::coredump
