// Set-up of pairwise PRG keys: one party samples a fresh key from the OS and sends it to its peer
// (16 bytes, offline phase). Keys travel even in phantom mode so both modes send the same bytes.
//
// The key is sent in the clear: whoever reads the channel can derive every mask the pair draws.
// That is fine in-process (frames move between actors' mailboxes); a transport between processes
// or hosts must encrypt and authenticate its channels (CurveZMQ, actors/transport.h) before any
// key travels over it.
#pragma once

#include "protocols/comm/comm.h"
#include "protocols/ring/prg.h"

namespace marill {

Key128 send_fresh_key(Comm& comm, Role to);
// Sends a key chosen by the caller (a dealer whose keys derive from a seed).
void send_key(Comm& comm, Role to, const Key128& key);
Key128 recv_key(Comm& comm, Role from);

}  // namespace marill
