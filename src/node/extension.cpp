#include "node/extension.h"

#include "node/config.h"

namespace swarm::node {
namespace {

std::vector<ExtensionFactory>& Registry() {
  static std::vector<ExtensionFactory> registry;
  return registry;
}

}  // namespace

void RegisterExtension(ExtensionFactory factory) {
  for (const auto& f : Registry()) {
    SWARM_ASSERT(f.section != factory.section);
  }
  Registry().push_back(std::move(factory));
}

const std::vector<ExtensionFactory>& RegisteredExtensions() { return Registry(); }

StatusOr<std::vector<std::unique_ptr<Extension>>> MakeExtensions(const NodeConfig& config) {
  std::vector<std::unique_ptr<Extension>> out;
  for (const auto& f : Registry()) {
    SWARM_ASSIGN_OR_RETURN(auto ext, f.make(config.raw, config));
    if (ext) out.push_back(std::move(ext));
  }
  return out;
}

}  // namespace swarm::node
