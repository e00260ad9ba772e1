//! The single writer thread: a bounded queue in front, batched transactions, retention.
//!
//! Producers hold an [`EventSink`] and never block: when the queue is full the event is
//! dropped and counted. The thread `phonehome-store` owns the only write connection and
//! commits one transaction per batch (up to `batch_max` items, or whatever arrived within
//! `flush_interval` of the first one). A batch that fails (SQLITE_FULL, I/O error, …) is
//! rolled back, counted as lost and logged once per error kind; the thread carries on with the
//! next one. Between batches it runs retention steps ([`super::retention`]): at start, then
//! every [`RETENTION_INTERVAL`] of wall time, and back to back while a backlog remains.

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crossbeam_channel::{bounded, Receiver, RecvTimeoutError, Sender, TrySendError};
use rusqlite::{Connection, ErrorCode, TransactionBehavior};

use super::{insert, retention, schema, CaptureStats, StoreError};
use crate::event::{Event, Ts};

/// Largest accepted queue: bounds the memory the queue reserves up front (each slot holds an
/// `Event`, a few hundred bytes).
pub const MAX_QUEUE_CAPACITY: usize = 1 << 18;

/// Largest accepted batch: bounds how long one transaction holds the write lock.
pub const MAX_BATCH: usize = 50_000;

/// Longest accepted flush interval: bounds how long a record may sit uncommitted (and keeps
/// deadline arithmetic far from `Instant` overflow).
pub const MAX_FLUSH_INTERVAL: Duration = Duration::from_secs(86_400);

/// Evidence pcaps kept at most, in bytes (oldest deleted first): 256 MiB is a sliver of an SD
/// card and thousands of alerts' worth of evidence.
pub const MAX_EVIDENCE_BYTES: u64 = 256 * 1024 * 1024;

/// Wall time between retention passes.
pub const RETENTION_INTERVAL: Duration = Duration::from_secs(60);
/// How long an acknowledgement waits for room in the queue, and then for the writer's answer.
pub const ACK_TIMEOUT: Duration = Duration::from_secs(2);

/// Settings of the writer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WriterConfig {
    /// Events the queue holds before new ones are dropped (clamped to 1..=[`MAX_QUEUE_CAPACITY`]).
    pub queue_capacity: usize,
    /// Most items per transaction (clamped to 1..=[`MAX_BATCH`]).
    pub batch_max: usize,
    /// Longest time an item waits in a partial batch before it is committed (clamped to
    /// [`MAX_FLUSH_INTERVAL`]).
    pub flush_interval: Duration,
    /// Rows older than this many days (by wall time) are deleted; 0 keeps everything (use 0
    /// when analysing old capture files, whose records would otherwise be expired at once).
    pub retention_days: u32,
    /// Cap on the database size in bytes (`PRAGMA max_page_count`); 0 = no cap. Writes beyond
    /// it fail as SQLITE_FULL and are counted as failed batches.
    pub max_db_bytes: u64,
}

impl Default for WriterConfig {
    fn default() -> Self {
        WriterConfig {
            queue_capacity: 8192,
            batch_max: 1000,
            flush_interval: Duration::from_secs(1),
            retention_days: 30,
            max_db_bytes: 0,
        }
    }
}

/// Rows written per record kind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KindCounts {
    pub dns: u64,
    pub http: u64,
    pub tls: u64,
    pub dhcp: u64,
    pub flows: u64,
    /// Device sightings (upserts).
    pub devices: u64,
    /// Alerts (new or merged into an open one).
    pub alerts: u64,
    /// Evidence pcaps written.
    pub evidence: u64,
}

impl KindCounts {
    fn add(&mut self, ev: &Event) {
        let c = match ev {
            Event::Dns(_) => &mut self.dns,
            Event::Http(_) => &mut self.http,
            Event::Tls(_) => &mut self.tls,
            Event::Dhcp(_) => &mut self.dhcp,
            Event::Flow(_) => &mut self.flows,
            Event::Device(_) => &mut self.devices,
            Event::Alert(_) => &mut self.alerts,
            Event::Evidence(_) => &mut self.evidence,
            // Not stored (the pipeline never forwards them); nothing to count.
            Event::Payload(_) | Event::FlowFrames(_) => return,
        };
        *c = c.saturating_add(1);
    }

