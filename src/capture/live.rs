//! Live capture with pnet on an AF_PACKET socket.
//! STUB: to be implemented.
