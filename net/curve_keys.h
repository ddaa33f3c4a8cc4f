// CurveZMQ key pairs of the party processes (`marill curve-keygen`): the long-term identities that
// encrypt and authenticate the channels between parties (net/zmq_transport.h). Not the dealer's
// correlated-randomness key material (protocols/mpc key files), and not the pairwise PRG keys, which
// travel inside these channels.
#pragma once

#include <string>

namespace marill {

struct CurveKeyPair {
  std::string public_z85;  // 40 Z85 characters (32 bytes)
  std::string secret_z85;
};

CurveKeyPair curve_keypair();  // fresh, from libzmq (libsodium underneath)
// The public key of a secret one; throws std::invalid_argument if `secret_z85` is not a Z85 key.
std::string curve_public_of(const std::string& secret_z85);
// True if `z85` is 40 characters of valid Z85 (a 32-byte key).
bool is_curve_key(const std::string& z85);

// Writes PREFIX.key (the secret, mode 0600, created so: never readable by others) and PREFIX.pub.
// Refuses to overwrite an existing PREFIX.key.
void write_curve_keypair(const std::string& prefix, const CurveKeyPair& kp);
// Reads a secret key file written by write_curve_keypair; errors name the file.
CurveKeyPair read_curve_secret_key(const std::string& path);

}  // namespace marill
