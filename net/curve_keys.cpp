#include "net/curve_keys.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <stdexcept>

namespace marill {

CurveKeyPair curve_keypair() {
  char pub[41], sec[41];
  if (zmq_curve_keypair(pub, sec) != 0)
    throw std::runtime_error(std::string("curve-keygen: libzmq has no CURVE support: ") + zmq_strerror(zmq_errno()));
  return {pub, sec};
}

bool is_curve_key(const std::string& z85) {
  if (z85.size() != 40) return false;
  std::uint8_t raw[32];
  return zmq_z85_decode(raw, z85.c_str()) != nullptr;
}

std::string curve_public_of(const std::string& secret_z85) {
  if (!is_curve_key(secret_z85)) throw std::invalid_argument("not a Curve secret key (expected 40 Z85 characters)");
  char pub[41];
  if (zmq_curve_public(pub, secret_z85.c_str()) != 0) throw std::runtime_error(std::string("zmq_curve_public: ") + zmq_strerror(zmq_errno()));
  return pub;
}

namespace {
void write_all(int fd, const std::string& text, const std::string& path) {
  size_t off = 0;
  while (off < text.size()) {
    const ssize_t n = ::write(fd, text.data() + off, text.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error(path + ": " + std::strerror(errno));
    }
    off += static_cast<size_t>(n);
  }
}
}  // namespace

void write_curve_keypair(const std::string& prefix, const CurveKeyPair& kp) {
  const std::string key = prefix + ".key", pub = prefix + ".pub";
  // O_EXCL with mode 0600: the secret is never, even briefly, readable by others, and an existing
  // identity is not silently replaced.
  const int fd = ::open(key.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (fd < 0) throw std::runtime_error(key + ": " + std::strerror(errno) + (errno == EEXIST ? " (refusing to overwrite a secret key)" : ""));
  try {
    write_all(fd, kp.secret_z85 + "\n", key);
  } catch (...) {
    ::close(fd);
    throw;
  }
  if (::close(fd) != 0) throw std::runtime_error(key + ": " + std::strerror(errno));
  std::ofstream out(pub, std::ios::trunc);
  out << kp.public_z85 << "\n";
  if (!out) throw std::runtime_error(pub + ": cannot write");
}

CurveKeyPair read_curve_secret_key(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::invalid_argument(path + ": cannot read the Curve secret key file");
  std::string secret;
  std::getline(in, secret);
  if (!is_curve_key(secret)) throw std::invalid_argument(path + ": not a Curve secret key (expected one line of 40 Z85 characters; `marill curve-keygen` writes it)");
  struct stat st{};
  if (::stat(path.c_str(), &st) == 0 && (st.st_mode & 077))
    throw std::invalid_argument(path + ": a secret key must not be readable by others (chmod 600)");
  return {curve_public_of(secret), secret};
}

}  // namespace marill
