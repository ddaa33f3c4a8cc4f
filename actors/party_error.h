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

// A peer told this party that a party failed: what travels is only the role that failed first
// (the sender, or the party it heard it from) and that failure's class.
struct PeerAborted : ProtocolError {
  PeerAborted(const std::string& where, Role sender, Role failed, ErrorClass cls);
  Role sender;
  Role failed;              // the root cause's role
  ErrorClass failed_class;  // ... and its class (never peer_aborted)
};

// The class of an exception a party's program threw.
ErrorClass classify_error(const std::exception& e);

}  // namespace marill
