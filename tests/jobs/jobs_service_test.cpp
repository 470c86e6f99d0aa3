// The queen's JobsService against clients that are not the submitter and
// clients that flood it: results only to the submitter, per-client quotas,
// no eviction of another client's jobs, and no ids in the status JSON.
#include "node/jobs/service.h"

#include <gtest/gtest.h>

#include "fhe_fixture.h"
#include "fixtures.h"
#include "jobs/wire.h"

namespace swarm::node {
namespace {

struct Job {
  jobs::testing::FheFixture f = jobs::testing::FheFixture::Make(fhe::Scheme::kCkks, 8192, {}, false);
  swarm::v1::SubmitJobRequest req;
  Job() {
    const Bytes p = fhe::SerializeParams(*f.keys.ctx);
    const Bytes r = fhe::Serialize(*f.keys.ctx, *f.keys.relin);
    req.set_circuit(jobs::testing::AddXX());
    req.mutable_keys()->set_params(std::string(p.begin(), p.end()));
    req.mutable_keys()->set_relin_key(std::string(r.begin(), r.end()));
    *req.add_batches() = jobs::ToBatch({{"x", fhe::Serialize(*f.keys.ctx, f.EncryptCkks({1.0}))}});
  }
};

const Job& J() {
  static Job j;
  return j;
}

JobsConfig QueenConfig() {
  JobsConfig c;
  c.queen = true;
  c.jobs_retained_max = 4;
  c.jobs_per_client_max = 2;
  return c;
}

crypto::PeerIdBytes Client(uint8_t b) {
  crypto::PeerIdBytes id{};
  id.fill(b);
  return id;
}

TEST(JobsService, ResultsGoOnlyToTheSubmitter) {
  JobsService s(QueenConfig());
  swarm::v1::SubmitJobReply submitted;
  ASSERT_TRUE(s.SubmitJobFor(Client(1), J().req, &submitted).ok());
  swarm::v1::JobStatusRequest ask;
  ask.set_job_id(submitted.job_id());
  ask.set_want_results(true);
  swarm::v1::JobStatusReply reply;
  grpc::Status st = s.JobStatusFor(Client(2), ask, &reply);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(st.error_message(),
            "permission_denied: jobs: job " + std::to_string(submitted.job_id()) + " was submitted by another client");
  EXPECT_EQ(s.refused("permission_denied"), 1u);
  EXPECT_EQ(reply.results_size(), 0);
  ASSERT_TRUE(s.JobStatusFor(Client(1), ask, &reply).ok());
  EXPECT_EQ(reply.state(), "running");
  // The status page names no job id (the key to a job's results).
  const auto j = s.StatusJson();
  ASSERT_EQ(j["jobs"].size(), 1u);
  EXPECT_FALSE(j["jobs"][0].contains("id"));
  EXPECT_EQ(j["jobs"][0]["submitter"], "01010101");
  EXPECT_EQ(j.dump().find(std::to_string(submitted.job_id())), std::string::npos);
}

TEST(JobsService, AFloodingClientCannotEvictAnotherClientsJobs) {
  JobsService s(QueenConfig());
  swarm::v1::SubmitJobReply r;
  ASSERT_TRUE(s.SubmitJobFor(Client(1), J().req, &r).ok());
  const uint64_t honest_job = r.job_id();
  // The flooder reaches its own quota, then is refused.
  ASSERT_TRUE(s.SubmitJobFor(Client(2), J().req, &r).ok());
  ASSERT_TRUE(s.SubmitJobFor(Client(2), J().req, &r).ok());
  grpc::Status st = s.SubmitJobFor(Client(2), J().req, &r);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_NE(st.error_message().find("rate_limited: jobs: this client has 2 jobs running; the limit is "
                                    "jobs.jobs_per_client_max = 2"),
            std::string::npos)
      << st.error_message();
  // More identities fill the queen; then a newcomer is refused rather than
  // served by evicting anyone.
  ASSERT_TRUE(s.SubmitJobFor(Client(3), J().req, &r).ok());
  st = s.SubmitJobFor(Client(4), J().req, &r);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_NE(st.error_message().find("jobs.jobs_retained_max"), std::string::npos) << st.error_message();
  EXPECT_EQ(s.refused("rate_limited"), 2u);
  swarm::v1::JobStatusRequest ask;
  ask.set_job_id(honest_job);
  swarm::v1::JobStatusReply reply;
  EXPECT_TRUE(s.JobStatusFor(Client(1), ask, &reply).ok());
}

TEST(JobsService, TasksPerClientAreBounded) {
  JobsConfig c = QueenConfig();
  c.tasks_per_client_max = 3;
  JobsService s(c);
  swarm::v1::SubmitJobRequest two = J().req;
  *two.add_batches() = two.batches(0);
  swarm::v1::SubmitJobReply r;
  ASSERT_TRUE(s.SubmitJobFor(Client(1), two, &r).ok());
  grpc::Status st = s.SubmitJobFor(Client(1), two, &r);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_NE(st.error_message().find("2 tasks of this client are running and this job adds 2; the limit is "
                                    "jobs.tasks_per_client_max = 3"),
            std::string::npos)
      << st.error_message();
  EXPECT_TRUE(s.SubmitJobFor(Client(2), two, &r).ok());  // another client's budget is its own
}

}  // namespace
}  // namespace swarm::node
