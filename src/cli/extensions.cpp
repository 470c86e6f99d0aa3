// Registers the node extensions (node/extension.h) of the modules this binary
// was built with. Each extension's factory lives beside its code:
//   consensus  node/consensus/extension.h  ConsensusExtensionFactory()  [consensus]
//   evo        node/evo/extension.h        EvoExtensionFactory()        [evo]
//   jobs       node/jobs/extension.h       JobsExtensionFactory()       [jobs]
//   experts    node/experts/extension.h    ExpertsExtensionFactory()    [experts]
//   trainer    node/trainer/extension.h    TrainerExtensionFactory()    [trainer]
#include "cli/commands.h"
#include "node/extension.h"

#if SWARM_NODE_HAVE_CONSENSUS
#include "node/consensus/extension.h"
#endif
#if SWARM_NODE_HAVE_EVO
#include "node/evo/extension.h"
#endif
#if SWARM_NODE_HAVE_JOBS
#include "node/jobs/extension.h"
#endif
#if SWARM_HAVE_NODE_EXPERTS
#include "node/experts/extension.h"
#endif
#if SWARM_HAVE_NODE_TRAINER
#include "node/trainer/extension.h"
#endif

namespace swarm::cli {

void RegisterCompiledExtensions() {
#if SWARM_NODE_HAVE_CONSENSUS
  node::RegisterExtension(node::ConsensusExtensionFactory());
#endif
#if SWARM_NODE_HAVE_EVO
  node::RegisterExtension(node::EvoExtensionFactory());
#endif
#if SWARM_NODE_HAVE_JOBS
  node::RegisterExtension(node::JobsExtensionFactory());
#endif
#if SWARM_HAVE_NODE_EXPERTS
  node::RegisterExtension(node::ExpertsExtensionFactory());
#endif
#if SWARM_HAVE_NODE_TRAINER
  node::RegisterExtension(node::TrainerExtensionFactory());
#endif
}

}  // namespace swarm::cli
