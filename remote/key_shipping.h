// A dealer that runs ahead (`marill run --hosts ... --dealer-ahead`): before a 2pc-dealer point's
// online run, the dealer's party server deals the point's key files (runner: deal_point) and ships
// each online party its own over their CurveZMQ channel; the client and server then run the point
// from those files (CorrelationSourceKind::key_files) with the dealer offline, and delete them after
// (they are single-use secrets of their party).
//
// Each party server keeps key files in its key store (a private directory: `marill party --serve
// --key-store DIR`, else a fresh one under /tmp), one subdirectory per key set; the coordinator names
// a key set by an id, never by a path.
//
// On the channel, after the parties met: the dealer sends each party a header ('H', the file's
// size), then the file in pieces of at most 4 MiB ('D'); the party writes them to its key store
// (mode 0600) and answers with an acknowledgement ('A', the bytes it wrote) once the file is whole.
#pragma once

#include <string>

#include "remote/jobs.h"
#include "remote/party_server.h"
#include "runner/point.h"

namespace marill {

// A key set's directory in this party's key store; the id must be [a-z0-9-]{1,64} (no path).
std::string key_set_dir(const RemoteParty& me, const std::string& key_set);

// The party server's handler of key-shipping jobs (args: the sweep point's four, then the key set).
JobReply run_key_shipping_job(const PartyJob& job, const RemoteParty& me);

// The dealer's side and the online parties' side of the shipping, over a transport where the
// parties met (exposed for tests). Both throw ProtocolError / TimeoutError naming the peer.
struct ShippedKeys {
  std::uint64_t bytes[2] = {0, 0};  // client's and server's file
  double cpu_s = 0;                 // the dealing
};
ShippedKeys deal_and_ship(const Point& p, const std::string& dir, Transport& transport, std::chrono::milliseconds timeout);
std::uint64_t receive_key_file(Role me, const std::string& dir, Transport& transport, std::chrono::milliseconds timeout);

}  // namespace marill
