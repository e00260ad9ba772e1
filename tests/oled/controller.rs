//! The emulated SSD1306/SH1106 controller used by `tests/oled.rs`: an embedded-hal 1.0 I2C
//! device that decodes the drivers' command and data stream into display RAM and reads the
//! panel back as the glass shows it. Bounded: RAM indexes are checked, writes past the last
//! column are counted, not stored.

use std::cell::RefCell;
use std::rc::Rc;

use embedded_hal::i2c::{ErrorKind, ErrorType, I2c, NoAcknowledgeSource, Operation};
use phonehome::config::DisplayDriver;
use phonehome::indicate::display::{HEIGHT, WIDTH};

/// The module's I2C address (the common 0x3C).
pub const ADDRESS: u8 = 0x3C;
/// Columns of display RAM: the SH1106 has 132, the SSD1306 128.
const RAM_COLUMNS: usize = 132;
const PAGES: usize = 8;

/// The emulated controller's state.
#[derive(Debug)]
pub struct Controller {
    pub sh1106: bool,
    pub ram: [[u8; RAM_COLUMNS]; PAGES],
    pub column: usize,
    pub page: usize,
    /// SSD1306 0x20: 0 horizontal, 1 vertical, 2 page addressing (the SH1106 has only page).
    pub addr_mode: u8,
    pub columns: (usize, usize),
    pub pages: (usize, usize),
    pub segment_remap: bool,
    pub com_reversed: bool,
    pub start_line: u8,
    pub display_offset: u8,
    pub display_on: bool,
    pub inverted: bool,
    pub all_on: bool,
    pub contrast: Option<u8>,
    pub charge_pump: Option<u8>,
    /// A command waiting for its argument bytes.
    pub pending: Vec<u8>,
    /// Data bytes written past the end of the RAM (a driver bug if ever non-zero).
    pub overflow: usize,
    /// Every write fails with a NACK (module unplugged).
    pub unplugged: bool,
    pub writes: usize,
}

impl Controller {
    pub fn new(sh1106: bool) -> Self {
        Controller {
            sh1106,
            // Power-on RAM is random: start from a pattern the drivers must overwrite.
            ram: [[0xA5; RAM_COLUMNS]; PAGES],
            column: 0,
            page: 0,
            addr_mode: 2,
            columns: (0, 127),
            pages: (0, 7),
            segment_remap: false,
            com_reversed: false,
            start_line: 0,
            display_offset: 0,
            display_on: false,
            inverted: false,
            all_on: false,
            contrast: None,
            charge_pump: None,
            pending: Vec::new(),
            overflow: 0,
            unplugged: false,
            writes: 0,
        }
    }

    /// Argument bytes that follow command `op`.
    fn arguments(&self, op: u8) -> usize {
        match (self.sh1106, op) {
            (_, 0x81 | 0xA8 | 0xD3 | 0xD5 | 0xD9 | 0xDA | 0xDB | 0xAD) => 1,
            (false, 0x20 | 0x8D) => 1,
            (false, 0x21 | 0x22 | 0xA3) => 2,
            (false, 0x26 | 0x27) => 6,
            (false, 0x29 | 0x2A) => 5,
            _ => 0,
        }
    }

    fn command_byte(&mut self, b: u8) {
        self.pending.push(b);
        let need = self.pending.first().map_or(0, |&op| self.arguments(op));
        if self.pending.len() > need {
            let cmd = std::mem::take(&mut self.pending);
            self.execute(&cmd);
        }
    }

    fn execute(&mut self, cmd: &[u8]) {
        let arg = |i: usize| usize::from(cmd.get(i).copied().unwrap_or(0));
        match (self.sh1106, cmd.first().copied().unwrap_or(0xE3)) {
            (_, op @ 0x00..=0x0F) => self.column = (self.column & 0xF0) | usize::from(op),
            (_, op @ 0x10..=0x1F) => {
                self.column = (self.column & 0x0F) | (usize::from(op & 0x0F) << 4)
            }
            (_, op @ 0x40..=0x7F) => self.start_line = op & 0x3F,
            (_, 0x81) => self.contrast = Some(arg(1) as u8),
            (_, op @ (0xA0 | 0xA1)) => self.segment_remap = op == 0xA1,
            (_, op @ (0xA4 | 0xA5)) => self.all_on = op == 0xA5,
            (_, op @ (0xA6 | 0xA7)) => self.inverted = op == 0xA7,
            (_, op @ (0xAE | 0xAF)) => self.display_on = op == 0xAF,
            (_, op @ 0xB0..=0xB7) => self.page = usize::from(op & 0x07),
            (_, 0xC0) => self.com_reversed = false,
            (_, 0xC8) => self.com_reversed = true,
            (_, 0xD3) => self.display_offset = arg(1) as u8,
            (true, 0xAD) => self.charge_pump = Some(arg(1) as u8),
            (false, 0x8D) => self.charge_pump = Some(arg(1) as u8),
            (false, 0x20) => self.addr_mode = arg(1) as u8 & 0x03,
            (false, 0x21) => {
                self.columns = (arg(1) & 0x7F, arg(2) & 0x7F);
                self.column = self.columns.0;
            }
            (false, 0x22) => {
                self.pages = (arg(1) & 0x07, arg(2) & 0x07);
                self.page = self.pages.0;
            }
            _ => {} // timing, multiplex, COM pins, VCOMH, scrolling: no effect on the picture
        }
    }

