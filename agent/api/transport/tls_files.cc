#include "agent/api/transport/tls_files.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <tuple>

#include "agent/os/unique_fd.h"

namespace vigie {
namespace {

constexpr size_t kMaxPemBytes = size_t{1} << 20;  // a long chain is a few KiB.

struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct X509Free {
  void operator()(X509* cert) const { X509_free(cert); }
};
struct KeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;
using KeyPtr = std::unique_ptr<EVP_PKEY, KeyFree>;

// A key with a passphrase is refused instead of prompting on the agent's terminal.
int refusePassphrase(char*, int, int, void*) {
  return -1;
}

Result<std::string> readPem(const std::string& what, const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    return Error::fromErrno(fmt::format("cannot read {} {}", what, path));
  }
  std::string text;
  char buffer[16 * 1024];
  while (true) {
    const ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
    if (n == 0) {
      return text;
    }
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return Error::fromErrno(fmt::format("cannot read {} {}", what, path));
    }
    text.append(buffer, static_cast<size_t>(n));
    if (text.size() > kMaxPemBytes) {
      return Error{
          fmt::format("{} {} is larger than {} bytes: not a PEM file", what, path, kMaxPemBytes)};
    }
  }
}

BioPtr memoryBio(const std::string& text) {
  return BioPtr(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

X509Ptr firstCertificate(const std::string& pem) {
  BioPtr bio = memoryBio(pem);
  return X509Ptr(bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr);
}

KeyPtr privateKey(const std::string& pem) {
  BioPtr bio = memoryBio(pem);
  return KeyPtr(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, refusePassphrase, nullptr)
                    : nullptr);
}

Status checkTlsFiles(const ApiTcpSpec& tcp, const TlsFiles& files) {
  X509Ptr cert = firstCertificate(files.cert);
  if (!cert) {
    return Error{fmt::format("api.tcp.cert {}: no PEM certificate in it", tcp.cert)};
  }
  KeyPtr key = privateKey(files.key);
  if (!key) {
    return Error{fmt::format(
        "api.tcp.key {}: no PEM private key in it (a key with a passphrase is not supported)",
        tcp.key)};
  }
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    return Error{fmt::format("api.tcp.key {} is not the key of the certificate in api.tcp.cert {}",
                             tcp.key, tcp.cert)};
  }
  if (!firstCertificate(files.client_ca)) {
    return Error{fmt::format("api.tcp.client_ca {}: no PEM certificate in it", tcp.client_ca)};
  }
  return Status();
}

}  // namespace

Result<TlsFiles> loadTlsFiles(const ApiTcpSpec& tcp) {
  TlsFiles files;
  for (auto [what, path, target] :
       {std::tuple{"api.tcp.cert", &tcp.cert, &files.cert},
        std::tuple{"api.tcp.key", &tcp.key, &files.key},
        std::tuple{"api.tcp.client_ca", &tcp.client_ca, &files.client_ca}}) {
    Result<std::string> text = readPem(what, *path);
    if (!text) {
      return text.error();
    }
    *target = std::move(*text);
  }
  Status checked = checkTlsFiles(tcp, files);
  ERR_clear_error();  // what OpenSSL queued on this thread while we looked must not leak out.
  if (!checked) {
    return checked.error();
  }
  return files;
}

}  // namespace vigie
