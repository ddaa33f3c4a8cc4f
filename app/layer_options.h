// The options that describe one secure-block point, shared by `marill bench layer` (which sweeps
// settings, m, LoRA and FSS over them) and `marill deal` (which writes the key files of one point).
#pragma once

#include <vector>

#include "app/cli.h"
#include "runner/point.h"

namespace marill {

extern const char* const kLayerPointUsage;  // the usage lines of these options

// These options followed by `more`.
std::vector<Opt> layer_point_options(std::vector<Opt> more);

// The point the options describe (setting, merge, LoRA and FSS are left to the command).
Point layer_point(const Args& args);

// One block point of one setting, as `marill party` takes it: layer_point() plus --setting,
// --merge, --lora and --fss.
extern const char* const kBlockPointUsage;
std::vector<Opt> block_point_options(std::vector<Opt> more);
Point block_point(const Args& args);

}  // namespace marill
