//! The OLED module on I2C: an SSD1306 (ssd1306 crate) or an SH1106 (sh1106 crate), both in
//! buffered graphics mode, showing the 128×64 [`Frame`]s the display pages render.
//!
//! Both drivers run over one embedded-hal 1.0 [`I2c`] (rppal's on the Pi, an emulated
//! controller in `tests/oled.rs`). sh1106 0.5 still speaks embedded-hal 0.2, so [`Eh02I2c`]
//! adapts a 1.0 bus to its `blocking::i2c::Write`; no maintained SH1106 driver on 1.0 exists.
//!
//! Invariants: every `show` sends the whole frame (the driver's buffer is cleared, the lit
//! pixels set, then flushed), so a frame lost on the bus is repaired by the next one; after any
//! bus error the controller is initialised again before the next frame, so a module that lost
//! power or was re-plugged comes back without restarting the daemon. Rotation by 180° is done by
//! the controller (segment remap and COM scan direction), not by moving pixels. The drivers'
//! known panics (sh1106's partial chunks and pages above 7) cannot happen here: frames are
//! always flushed whole, 128 columns by 8 pages.

use embedded_graphics::image::GetPixel;
use embedded_graphics::pixelcolor::BinaryColor;
use embedded_graphics::prelude::Point;
use embedded_hal::i2c::I2c;
use ssd1306::mode::BufferedGraphicsMode;
use ssd1306::prelude::{
    Brightness as SsdBrightness, DisplayConfig, DisplayRotation as SsdRotation, DisplaySize128x64,
    I2CInterface,
};
use ssd1306::{I2CDisplayInterface, Ssd1306};

use crate::config::{Brightness, DisplayDriver};
use crate::indicate::board::BoardError;
use crate::indicate::display::png::Frame;
use crate::indicate::display::{HEIGHT, WIDTH};

/// What the board reports a display failure as.
const PART: &str = "display";

/// The SSD1306 driver as we use it.
type Ssd<I2C> =
    Ssd1306<I2CInterface<I2C>, DisplaySize128x64, BufferedGraphicsMode<DisplaySize128x64>>;
/// The SH1106 driver as we use it.
type Sh<I2C> = sh1106::mode::GraphicsMode<sh1106::interface::I2cInterface<Eh02I2c<I2C>>>;

/// An embedded-hal 1.0 I2C bus seen as the embedded-hal 0.2 `blocking::i2c::Write` that
/// sh1106 0.5 needs. Writes pass through unchanged.
#[derive(Debug)]
pub struct Eh02I2c<I2C>(pub I2C);

impl<I2C: I2c> embedded_hal_02::blocking::i2c::Write for Eh02I2c<I2C> {
    type Error = I2C::Error;

    fn write(&mut self, address: u8, bytes: &[u8]) -> Result<(), Self::Error> {
        self.0.write(address, bytes)
    }
}

/// The controller behind an [`Oled`].
enum Panel<I2C: I2c> {
    Ssd1306(Box<Ssd<I2C>>),
    Sh1106(Box<Sh<I2C>>),
}

/// A 128×64 OLED module driven over I2C.
pub struct Oled<I2C: I2c> {
    panel: Panel<I2C>,
    brightness: Brightness,
    /// Set after a bus error: initialise the controller again before the next frame.
    needs_init: bool,
}

impl<I2C: I2c> std::fmt::Debug for Oled<I2C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let driver = match self.panel {
            Panel::Ssd1306(_) => "ssd1306",
            Panel::Sh1106(_) => "sh1106",
        };
        f.debug_struct("Oled")
            .field("driver", &driver)
            .field("brightness", &self.brightness)
            .field("needs_init", &self.needs_init)
            .finish()
    }
}

/// The contrast register value of a brightness preset: the ssd1306 crate's presets (whose
/// fields are private), so an SH1106 is as bright as an SSD1306 at the same setting.
pub fn contrast(brightness: Brightness) -> u8 {
    match brightness {
        Brightness::Dimmest => 0x00,
        Brightness::Dim => 0x2F,
        Brightness::Normal => 0x5F,
        Brightness::Bright => 0x9F,
        Brightness::Brightest => 0xFF,
    }
}

fn ssd_brightness(brightness: Brightness) -> SsdBrightness {
    match brightness {
        Brightness::Dimmest => SsdBrightness::DIMMEST,
        Brightness::Dim => SsdBrightness::DIM,
        Brightness::Normal => SsdBrightness::NORMAL,
        Brightness::Bright => SsdBrightness::BRIGHT,
        Brightness::Brightest => SsdBrightness::BRIGHTEST,
    }
}

