// The input format of fuzz/frame_fuzzer.cpp, shared with the seed generator (make_frame_corpus.cpp):
// byte 0 chooses what the rest is fed to.
//   even: the rest is one frame, as a transport hands it to decode_frame (actors/frame.h);
//   odd:  the rest is a stream of chunks from one peer, each a length byte and that many bytes
//         (the last one cut where the input ends), as the ZeroMQ transport receives them
//         (net/chunking.h); every message they complete goes on to decode_frame.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace marill::fuzz {

constexpr std::uint8_t kWholeFrame = 0, kChunkStream = 1;
// The chunk size the stream's seeds use (chunk records hold at most 255 bytes).
constexpr std::size_t kSeedChunkBytes = 48;

}  // namespace marill::fuzz
