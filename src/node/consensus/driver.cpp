#include "node/consensus/driver.h"

#include <filesystem>
#include <fstream>
#include <iterator>

#include <spdlog/spdlog.h>

#include "common/file.h"
#include "swarm/v1/consensus.grpc.pb.h"

namespace swarm::node {
namespace {

constexpr char kStateFile[] = "/pbft_state.bin";
constexpr char kCheckpointFile[] = "/pbft_checkpoint.bin";

StatusOr<Bytes> ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace

ConsensusDriver::ConsensusDriver(ConsensusDriverOptions options, consensus::Authenticator* auth,
                                 consensus::StateMachine* state_machine, ChannelFn channel_to)
    : opts_(std::move(options)), auth_(auth), sm_(state_machine), channel_to_(std::move(channel_to)),
      origin_(clock_.Now()), send_(std::make_shared<SendState>(opts_.committee.size())) {}

ConsensusDriver::~ConsensusDriver() { Stop(); }

Status ConsensusDriver::WriteFileSync(const std::string& path, ByteSpan bytes) {
  return WriteFileAtomic(path, bytes, {.mode = 0600, .sync = opts_.fsync});
}

Status ConsensusDriver::LoadDurable(std::optional<consensus::DurableState>& out) {
  if (opts_.state_dir.empty()) return absl::OkStatus();
  std::error_code ec;
  std::filesystem::create_directories(opts_.state_dir, ec);
  if (ec) return absl::PermissionDeniedError(absl::StrCat("cannot create ", opts_.state_dir, ": ", ec.message()));
  const std::string state_path = opts_.state_dir + kStateFile;
  if (!std::filesystem::exists(state_path)) return absl::OkStatus();
  SWARM_ASSIGN_OR_RETURN(Bytes bytes, ReadAll(state_path));
  auto state = consensus::DecodeDurableState(bytes, opts_.limits);
  if (!state.ok()) {
    return absl::DataLossError(absl::StrCat(state_path, ": ", state.status().message()));
  }
  const std::string cp_path = opts_.state_dir + kCheckpointFile;
  if (state->stable.seq > 0 && std::filesystem::exists(cp_path)) {
    SWARM_ASSIGN_OR_RETURN(Bytes cp, ReadAll(cp_path));
    uint64_t seq = 0;
    if (cp.size() >= 8) {
      for (int i = 0; i < 8; ++i) seq |= static_cast<uint64_t>(cp[i]) << (8 * i);
    }
    if (seq == state->stable.seq && consensus::StateDigest(ByteSpan(cp).subspan(8)) == state->stable.digest) {
      state->stable_state.assign(cp.begin() + 8, cp.end());
      persisted_checkpoint_ = seq;
    } else {
      spdlog::warn("consensus: {} is for checkpoint {}, not {}; fetching it from peers", cp_path, seq,
                   state->stable.seq);
    }
  }
  out = std::move(*state);
  return absl::OkStatus();
}

Status ConsensusDriver::Start() {
  if (opts_.committee.size() != opts_.replica.n) {
    return absl::InvalidArgumentError(absl::StrCat("consensus.committee: ", opts_.committee.size(),
                                                   " addresses for n = ", opts_.replica.n));
  }
  std::optional<consensus::DurableState> recovered;
  SWARM_RETURN_IF_ERROR(LoadDurable(recovered));
  const bool was_recovered = recovered.has_value();
  SWARM_ASSIGN_OR_RETURN(replica_, consensus::Replica::Create(opts_.replica, auth_, sm_, std::move(recovered)));
  if (was_recovered) {
    spdlog::info("consensus: recovered view {} stable checkpoint {} last executed {}", replica_->view(),
                 replica_->stable_checkpoint(), replica_->last_executed());
  }
  std::deque<consensus::Message> none;
  std::deque<Proposal> no_props;
  Step(none, no_props);
  thread_ = std::thread([this] { Loop(); });
  return absl::OkStatus();
}

void ConsensusDriver::Stop() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
  for (auto& [key, list] : waiting_) {
    for (auto& p : list) p.done(absl::CancelledError("consensus: replica stopping"));
  }
  waiting_.clear();
  std::deque<Proposal> left;
  {
    std::lock_guard<std::mutex> lock(mu_);
    left.swap(proposals_);
  }
  for (auto& p : left) p.done(absl::CancelledError("consensus: replica stopping"));
}

Status ConsensusDriver::Deliver(const swarm::v1::PbftBatch& batch, const std::string& source) {
  std::vector<consensus::Message> msgs;
  msgs.reserve(batch.messages_size());
  for (int i = 0; i < batch.messages_size(); ++i) {
    const std::string& m = batch.messages(i);
    auto decoded = consensus::DecodeMessage(AsBytes(m), opts_.limits);
    if (!decoded.ok()) {
      ++malformed_;
      return absl::InvalidArgumentError(absl::StrCat("malformed: messages[", i, "]: ",
                                                     decoded.status().message()));
    }
    msgs.push_back(std::move(*decoded));
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (!inbound_) {
    consensus::FairQueueLimits l = opts_.inbound_per_source;
    l.items_max = std::min(l.items_max, opts_.inbound_messages_max);
    inbound_ = std::make_unique<consensus::FairQueue<consensus::Message>>(l);
  }
  SWARM_RETURN_IF_ERROR(inbound_->Push(source, std::move(msgs), Now()));
  cv_.notify_one();
  return absl::OkStatus();
}

void ConsensusDriver::Submit(consensus::Request request, Nanos deadline, Done done) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!stop_ && status_.running && proposals_.size() + waiting_count_ < opts_.submits_max) {
      const Nanos now = Now();
      proposals_.push_back(Proposal{std::move(request), now + deadline, now, std::move(done)});
      cv_.notify_one();
      return;
    }
  }
  done(absl::ResourceExhaustedError(absl::StrCat("consensus: replica not running or ", opts_.submits_max,
                                                 " requests waiting (submits_max)")));
}

