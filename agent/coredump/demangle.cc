#include "agent/coredump/demangle.h"

#include <cxxabi.h>

#include <cstdlib>
#include <cstring>
#include <memory>

namespace vigie::coredump {

std::string demangle(const char* symbol) {
  if (symbol == nullptr) {
    return {};
  }
  if (std::strncmp(symbol, "_Z", 2) != 0) {
    return symbol;
  }
  int status = 0;
  std::unique_ptr<char, decltype(&std::free)> demangled(
      abi::__cxa_demangle(symbol, nullptr, nullptr, &status), &std::free);
  if (status != 0 || !demangled) {
    return symbol;
  }
  return demangled.get();
}

}  // namespace vigie::coredump