    /// All rows written.
    pub fn total(&self) -> u64 {
        self.dns
            .saturating_add(self.http)
            .saturating_add(self.tls)
            .saturating_add(self.dhcp)
            .saturating_add(self.flows)
            .saturating_add(self.devices)
            .saturating_add(self.alerts)
    }

    fn merge(&mut self, o: &KindCounts) {
        self.dns = self.dns.saturating_add(o.dns);
        self.http = self.http.saturating_add(o.http);
        self.tls = self.tls.saturating_add(o.tls);
        self.dhcp = self.dhcp.saturating_add(o.dhcp);
        self.flows = self.flows.saturating_add(o.flows);
        self.devices = self.devices.saturating_add(o.devices);
        self.alerts = self.alerts.saturating_add(o.alerts);
        self.evidence = self.evidence.saturating_add(o.evidence);
    }
}

/// What the writer did since it started.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WriterStats {
    /// Events committed, per kind.
    pub written: KindCounts,
    /// Capture-counter snapshots committed.
    pub stats_rows: u64,
    /// Events and snapshots dropped because the queue was full (or the thread was gone).
    pub dropped_queue: u64,
    /// Batches whose transaction failed and was rolled back.
    pub failed_batches: u64,
    /// Items in those batches.
    pub lost_events: u64,
    /// Rows deleted by retention.
    pub retention_deleted: u64,
    /// Evidence files deleted by retention.
    pub evidence_pruned: u64,
    /// Retention DELETE statements that removed rows.
    pub retention_chunks: u64,
}

// Events are the common message; boxing them to shrink the rare variants would cost an
// allocation per event. The queue's slots are sized for an `Event` either way.
#[allow(clippy::large_enum_variant)]
enum Msg {
    /// Boxed so that a queue slot is one pointer: the queue's slots are allocated up front,
    /// and 65,536 unboxed events would hold 22 MB whether used or not.
    Event(Box<Event>),
    Stats(CaptureStats),
    Flush(Sender<WriterStats>),
    /// Acknowledge every open alert up to this id, at this time; reply with the rows changed.
    Acknowledge {
        up_to: i64,
        at: Ts,
        reply: Sender<Result<usize, String>>,
    },
    Shutdown,
}

/// State shared between the sinks and the thread.
#[derive(Default)]
struct Shared {
    dropped: AtomicU64,
    /// The latest batch's transaction failed (disk full, I/O error); cleared by the next
    /// success. The LEDs show it as a fault.
    failing: AtomicBool,
}

/// A cheap, cloneable handle that queues events for the writer without ever blocking.
#[derive(Clone)]
pub struct EventSink {
    tx: Sender<Msg>,
    shared: Arc<Shared>,
}

impl EventSink {
    /// Queues `ev`; when the queue is full (or the writer is gone) drops and counts it and
    /// returns false.
    pub fn send(&self, ev: Event) -> bool {
        self.offer(Msg::Event(Box::new(ev)))
    }

    /// Queues a capture-counter snapshot, with the same drop rule as [`EventSink::send`].
    pub fn send_stats(&self, stats: CaptureStats) -> bool {
        self.offer(Msg::Stats(stats))
    }

    /// Queues `ev`, waiting for room: for offline analysis, where completeness matters more
    /// than latency. Returns false (and counts a drop) only when the writer is gone.
    pub fn send_blocking(&self, ev: Event) -> bool {
        if self.tx.send(Msg::Event(Box::new(ev))).is_ok() {
            return true;
        }
        self.shared.dropped.fetch_add(1, Ordering::Relaxed);
        false
    }

    /// Events and snapshots dropped so far.
    pub fn dropped(&self) -> u64 {
        self.shared.dropped.load(Ordering::Relaxed)
    }

    /// Whether the store is failing now: its latest batch could not be committed.
    pub fn store_failing(&self) -> bool {
        self.shared.failing.load(Ordering::Relaxed)
    }

