//! Offline capture files (pcap and pcapng).
//! STUB: to be implemented.
