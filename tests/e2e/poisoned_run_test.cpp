// The orchestrator survives a poisoned run (issue 14 item 6): trainer peers
// whose status carries a NaN/Inf loss (JSON null) or garbage where numbers
// belong are reported as such, with the evidence kept, and `swarm train`
// neither crashes nor stops watching the honest peers.
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "e2e/process.h"
#include "swarm/v1/node.grpc.pb.h"

namespace swarm::e2e {
namespace {

// A peer that answers Node.Info with a fixed status, as a Byzantine or a
// diverged trainer would.
class FakeTrainer final : public swarm::v1::Node::Service {
 public:
  explicit FakeTrainer(std::string status) : status_(std::move(status)) {}
  grpc::Status Info(grpc::ServerContext*, const swarm::v1::InfoRequest*, swarm::v1::InfoReply* reply) override {
    reply->set_node_id("fake");
    reply->set_status_json(status_);
    return grpc::Status::OK;
  }

 private:
  std::string status_;
};

struct Served {
  std::unique_ptr<FakeTrainer> service;
  std::unique_ptr<grpc::Server> server;
  std::string address;
};

Served Serve(const std::string& status) {
  Served s;
  s.service = std::make_unique<FakeTrainer>(status);
  grpc::ServerBuilder b;
  int port = 0;
  b.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  b.RegisterService(s.service.get());
  s.server = b.BuildAndStart();
  s.address = "127.0.0.1:" + std::to_string(port);
  return s;
}

TEST(E2ePoisonedRun, NanLossAndGarbageFromPeersAreReportedNotCrashedOn) {
  const std::string dir = TempDir("poisoned");
  // nlohmann dumps NaN as null: exactly what a diverged trainer sends.
  nlohmann::json nan_trainer = {{"trainer", {{"state", "done"}, {"step", 20}, {"accuracy", 0.5}}}};
  nan_trainer["trainer"]["loss"] = std::numeric_limits<double>::quiet_NaN();
  const std::string nan_status = nan_trainer.dump();
  ASSERT_NE(nan_status.find("\"loss\":null"), std::string::npos) << nan_status;
  const std::string garbage_status =
      R"({"trainer":{"state":"done","step":"twenty","loss":"x","accuracy":[1],"peers_alive":null,)"
      R"("excluded":{"a":null,"b":"many"},"sync_seconds_mean":{}}})";
  const std::string honest_status =
      R"({"trainer":{"state":"done","step":20,"loss":0.25,"accuracy":0.9,"peers_alive":3,"excluded":{"a":1}}})";
  Served nan = Serve(nan_status), garbage = Serve(garbage_status), honest = Serve(honest_status);
  const std::string data = dir + "/data.bin";
  std::ofstream(data) << "x";
  RunResult r = RunSwarm({SwarmBinary(), "train", "--peers", nan.address + "," + garbage.address + "," + honest.address,
                          "--dir", dir, "--set", "data.path=" + data, "--set", "train.steps=20",
                          "--timeout", "60"},
                         90);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(r.err.find("type_error"), std::string::npos) << r.err;
  EXPECT_NE(r.out.find("reported a non-finite loss or accuracy (NaN/Inf)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("poisoned: trainer " + nan.address), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("poisoned: trainer " + garbage.address), std::string::npos) << r.out;
  // The honest peer's numbers are what is reported.
  EXPECT_NE(r.out.find("test accuracy: 50.00%"), std::string::npos) << r.out;
  // Evidence: the poisoned status, as received, kept under --dir.
  int evidence = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().filename().string().rfind("poisoned-status-", 0) != 0) continue;
    ++evidence;
    std::ifstream in(e.path());
    const auto j = nlohmann::json::parse(in);
    EXPECT_TRUE(j.contains("state")) << e.path();
  }
  EXPECT_EQ(evidence, 2);
  nan.server->Shutdown();
  garbage.server->Shutdown();
  honest.server->Shutdown();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace swarm::e2e
