//! Simulated agents speaking the real sync protocol: units registered with
//! `coso-hub unit import`, enrolled with the one-time code from their link
//! over a pinned TLS channel, then Hello and Push with `Bearer <credential>`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use coso_domain::{Entry, UnitKind};
use coso_proto::link::EnrolmentLink;
use coso_proto::pb;
use coso_proto::pb::sync_client::SyncClient;
use coso_proto::transport::pinned_channel;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tonic::metadata::AsciiMetadataValue;
use tonic::transport::Channel;
use tonic::{Request, Status};

use crate::Hub;

/// Generous: under a fan-in of a thousand agents on two cores a call waits
/// its turn for a while, and the benchmark wants its latency, not a timeout.
pub const TIMEOUT: Duration = Duration::from_secs(120);

/// A TLS channel to the hub pinned to its certificate; connects on first use.
pub fn channel(addr: &str, fp: [u8; 32]) -> Channel {
    pinned_channel(addr, fp, TIMEOUT).unwrap_or_else(|e| panic!("channel to {addr}: {e}"))
}

/// The hub's gRPC address and certificate fingerprint.
pub fn target(hub: &Hub) -> (String, [u8; 32]) {
    let fp = coso_hub::tls::fingerprint(&hub.dir)
        .unwrap_or_else(|e| panic!("hub certificate in {}: {e}", hub.dir.display()));
    (hub.grpc.clone(), fp)
}

/// An enrolled unit as its agent knows it.
#[derive(Debug, Clone)]
pub struct Enrolled {
    pub code: String,
    pub kind: UnitKind,
    pub credential: String,
    pub catalog_version: u64,
    pub calendar_version: u64,
    /// The seq of the next entry this unit's log will get.
    pub next_seq: u64,
}

/// Registers `units` (code, name, kind) with `coso-hub unit import --json`
/// and returns their enrolment links, in order, and how long the import took.
pub fn register(hub: &Hub, units: &[(String, String, UnitKind)]) -> (Vec<EnrolmentLink>, Duration) {
    let mut csv = String::from("code,name,kind\n");
    for (code, name, kind) in units {
        csv.push_str(&format!(
            "{code},\"{}\",{kind}\n",
            name.replace('"', "\"\"")
        ));
    }
    let parent = hub.dir.parent().unwrap_or(&hub.dir);
    let file = parent.join(format!("units-{}-{}.csv", units.len(), std::process::id()));
    std::fs::write(&file, csv).expect("write the units file");
    let path = file.display().to_string();
    let start = Instant::now();
    let run = hub.cmd(&["unit", "import", &path, "--json"]).ok();
    let took = start.elapsed();
    let doc = run.json();
    let links: Vec<EnrolmentLink> = doc["units"]
        .as_array()
        .unwrap_or_else(|| panic!("no units in the import output\n{}", run.context()))
        .iter()
        .map(|u| {
            let link = u["enrolment_link"].as_str().unwrap_or_default();
            link.parse()
                .unwrap_or_else(|e| panic!("bad enrolment link {link:?}: {e}"))
        })
        .collect();
    assert_eq!(links.len(), units.len(), "{}", run.context());
    (links, took)
}

/// Trades one link's code for a credential, as `coso-agent enroll` does.
pub async fn enroll(ch: Channel, link: &EnrolmentLink) -> Result<Enrolled, Status> {
    let mut client = SyncClient::new(ch);
    let r = client
        .enroll(pb::EnrollRequest {
            unit: link.unit.to_string(),
            code: link.code.clone(),
        })
        .await?
        .into_inner();
    let kind = r
        .unit
        .as_ref()
        .and_then(|u| u.kind.parse().ok())
        .ok_or_else(|| Status::internal("the hub sent no valid unit"))?;
    Ok(Enrolled {
        code: link.unit.to_string(),
        kind,
        credential: r.credential,
        catalog_version: r.catalog.map(|d| d.version).unwrap_or_default(),
        calendar_version: r.calendar.map(|d| d.version).unwrap_or_default(),
        next_seq: 1,
    })
}

