// nn_experts_drive: the same driver as `swarm experts drive` (nn/expert_drive.h)
// as a standalone tool, so the e2e test can run it in builds whose CLI does not
// register the `experts` command. Flags: --peer ADDR (repeatable) --experts
// 0,1 --d-model N --batch N --steps N --seconds S --deadline-ms N
// --refresh-ms N --wire f32|f16|int8 --json (accepted, output is always JSON).
#include <cstdio>
#include <cstring>
#include <iostream>
#include <sstream>
#include <string>

#include "nn/expert_drive.h"

int main(int argc, char** argv) {
  swarm::nn::DriveOptions o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--json") continue;
    if (a == "--help") {
      std::cout << "nn_experts_drive --peer ADDR [--experts 0,1] [--steps N] ...\n";
      return 0;
    }
    if (i + 1 >= argc) {
      std::cerr << "nn_experts_drive: " << a << " needs a value\n";
      return 2;
    }
    const std::string v = argv[++i];
    try {
      if (a == "--peer") {
        o.peers.push_back(v);
      } else if (a == "--experts") {
        std::stringstream in(v);
        std::string item;
        while (std::getline(in, item, ',')) o.experts.push_back(static_cast<uint32_t>(std::stoul(item)));
      } else if (a == "--d-model") {
        o.d_model = std::stoll(v);
      } else if (a == "--batch") {
        o.batch = std::stoll(v);
      } else if (a == "--steps") {
        o.steps = std::stoll(v);
      } else if (a == "--seconds") {
        o.seconds = std::stod(v);
      } else if (a == "--deadline-ms") {
        o.remote.call_deadline = swarm::Millis(std::stoll(v));
      } else if (a == "--refresh-ms") {
        o.refresh = swarm::Millis(std::stoll(v));
      } else if (a == "--wire") {
        o.remote.wire_dtype = v;
      } else {
        std::cerr << "nn_experts_drive: unknown flag " << a << "\n";
        return 2;
      }
    } catch (const std::exception&) {
      std::cerr << "nn_experts_drive: bad value '" << v << "' for " << a << "\n";
      return 2;
    }
  }
  auto r = swarm::nn::DriveExperts(o);
  if (!r.ok()) {
    std::cerr << "nn_experts_drive: " << r.status().message() << "\n";
    return absl::IsInvalidArgument(r.status()) ? 2 : 1;
  }
  std::cout << r->ToJson().dump() << std::endl;
  return 0;
}
