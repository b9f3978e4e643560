#pragma once

#include <string>

#include "vigie/config.h"
#include "vigie/result.h"

namespace vigie {

// The PEM texts the TCP listener needs, read from the files named in api.tcp.
struct TlsFiles {
  std::string cert;       // the server's certificate chain.
  std::string key;        // its private key.
  std::string client_ca;  // the CA certificates that client certificates must chain to.
};

// Reads and checks the files: each readable and holding what it should (a certificate, an
// unencrypted private key, CA certificates), and the key belonging to the certificate. Errors
// name the config key and the file, e.g. "cannot read api.tcp.key /etc/vigie/tls/server.key:
// Permission denied".
Result<TlsFiles> loadTlsFiles(const ApiTcpSpec& tcp);

}  // namespace vigie