    /// Acknowledges every unacknowledged alert whose id is at most `up_to`, at time `at`
    /// (the acknowledge button). Goes through the writer, which owns the only write
    /// connection, after what is already queued; waits at most [`ACK_TIMEOUT`] for the queue
    /// and again for the answer. Returns the number of alerts acknowledged.
    pub fn acknowledge(&self, up_to: i64, at: Ts) -> Result<usize, String> {
        let (reply, answer) = bounded(1);
        self.tx
            .send_timeout(Msg::Acknowledge { up_to, at, reply }, ACK_TIMEOUT)
            .map_err(|_| "the store writer is busy or gone".to_owned())?;
        answer
            .recv_timeout(ACK_TIMEOUT)
            .map_err(|_| "the store writer did not answer".to_owned())?
    }

    fn offer(&self, msg: Msg) -> bool {
        match self.tx.try_send(msg) {
            Ok(()) => true,
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                self.shared.dropped.fetch_add(1, Ordering::Relaxed);
                false
            }
        }
    }
}

/// The writer: owns the thread; [`Writer::finish`] drains and joins it.
///
/// Dropping a `Writer` without `finish` leaves the thread running until every sink is dropped;
/// it then commits what it holds and exits.
pub struct Writer {
    sink: EventSink,
    handle: JoinHandle<WriterStats>,
    path: String,
}

impl Writer {
    /// Opens (creating and migrating) the database at `path` and starts the writer thread.
    pub fn spawn(path: impl AsRef<Path>, cfg: WriterConfig) -> Result<Writer, StoreError> {
        let path = path.as_ref();
        let shown = path.display().to_string();
        let conn = schema::open_write(path)?;
        if cfg.max_db_bytes > 0 {
            let page_size: i64 = conn
                .query_row("PRAGMA page_size", [], |r| r.get(0))
                .map_err(|e| schema::sqlite(path, e))?;
            let pages = (super::sql_u64(cfg.max_db_bytes) / page_size.max(1)).max(1);
            // PRAGMA takes no bound parameters; `pages` is an integer.
            conn.execute_batch(&format!("PRAGMA max_page_count = {pages}"))
                .map_err(|e| schema::sqlite(path, e))?;
        }
        let (tx, rx) = bounded(cfg.queue_capacity.clamp(1, MAX_QUEUE_CAPACITY));
        let shared = Arc::new(Shared::default());
        let mut thread = WriterThread {
            conn,
            rx,
            batch_max: cfg.batch_max.clamp(1, MAX_BATCH),
            flush_interval: cfg.flush_interval.min(MAX_FLUSH_INTERVAL),
            retention_days: cfg.retention_days,
            shared: Arc::clone(&shared),
            stats: WriterStats::default(),
            data_dir: super::evidence::data_dir_of(path),
            logged: Vec::new(),
        };
        let handle = std::thread::Builder::new()
            .name("phonehome-store".into())
            .spawn(move || thread.run())
            .map_err(|e| StoreError::Other {
                path: shown.clone(),
                msg: format!("cannot start writer thread: {e}"),
            })?;
        Ok(Writer {
            sink: EventSink { tx, shared },
            handle,
            path: shown,
        })
    }

    /// A handle for producers.
    pub fn sink(&self) -> EventSink {
        self.sink.clone()
    }

    /// Waits until everything queued before this call is committed (or counted as lost) and
    /// returns the statistics at that point.
    pub fn flush(&self) -> Result<WriterStats, StoreError> {
        let (ack_tx, ack_rx) = bounded(1);
        self.sink
            .tx
            .send(Msg::Flush(ack_tx))
            .map_err(|_| self.gone())?;
        ack_rx.recv().map_err(|_| self.gone())
    }

    /// Drains the queue, commits, stops the thread and returns its final statistics.
    pub fn finish(self) -> Result<WriterStats, StoreError> {
        let gone = self.gone();
        // If the thread already died, `join` below reports it.
        let _ = self.sink.tx.send(Msg::Shutdown);
        self.handle.join().map_err(|_| gone)
    }

    fn gone(&self) -> StoreError {
        StoreError::Other {
            path: self.path.clone(),
            msg: "store writer thread is gone".into(),
        }
    }
}

