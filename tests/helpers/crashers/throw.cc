// An uncaught C++ exception thrown from a namespaced member function: std::terminate, then
// SIGABRT. The backtrace must show the demangled name crashers::Parser::parse(int).
#include <stdexcept>

namespace crashers {

class Parser {
 public:
  __attribute__((noinline)) int parse(int value) {
    if (value > 0) {
      throw std::runtime_error("unparseable");
    }
    return value;
  }
};

}  // namespace crashers

int main() {
  crashers::Parser parser;
  return parser.parse(7);
}