impl<I2C: I2c> Oled<I2C> {
    /// Initialises the `driver`'s controller at the 7-bit `address` on `i2c`, sets the
    /// brightness and blanks the screen. `rotate180`: the module is mounted upside down.
    ///
    /// Fails with a `display` [`BoardError`] when the controller does not answer, or for
    /// [`DisplayDriver::None`].
    pub fn new(
        driver: DisplayDriver,
        i2c: I2C,
        address: u8,
        brightness: Brightness,
        rotate180: bool,
    ) -> Result<Self, BoardError> {
        let panel = match driver {
            DisplayDriver::Ssd1306 => {
                let rotation = if rotate180 {
                    SsdRotation::Rotate180
                } else {
                    SsdRotation::Rotate0
                };
                let interface = I2CDisplayInterface::new_custom_address(i2c, address);
                let ssd = Ssd1306::new(interface, DisplaySize128x64, rotation)
                    .into_buffered_graphics_mode();
                Panel::Ssd1306(Box::new(ssd))
            }
            DisplayDriver::Sh1106 => {
                use sh1106::displayrotation::DisplayRotation;
                let rotation = if rotate180 {
                    DisplayRotation::Rotate180
                } else {
                    DisplayRotation::Rotate0
                };
                let sh: Sh<I2C> = sh1106::Builder::new()
                    .with_size(sh1106::displaysize::DisplaySize::Display128x64)
                    .with_i2c_addr(address)
                    .with_rotation(rotation)
                    .connect_i2c(Eh02I2c(i2c))
                    .into();
                Panel::Sh1106(Box::new(sh))
            }
            DisplayDriver::None => {
                return Err(BoardError {
                    part: PART,
                    message: "no display configured (display = \"none\")".into(),
                })
            }
        };
        let mut oled = Oled {
            panel,
            brightness,
            needs_init: true,
        };
        oled.init()?;
        oled.blank()?;
        Ok(oled)
    }

    /// Initialises the controller and sets the brightness.
    fn init(&mut self) -> Result<(), BoardError> {
        let contrast = contrast(self.brightness);
        let result = match &mut self.panel {
            Panel::Ssd1306(d) => d
                .init()
                .and_then(|()| d.set_brightness(ssd_brightness(self.brightness)))
                .map_err(|e| BoardError::new(PART, e)),
            Panel::Sh1106(d) => d
                .init()
                .and_then(|()| d.set_contrast(contrast))
                .map_err(|e| BoardError::new(PART, e)),
        };
        self.needs_init = result.is_err();
        result
    }

    /// Shows `frame`: copies its pixels into the driver's buffer and sends them all.
    pub fn show(&mut self, frame: &Frame) -> Result<(), BoardError> {
        self.draw(|x, y| frame.pixel(Point::new(x as i32, y as i32)) == Some(BinaryColor::On))
    }

    /// Blanks the screen (every pixel off), e.g. on a clean stop.
    pub fn blank(&mut self) -> Result<(), BoardError> {
        self.draw(|_, _| false)
    }

    /// Sets every pixel to `lit(x, y)` and flushes, initialising the controller first if a
    /// previous transfer failed.
    fn draw(&mut self, lit: impl Fn(u32, u32) -> bool) -> Result<(), BoardError> {
        if self.needs_init {
            self.init()?;
        }
        let result = match &mut self.panel {
            Panel::Ssd1306(d) => {
                d.clear_buffer();
                for_each_lit(&lit, |x, y| d.set_pixel(x, y, true));
                d.flush().map_err(|e| BoardError::new(PART, e))
            }
            Panel::Sh1106(d) => {
                d.clear();
                for_each_lit(&lit, |x, y| d.set_pixel(x, y, 1));
                d.flush().map_err(|e| BoardError::new(PART, e))
            }
        };
        self.needs_init = result.is_err();
        result
    }
}

/// Calls `set(x, y)` for every pixel of the 128×64 screen where `lit` holds.
fn for_each_lit(lit: &impl Fn(u32, u32) -> bool, mut set: impl FnMut(u32, u32)) {
    for y in 0..HEIGHT {
        for x in 0..WIDTH {
            if lit(x, y) {
                set(x, y);
            }
        }
    }
}