#[allow(clippy::large_enum_variant)] // as for `Msg`
enum Item {
    Event(Event),
    Stats(CaptureStats),
}

struct WriterThread {
    conn: Connection,
    rx: Receiver<Msg>,
    batch_max: usize,
    flush_interval: Duration,
    retention_days: u32,
    shared: Arc<Shared>,
    stats: WriterStats,
    /// Folder of the database: evidence pcaps go to its `evidence/` subfolder.
    data_dir: std::path::PathBuf,
    /// Error kinds already logged (at most one entry per `ErrorCode`, plus None for non-SQLite
    /// errors), so a full disk logs once, not once per batch.
    logged: Vec<Option<ErrorCode>>,
}

impl WriterThread {
    fn run(&mut self) -> WriterStats {
        let mut batch: Vec<Item> = Vec::with_capacity(self.batch_max);
        let mut deadline = Instant::now();
        let mut next_retention = Instant::now();
        let mut retention_backlog = false;
        loop {
            // Retention only between batches, one step at a time.
            if batch.is_empty()
                && self.retention_days > 0
                && (retention_backlog || Instant::now() >= next_retention)
            {
                retention_backlog = self.retention_step();
                if !retention_backlog {
                    next_retention = Instant::now() + RETENTION_INTERVAL;
                }
            }
            let wait = if !batch.is_empty() {
                deadline.saturating_duration_since(Instant::now())
            } else if retention_backlog {
                Duration::ZERO
            } else if self.retention_days > 0 {
                next_retention.saturating_duration_since(Instant::now())
            } else {
                RETENTION_INTERVAL
            };
            match self.rx.recv_timeout(wait) {
                Ok(Msg::Event(ev)) => self.push(&mut batch, &mut deadline, Item::Event(*ev)),
                Ok(Msg::Stats(s)) => self.push(&mut batch, &mut deadline, Item::Stats(s)),
                Ok(Msg::Flush(ack)) => {
                    self.commit(&mut batch);
                    // The caller may have given up waiting; nothing to do then.
                    let _ = ack.send(self.snapshot());
                }
                Ok(Msg::Acknowledge { up_to, at, reply }) => {
                    self.commit(&mut batch);
                    let _ = reply.send(self.acknowledge(up_to, at));
                }
                Ok(Msg::Shutdown) => {
                    self.drain(&mut batch);
                    break;
                }
                Err(RecvTimeoutError::Timeout) => {
                    if !batch.is_empty() && Instant::now() >= deadline {
                        self.commit(&mut batch);
                    }
                }
                Err(RecvTimeoutError::Disconnected) => break,
            }
        }
        self.commit(&mut batch);
        self.snapshot()
    }

    fn push(&mut self, batch: &mut Vec<Item>, deadline: &mut Instant, item: Item) {
        if batch.is_empty() {
            *deadline = Instant::now() + self.flush_interval;
        }
        batch.push(item);
        if batch.len() >= self.batch_max {
            self.commit(batch);
        }
    }

    /// Takes what is queued at shutdown, but no more than that: producers that keep sending
    /// cannot hold the thread here forever.
    fn drain(&mut self, batch: &mut Vec<Item>) {
        for _ in 0..self.rx.len() {
            let item = match self.rx.try_recv() {
                Ok(Msg::Event(ev)) => Item::Event(*ev),
                Ok(Msg::Stats(s)) => Item::Stats(s),
                Ok(Msg::Flush(ack)) => {
                    self.commit(batch);
                    let _ = ack.send(self.snapshot());
                    continue;
                }
                Ok(Msg::Acknowledge { up_to, at, reply }) => {
                    self.commit(batch);
                    let _ = reply.send(self.acknowledge(up_to, at));
                    continue;
                }
                Ok(Msg::Shutdown) => continue,
                Err(_) => break,
            };
            batch.push(item);
            if batch.len() >= self.batch_max {
                self.commit(batch);
            }
        }
    }