void ConsensusDriver::Loop() {
  for (;;) {
    std::deque<consensus::Message> in;
    std::deque<Proposal> props;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait_for(lock, std::chrono::nanoseconds(opts_.tick_interval),
                   [&] { return stop_ || (inbound_ && !inbound_->empty()) || !proposals_.empty(); });
      if (stop_) return;
      if (inbound_) {
        for (auto& m : inbound_->Pop(opts_.step_messages_max)) in.push_back(std::move(m));
      }
      props.swap(proposals_);
    }
    Step(in, props);
  }
}

void ConsensusDriver::Step(std::deque<consensus::Message>& in, std::deque<Proposal>& props) {
  const Nanos now = Now();
  const uint32_t n = static_cast<uint32_t>(opts_.committee.size());
  for (auto& m : in) {
    const uint32_t signer = consensus::MessageSigner(m).value();
    if (opts_.signer_known && signer < n && !opts_.signer_known(signer)) {
      ++unknown_key_;
      continue;
    }
    if (const auto* pp = std::get_if<consensus::Signed<consensus::PrePrepare>>(&m)) {
      if (pre_prepare_seen_.size() < opts_.latency_tracked_max) pre_prepare_seen_.emplace(pp->body.seq, now);
    }
    replica_->OnMessage(consensus::MessageSigner(m), m);
  }
  for (auto& p : props) {
    const Key key{p.request.client, p.request.client_seq};
    Status s = replica_->Propose(p.request);
    if (!s.ok()) {
      p.done(s);
      continue;
    }
    waiting_[key].push_back(std::move(p));
  }
  replica_->OnTick(now);
  consensus::Ready ready = replica_->TakeOutbox();
  for (const auto& o : ready.messages) {
    if (const auto* pp = std::get_if<consensus::Signed<consensus::PrePrepare>>(&o.message)) {
      if (pre_prepare_seen_.size() < opts_.latency_tracked_max) pre_prepare_seen_.emplace(pp->body.seq, now);
    }
  }
  if (ready.must_persist) Persist();
  SendAll(std::move(ready.messages));
  for (const auto& entry : ready.committed) {
    std::optional<double> latency;
    if (auto it = pre_prepare_seen_.find(entry.seq); it != pre_prepare_seen_.end()) {
      latency = ToSeconds(now - it->second);
      if (!entry.requests.empty()) {
        ++latency_samples_;
        latency_sum_ += *latency;
      }
    }
    if (on_commit_) on_commit_(entry, latency);
    for (const auto& r : entry.requests) {
      auto it = waiting_.find({r.client, r.client_seq});
      if (it == waiting_.end()) continue;
      for (auto& p : it->second) {
        p.done(ExecutedRequest{entry.seq, entry.view, ToSeconds(now - p.submitted)});
      }
      waiting_.erase(it);
    }
  }
  // A snapshot installed by state transfer covers sequence numbers for which
  // no CommittedEntry comes; requests waiting here that it executed are
  // answered now (not at their deadline: a client told "not executed" would
  // submit again and the record would be appended twice).
  if (ready.restored_to) {
    for (auto it = waiting_.begin(); it != waiting_.end();) {
      if (!replica_->Executed(it->first.first, it->first.second)) {
        ++it;
        continue;
      }
      for (auto& p : it->second) {
        p.done(ExecutedRequest{*ready.restored_to, replica_->view(), ToSeconds(now - p.submitted)});
      }
      it = waiting_.erase(it);
    }
  }
  // Start times of executed sequence numbers are no longer needed.
  pre_prepare_seen_.erase(pre_prepare_seen_.begin(), pre_prepare_seen_.upper_bound(replica_->last_executed()));
  // Expire waiters past their deadline.
  size_t count = 0;
  for (auto it = waiting_.begin(); it != waiting_.end();) {
    auto& list = it->second;
    for (auto p = list.begin(); p != list.end();) {
      if (p->deadline <= now) {
        p->done(absl::DeadlineExceededError(absl::StrCat(
            "consensus: request not executed within ", ToSeconds(p->deadline - p->submitted),
            " s (view ", replica_->view(), ", primary ", replica_->primary().value(),
            replica_->in_view_change() ? ", view change in progress" : "", ")")));
        p = list.erase(p);
      } else {
        ++p;
      }
    }
    count += list.size();
    it = list.empty() ? waiting_.erase(it) : std::next(it);
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    waiting_count_ = count;
  }
  Publish();
}

