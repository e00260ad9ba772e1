//! The single writer thread: bounded queue, batched transactions, retention.
//! STUB: to be implemented.
