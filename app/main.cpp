// marill: MPC-minimized secure LLM inference. Entry point and sub-command dispatch.
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>

#include "app/commands.h"

namespace {

const char* kUsage =
    "usage: marill [COMMAND ...]\n"
    "  (no command)           the main job: marill bench primitives on the simulated LAN\n"
    "  bench primitives       cost table of the secure primitives per setting (--csv FILE)\n"
    "  bench layer            cost of one private transformer block by op kind (heads merged, LoRA)\n"
    "  bench matmul           ring matrix multiply throughput\n"
    "  bench dcf              DCF / comparison key generation and evaluation\n"
    "  data                   build the datasets and tokenizer from Debian packages (docs/training.md)\n"
    "  train | finetune | eval | export   LibTorch MARILL training, evaluation, secure-inference packages\n"
    "Run 'marill COMMAND --help' for a command's options.\n";

int dispatch(int argc, char** argv) {
  if (argc < 2) return marill::bench_primitives(0, nullptr);
  std::string cmd = argv[1];
  if (cmd == "--help" || cmd == "-h" || cmd == "help") {
    std::printf("%s", kUsage);
    return 0;
  }
  if (cmd == "bench") {
    if (argc < 3) {
      std::fprintf(stderr, "marill bench: which benchmark? (primitives, layer, matmul, dcf)\n");
      return 2;
    }
    std::string what = argv[2];
    if (what == "primitives") return marill::bench_primitives(argc - 3, argv + 3);
    if (what == "dcf") return marill::bench_dcf(argc - 3, argv + 3);
    if (what == "matmul") return marill::bench_ring_matmul(argc - 3, argv + 3);
    if (what == "layer") return marill::bench_layer(argc - 3, argv + 3);
    std::fprintf(stderr, "marill bench: unknown benchmark '%s' (primitives, layer, matmul, dcf)\n", what.c_str());
    return 2;
  }
  if (cmd == "data") return marill::cmd_data(argc - 2, argv + 2);
  if (cmd == "train") return marill::cmd_train(argc - 2, argv + 2);
  if (cmd == "finetune") return marill::cmd_finetune(argc - 2, argv + 2);
  if (cmd == "eval") return marill::cmd_eval(argc - 2, argv + 2);
  if (cmd == "export") return marill::cmd_export(argc - 2, argv + 2);
  std::fprintf(stderr, "marill: unknown command '%s'\n%s", cmd.c_str(), kUsage);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return dispatch(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "marill: error: %s\n", e.what());
    return 1;
  }
}
