//! Devices (client MACs): IP↔MAC bindings from DHCP, ARP and traffic.
//! STUB: to be implemented.