    /// Writes the evidence pcaps of a batch (files, outside the SQL transaction). A failure
    /// (disk full) loses that file, is counted and logged once; the rows still go in.
    fn write_evidence(&mut self, batch: &[Item]) {
        for item in batch {
            if let Item::Event(Event::Evidence(e)) = item {
                if let Err(err) =
                    super::evidence::write_pcap(&self.data_dir, e.alert_ts, &e.flow_id, &e.frames)
                {
                    self.stats.lost_events = self.stats.lost_events.saturating_add(1);
                    if !self.logged.contains(&None) {
                        self.logged.push(None);
                        tracing::warn!(error = %err, "evidence pcap not written");
                    }
                }
            }
        }
    }

    fn snapshot(&self) -> WriterStats {
        WriterStats {
            dropped_queue: self.shared.dropped.load(Ordering::Relaxed),
            ..self.stats
        }
    }

    fn acknowledge(&mut self, up_to: i64, at: Ts) -> Result<usize, String> {
        super::insert::acknowledge_up_to(&self.conn, up_to, at).map_err(|e| {
            self.log_once(&e, "alerts not acknowledged");
            e.to_string()
        })
    }

    /// Writes `batch` in one transaction and empties it, whatever the outcome.
    fn commit(&mut self, batch: &mut Vec<Item>) {
        if batch.is_empty() {
            return;
        }
        self.write_evidence(batch);
        let store_drops = self.shared.dropped.load(Ordering::Relaxed);
        let result = write_batch(&mut self.conn, batch, store_drops);
        match result {
            Ok((counts, stats_rows)) => {
                self.shared.failing.store(false, Ordering::Relaxed);
                self.stats.written.merge(&counts);
                self.stats.stats_rows = self.stats.stats_rows.saturating_add(stats_rows);
            }
            Err(e) => {
                self.shared.failing.store(true, Ordering::Relaxed);
                self.stats.failed_batches = self.stats.failed_batches.saturating_add(1);
                self.stats.lost_events = self.stats.lost_events.saturating_add(batch.len() as u64);
                self.log_once(&e, "store batch lost");
            }
        }
        batch.clear();
    }

    /// One retention step; returns true when old rows remain.
    fn retention_step(&mut self) -> bool {
        let cutoff = retention::cutoff(wall_now(), self.retention_days);
        match retention::step(&self.conn, cutoff, retention::RETENTION_CHUNK) {
            Ok(r) => {
                self.stats.retention_deleted =
                    self.stats.retention_deleted.saturating_add(r.deleted);
                self.stats.retention_chunks = self.stats.retention_chunks.saturating_add(r.chunks);
                if !r.more {
                    self.prune_evidence();
                }
                r.more
            }
            Err(e) => {
                self.log_once(&e, "retention failed");
                false
            }
        }
    }

    /// Evidence pcaps follow the rows' retention and a total size cap, so a long-running
    /// daemon never fills the SD card with them.
    fn prune_evidence(&mut self) {
        match super::evidence::prune(
            &self.data_dir,
            SystemTime::now(),
            self.retention_days,
            MAX_EVIDENCE_BYTES,
        ) {
            Ok(p) => {
                self.stats.evidence_pruned = self.stats.evidence_pruned.saturating_add(p.deleted)
            }
            Err(e) => {
                if !self.logged.contains(&None) {
                    self.logged.push(None);
                    tracing::warn!(error = %e, "evidence retention failed");
                }
            }
        }
    }

    fn log_once(&mut self, e: &rusqlite::Error, what: &str) {
        let code = e.sqlite_error_code();
        if !self.logged.contains(&code) {
            self.logged.push(code);
            tracing::error!(error = %e, "{what}; further errors of this kind are counted, not logged");
        }
    }
}

fn write_batch(
    conn: &mut Connection,
    batch: &[Item],
    store_drops: u64,
) -> rusqlite::Result<(KindCounts, u64)> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut counts = KindCounts::default();
    let mut stats_rows = 0u64;
    for item in batch {
        match item {
            Item::Event(ev) => {
                insert::event(&tx, ev)?;
                counts.add(ev);
            }
            Item::Stats(s) => {
                insert::capture_stats(&tx, s, store_drops)?;
                stats_rows += 1;
            }
        }
    }
    tx.commit()?;
    Ok((counts, stats_rows))
}

/// Wall-clock time in microseconds (retention is about how long data stays on the device).
fn wall_now() -> Ts {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
