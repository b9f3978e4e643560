#pragma once

// What the TCP+mTLS tests set up before an agent listens: a free port and certificates.

#include <cstdint>
#include <string>

namespace vigie::testing {

// A TCP port on 127.0.0.1 that nothing listens on right now (the kernel's pick, released).
uint16_t freeTcpPort();

// Runs the shell `script` (openssl commands that make certificates; it changes directory
// itself) with its output into `log`, and REQUIREs that it succeeds, printing the log if not.
void runCertificateScript(const std::string& script, const std::string& log);

}  // namespace vigie::testing
