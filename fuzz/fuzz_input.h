// The input format of fuzz/frame_fuzzer.cpp, shared with the seed generator (make_frame_corpus.cpp):
// byte 0 modulo 4 chooses what the rest is fed to.
//   0: the rest is one frame, as a transport hands it to decode_frame (actors/frame.h);
//   1: the rest is a stream of chunks from one peer, each a length byte and that many bytes
//      (the last one cut where the input ends), as the ZeroMQ transport receives them
//      (net/chunking.h); every message they complete goes on to decode_frame;
//   2: the rest is a coordinator's job, as a party server hands it to decode_job (remote/jobs.h);
//   3: the rest is a party server's reply, as the coordinator hands it to decode_reply, and its
//      report to report_from_binary (actors/report.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace marill::fuzz {

constexpr std::uint8_t kWholeFrame = 0, kChunkStream = 1, kJob = 2, kJobReply = 3;
// The chunk size the stream's seeds use (chunk records hold at most 255 bytes).
constexpr std::size_t kSeedChunkBytes = 48;

}  // namespace marill::fuzz