/// Enrols every link, `workers` at a time over as many shared channels.
/// Returns the units in link order and the time it took.
pub async fn enroll_all(
    addr: &str,
    fp: [u8; 32],
    links: Vec<EnrolmentLink>,
    workers: usize,
) -> (Vec<Enrolled>, Duration) {
    let workers = workers.max(1);
    let channels: Vec<Channel> = (0..workers).map(|_| channel(addr, fp)).collect();
    let sem = Arc::new(Semaphore::new(workers));
    let start = Instant::now();
    let mut set = JoinSet::new();
    let n = links.len();
    for (i, link) in links.into_iter().enumerate() {
        let ch = channels[i % workers].clone();
        let sem = sem.clone();
        set.spawn(async move {
            let _permit = sem.acquire_owned().await.expect("semaphore open");
            (i, enroll(ch, &link).await, link)
        });
    }
    let mut out: Vec<Option<Enrolled>> = vec![None; n];
    while let Some(r) = set.join_next().await {
        let (i, r, link) = r.expect("enrol task");
        out[i] = Some(r.unwrap_or_else(|e| panic!("enrolling {}: {e}", link.unit)));
    }
    let took = start.elapsed();
    (
        out.into_iter().map(|u| u.expect("enrolled")).collect(),
        took,
    )
}

/// One unit's agent on its own channel.
pub struct SimAgent {
    client: SyncClient<Channel>,
    auth: AsciiMetadataValue,
    catalog_version: u64,
    calendar_version: u64,
}

impl SimAgent {
    pub fn new(ch: Channel, unit: &Enrolled) -> SimAgent {
        let auth = format!("Bearer {}", unit.credential)
            .parse()
            .expect("a credential is ASCII");
        SimAgent {
            client: SyncClient::new(ch).max_decoding_message_size(64 * 1024 * 1024),
            auth,
            catalog_version: unit.catalog_version,
            calendar_version: unit.calendar_version,
        }
    }

    fn req<T>(&self, msg: T) -> Request<T> {
        let mut r = Request::new(msg);
        r.metadata_mut().insert("authorization", self.auth.clone());
        r
    }

    /// Starts a sync, as an agent holding the current documents does.
    pub async fn hello(&mut self, agent_head: u64) -> Result<pb::HelloResponse, Status> {
        let req = self.req(pb::HelloRequest {
            pull_after: 0,
            catalog_version: self.catalog_version,
            calendar_version: self.calendar_version,
            agent_head,
            ..Default::default()
        });
        Ok(self.client.hello(req).await?.into_inner())
    }

    /// Pushes one batch; the reply means it is durable on the hub.
    pub async fn push(&mut self, batch: pb::PushRequest) -> Result<pb::PushResponse, Status> {
        let expected = batch.entries.last().map(|e| e.seq);
        let req = self.req(batch);
        let r = self.client.push(req).await?.into_inner();
        if let Some(last) = expected
            && r.acked_seq != last
        {
            return Err(Status::internal(format!(
                "the hub acknowledged {} instead of {last}",
                r.acked_seq
            )));
        }
        Ok(r)
    }

    /// A whole sync of `log`: Hello, then every entry above the hub's
    /// cursor in batches within the limits the hub announced.
    pub async fn sync(&mut self, log: &[Entry]) -> Result<u64, Status> {
        let head = log.last().map(|e| e.seq).unwrap_or_default();
        let hello = self.hello(head).await?;
        let max = (hello.max_batch_entries as usize).max(1);
        let pending: Vec<&Entry> = log.iter().filter(|e| e.seq > hello.acked_seq).collect();
        let mut acked = hello.acked_seq;
        for chunk in pending.chunks(max) {
            let batch = pb::PushRequest {
                entries: chunk.iter().map(|e| pb::ChangeEntry::from(*e)).collect(),
                receipts: Vec::new(),
            };
            acked = self.push(batch).await?.acked_seq;
        }
        Ok(acked)
    }
}

/// Runs `jobs` at most `workers` at a time; returns their results in order.
pub async fn run_limited<T, Fut>(jobs: Vec<Fut>, workers: usize) -> Vec<T>
where
    T: Send + 'static,
    Fut: std::future::Future<Output = T> + Send + 'static,
{
    let sem = Arc::new(Semaphore::new(workers.max(1)));
    let n = jobs.len();
    let mut set = JoinSet::new();
    for (i, job) in jobs.into_iter().enumerate() {
        let sem = sem.clone();
        set.spawn(async move {
            let _permit = sem.acquire_owned().await.expect("semaphore open");
            (i, job.await)
        });
    }
    let mut out: Vec<Option<T>> = (0..n).map(|_| None).collect();
    while let Some(r) = set.join_next().await {
        let (i, v) = r.expect("benchmark task");
        out[i] = Some(v);
    }
    out.into_iter().map(|v| v.expect("every job ran")).collect()
}
