//! QUIC on UDP flows: the client's first datagrams are decrypted ([`decode::quic`]) until
//! its ClientHello is complete, which then becomes a [`TlsRecord`] with transport `quic`,
//! exactly as a ClientHello over TCP does (same decoder, JA3, JA4 with the `q` marker, the
//! flow's domain from the SNI, the same detectors downstream).
//!
//! Invariants: a flow is inspected only if its first client datagram is a decryptable Initial
//! (on any port); at most [`MAX_CLIENT_DATAGRAMS`] client datagrams are looked at; the state
//! (one boxed [`ClientInitials`], bounded by [`MAX_CRYPTO_BYTES`] plus one datagram) is freed
//! when the hello is decoded, inspection stops or the flow ends, and at most
//! [`MAX_QUIC_PENDING`] connections hold it at once, whatever the number of flows (beyond it a
//! new QUIC flow is counted in `quic_not_inspected` and not decoded). Once a flow is decided,
//! each datagram costs one flag check: 1-RTT traffic is never parsed.
//!
//! [`MAX_CRYPTO_BYTES`]: crate::decode::quic::crypto::MAX_CRYPTO_BYTES
//! [`MAX_CLIENT_DATAGRAMS`]: crate::decode::quic::MAX_CLIENT_DATAGRAMS
//! [`decode::quic`]: crate::decode::quic

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use super::{Counters, Sink};
use crate::decode::quic::{self, ClientInitials, Progress};
use crate::decode::tls;
use crate::event::{Event, MacAddr, Transport, Ts};
use crate::flow::table::Flow;

use super::tcp::AppState;

/// QUIC connections whose ClientHello is being collected, over all flows, at most. Each holds
/// up to `MAX_CRYPTO_BYTES` (16 KiB) of CRYPTO data and a decryption buffer, so this bounds
/// that state at ~18 MB however many flows clients open; a phone has a few dozen at once.
pub const MAX_QUIC_PENDING: usize = 1024;

/// The count of connections collecting a hello, shared by all flows of a pipeline.
#[derive(Clone, Debug, Default)]
pub struct QuicBudget(Arc<AtomicUsize>);

impl QuicBudget {
    /// Connections holding decoder state now.
    pub fn pending(&self) -> usize {
        self.0.load(Ordering::Relaxed)
    }

    /// A place for one more connection, if the budget has one.
    fn take(&self) -> Option<Slot> {
        if self.pending() >= MAX_QUIC_PENDING {
            return None;
        }
        self.0.fetch_add(1, Ordering::Relaxed);
        Some(Slot(Arc::clone(&self.0)))
    }
}

/// One connection's place in the [`QuicBudget`], given back when dropped: with the decoder,
/// whether the hello was decoded, inspection stopped or the flow ended or was evicted.
#[derive(Debug)]
struct Slot(Arc<AtomicUsize>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// QUIC state of a UDP flow: two flags while idle, a boxed decoder while collecting a hello.
#[derive(Debug, Default)]
pub struct QuicFlow {
    conn: Option<(Box<ClientInitials>, Slot)>,
    /// Nothing more to look at on this flow.
    decided: bool,
    /// The flow carries QUIC: its payloads are encrypted and not worth sampling.
    pub(super) is_quic: bool,
}

/// Looks at a client→server datagram of a UDP flow. Returns true when the flow is QUIC (the
/// datagram is claimed and must not be sampled as cleartext).
pub(super) fn client_datagram(
    flow: &mut Flow<AppState>,
    payload: &[u8],
    ts: Ts,
    device_mac: Option<MacAddr>,
    (budget, counters): (&QuicBudget, &mut Counters),
    sink: &mut Sink<'_>,
) -> bool {
    let q = &mut flow.app.quic;
    if q.decided {
        return q.is_quic;
    }
    let progress = match q.conn.as_mut() {
        Some((c, _)) => c.feed(payload),
        None => {
            let Some(slot) = budget.take() else {
                // Too many hellos in progress: not decoded, but an Initial is still QUIC and
                // its encrypted payloads are not sampled as cleartext.
                counters.quic_not_inspected += 1;
                q.decided = true;
                q.is_quic = quic::may_be_initial(payload);
                return q.is_quic;
            };
            match ClientInitials::start(payload) {
                Some((c, p)) => {
                    q.is_quic = true;
                    q.conn = Some((Box::new(c), slot));
                    p
                }
                None => {
                    q.decided = true;
                    return false;
                }
            }
        }
    };
    match progress {
        Progress::NeedMore => {}
        Progress::GiveUp => {
            q.decided = true;
            q.conn = None;
        }
        Progress::Hello(ch) => {
            q.decided = true;
            let version = q
                .conn
                .take()
                .and_then(|(c, _)| quic::version_name(c.wire_version()));
            counters.tls_client_hellos += 1;
            emit(flow, *ch, ts, device_mac, version, sink);
        }
    }
    true
}

/// Emits the ClientHello of a QUIC flow as a TLS record and names the flow after its SNI.
fn emit(
    flow: &mut Flow<AppState>,
    ch: tls::ClientHello,
    ts: Ts,
    device_mac: Option<MacAddr>,
    version: Option<&'static str>,
    sink: &mut Sink<'_>,
) {
    sink(Event::Tls(super::tcp::client_hello_record(
        flow,
        ch,
        ts,
        device_mac,
        Transport::Quic,
        version,
    )));
}
