// How a party's failure is described to its peers: its role and an error class, never the text.
// The text of an exception may carry data (a server weight that overflows fixed point names the
// value), so it stays in the failing party's own report and log; an abort frame carries one byte.
#pragma once

#include <cstdint>
#include <exception>
#include <string>

#include "protocols/comm/comm.h"

namespace marill {

enum class ErrorClass : std::uint8_t {
  none = 0,
  protocol = 1,      // a peer misbehaved or the channel failed (wrong size, wrong sender, garbage)
  bad_input = 2,     // this party's own inputs or parameters were refused
  timeout = 3,       // a receive or the session start waited too long
  internal = 4,      // anything else (a bug, out of memory, ...)
  peer_aborted = 5,  // a peer aborted first: an echo, not a root cause
};
constexpr std::uint8_t kErrorClassCount = 6;

const char* error_class_name(ErrorClass c);

// A receive gave up waiting.
struct TimeoutError : ProtocolError {
  using ProtocolError::ProtocolError;
};

// A peer told this party it failed; what it says is only its role and class.
struct PeerAborted : ProtocolError {
  PeerAborted(const std::string& where, Role peer, ErrorClass cls);
  Role peer;
  ErrorClass peer_class;
};

// The class of an exception a party's program threw.
ErrorClass classify_error(const std::exception& e);

}  // namespace marill