    fn data_byte(&mut self, b: u8) {
        let last_column = if self.sh1106 { RAM_COLUMNS - 1 } else { 127 };
        if self.column > last_column {
            self.overflow += 1;
            return;
        }
        if let Some(cell) = self
            .ram
            .get_mut(self.page)
            .and_then(|p| p.get_mut(self.column))
        {
            *cell = b;
        }
        if self.sh1106 || self.addr_mode == 2 {
            // Page addressing: the column advances; the SH1106 stops at its last column.
            self.column = if self.sh1106 {
                self.column + 1
            } else if self.column >= last_column {
                0
            } else {
                self.column + 1
            };
        } else if self.addr_mode == 0 {
            self.column += 1;
            if self.column > self.columns.1 {
                self.column = self.columns.0;
                self.page = if self.page >= self.pages.1 {
                    self.pages.0
                } else {
                    self.page + 1
                };
            }
        } else {
            self.page += 1;
            if self.page > self.pages.1 {
                self.page = self.pages.0;
                self.column = if self.column >= self.columns.1 {
                    self.columns.0
                } else {
                    self.column + 1
                };
            }
        }
    }

    /// One I2C write: control bytes (Co, D/C#) then commands or data.
    fn write(&mut self, bytes: &[u8]) {
        let mut rest = bytes;
        while let Some((&control, tail)) = rest.split_first() {
            let data = control & 0x40 != 0;
            let (now, next) = if control & 0x80 != 0 {
                tail.split_at(tail.len().min(1))
            } else {
                (tail, &[][..])
            };
            for &b in now {
                if data {
                    self.data_byte(b)
                } else {
                    self.command_byte(b)
                }
            }
            rest = next;
        }
    }

    /// Whether the panel shows pixel (x, y), seen the right way up. A module is wired so that
    /// segment remap on and COM scan reversed (what both drivers send for no rotation) give
    /// the upright picture; the SH1106's 128 visible columns are RAM columns 2..=129.
    pub fn panel_pixel(&self, x: usize, y: usize) -> bool {
        let offset = if self.sh1106 { 2 } else { 0 };
        let column = if self.segment_remap {
            x + offset
        } else {
            (WIDTH as usize - 1 - x) + offset
        };
        let row = if self.com_reversed {
            y
        } else {
            HEIGHT as usize - 1 - y
        };
        let bit = self.ram[row / 8][column] >> (row % 8) & 1 == 1;
        self.display_on && (self.all_on || bit != self.inverted)
    }
}

/// The emulated module on the bus; clones share it, so a test keeps one while `Oled` owns one.
#[derive(Clone, Debug)]
pub struct Bus(pub Rc<RefCell<Controller>>);

impl Bus {
    pub fn new(driver: DisplayDriver) -> Self {
        Bus(Rc::new(RefCell::new(Controller::new(
            driver == DisplayDriver::Sh1106,
        ))))
    }
}

impl ErrorType for Bus {
    type Error = ErrorKind;
}

impl I2c for Bus {
    fn transaction(&mut self, address: u8, ops: &mut [Operation<'_>]) -> Result<(), ErrorKind> {
        let mut c = self.0.borrow_mut();
        if c.unplugged || address != ADDRESS {
            return Err(ErrorKind::NoAcknowledge(NoAcknowledgeSource::Address));
        }
        for op in ops {
            match op {
                Operation::Write(bytes) => {
                    c.writes += 1;
                    c.write(bytes)
                }
                // Neither controller is read over I2C by these drivers.
                Operation::Read(_) => return Err(ErrorKind::Other),
            }
        }
        Ok(())
    }
}
