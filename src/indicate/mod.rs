//! Making phonehome's state visible without a terminal: the OLED display pages (and, from
//! issue 4's other half, the LEDs and the button).

pub mod display;