void ConsensusDriver::Persist() {
  if (opts_.state_dir.empty()) return;
  const consensus::DurableState& d = replica_->durable_state();
  Status s = absl::OkStatus();
  if (d.stable.seq != persisted_checkpoint_ && !d.stable_state.empty()) {
    Bytes cp;
    cp.reserve(8 + d.stable_state.size());
    for (int i = 0; i < 8; ++i) cp.push_back(static_cast<uint8_t>(d.stable.seq >> (8 * i)));
    cp.insert(cp.end(), d.stable_state.begin(), d.stable_state.end());
    s = WriteFileSync(opts_.state_dir + kCheckpointFile, cp);
    if (s.ok()) persisted_checkpoint_ = d.stable.seq;
  }
  if (s.ok()) {
    consensus::DurableState copy = d;  // without the (large) checkpoint state
    copy.stable_state.clear();
    auto bytes = consensus::EncodeDurableState(copy);
    s = bytes.ok() ? WriteFileSync(opts_.state_dir + kStateFile, *bytes) : bytes.status();
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (s.ok()) {
    ++status_.persist_writes;
  } else {
    ++status_.persist_failures;
    spdlog::error("consensus: cannot persist replica state: {}", std::string(s.message()));
  }
}

void ConsensusDriver::SendAll(std::vector<consensus::Outgoing> out) {
  const uint32_t n = static_cast<uint32_t>(opts_.committee.size());
  const uint32_t self = opts_.replica.self.value();
  std::vector<swarm::v1::PbftBatch> batches(n);
  for (auto& o : out) {
    auto bytes = consensus::EncodeMessage(o.message);
    if (!bytes.ok()) continue;
    const std::string wire(bytes->begin(), bytes->end());
    if (o.to) {
      if (o.to->value() < n && o.to->value() != self) batches[o.to->value()].add_messages(wire);
    } else {
      for (uint32_t i = 0; i < n; ++i) {
        if (i != self) batches[i].add_messages(wire);
      }
    }
  }
  for (uint32_t i = 0; i < n; ++i) {
    if (batches[i].messages_size() > 0) SendBatch(i, std::move(batches[i]));
  }
}

void ConsensusDriver::SendBatch(uint32_t to, swarm::v1::PbftBatch batch) {
  auto state = send_;
  if (state->in_flight[to].fetch_add(1) >= opts_.calls_in_flight_max) {
    state->in_flight[to].fetch_sub(1);
    ++state->dropped;
    return;
  }
  struct Call {
    grpc::ClientContext ctx;
    swarm::v1::PbftBatch req;
    swarm::v1::PbftAck reply;
  };
  auto* call = new Call;
  call->req = std::move(batch);
  call->req.set_from(opts_.replica.self.value());
  call->ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::nanoseconds(opts_.send_deadline));
  swarm::v1::Pbft::NewStub(channel_to_(opts_.committee[to]))
      ->async()
      ->Deliver(&call->ctx, &call->req, &call->reply, [call, state, to, address = opts_.committee[to]](grpc::Status s) {
        if (!s.ok()) {
          const uint64_t k = ++state->failures;
          if ((k & (k - 1)) == 0) {  // 1st, 2nd, 4th, ... failure: log, without flooding
            spdlog::warn("consensus: send to {} failed ({} failures so far): {}", address, k,
                         s.error_message());
          }
        }
        state->in_flight[to].fetch_sub(1);
        delete call;
      });
}

void ConsensusDriver::Publish() {
  std::lock_guard<std::mutex> lock(mu_);
  status_.running = true;
  status_.view = replica_->view();
  status_.primary = replica_->primary().value();
  status_.in_view_change = replica_->in_view_change();
  status_.last_committed = replica_->last_executed();
  status_.stable_checkpoint = replica_->stable_checkpoint();
  status_.log_size = replica_->log_size();
  status_.pending_requests = replica_->pending_requests();
  status_.counters = replica_->counters();
  status_.unknown_key_drops = unknown_key_;
  status_.commit_latency_samples = latency_samples_;
  status_.commit_latency_seconds_sum = latency_sum_;
}

ConsensusStatus ConsensusDriver::status() const {
  std::lock_guard<std::mutex> lock(mu_);
  ConsensusStatus s = status_;
  s.malformed_batches = malformed_.load();
  s.send_failures = send_->failures.load();
  s.sends_dropped = send_->dropped.load();
  return s;
}

}  // namespace swarm::node
