#include "actors/party_error.h"

#include <new>
#include <stdexcept>

namespace marill {

const char* error_class_name(ErrorClass c) {
  switch (c) {
    case ErrorClass::none: return "none";
    case ErrorClass::protocol: return "protocol";
    case ErrorClass::bad_input: return "bad_input";
    case ErrorClass::timeout: return "timeout";
    case ErrorClass::internal: return "internal";
    case ErrorClass::peer_aborted: return "peer_aborted";
  }
  return "?";
}

PeerAborted::PeerAborted(const std::string& where, Role from, Role root, ErrorClass cls)
    : ProtocolError(where + ": peer " + role_name(root) + " aborted (" + error_class_name(cls) + ")" +
                    (from == root ? std::string() : std::string(", relayed by ") + role_name(from))),
      sender(from), failed(root), failed_class(cls) {}

ErrorClass classify_error(const std::exception& e) {
  // Most derived first: a timeout and a peer's abort are protocol errors too.
  if (dynamic_cast<const PeerAborted*>(&e)) return ErrorClass::peer_aborted;
  if (dynamic_cast<const TimeoutError*>(&e)) return ErrorClass::timeout;
  if (dynamic_cast<const ProtocolError*>(&e)) return ErrorClass::protocol;
  // The library reports refused inputs and parameters as these (fixed-point overflow, shapes, ranges).
  if (dynamic_cast<const std::invalid_argument*>(&e) || dynamic_cast<const std::domain_error*>(&e) ||
      dynamic_cast<const std::out_of_range*>(&e) || dynamic_cast<const std::length_error*>(&e))
    return ErrorClass::bad_input;
  return ErrorClass::internal;
}

}  // namespace marill
