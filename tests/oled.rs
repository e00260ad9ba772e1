//! The OLED backends against an emulated controller, and `PinBoard` on mock pins.
//!
//! [`Controller`] (`tests/oled/controller.rs`) is an embedded-hal 1.0 I2C device that decodes
//! what the real ssd1306 and sh1106 drivers send (control byte 0x00 = commands, 0x40 = data, Co
//! bit honoured) into the controller's display RAM: SSD1306 horizontal/vertical/page addressing
//! with its column and page windows (0x20/0x21/0x22), SH1106 page addressing (0xB0+n, column
//! low/high nibbles) on its 132-column RAM. It then reads the panel back the way the glass shows
//! it (segment remap, COM scan direction, the SH1106's 2-column offset), so a test compares what
//! a person would see with the frame the display pages rendered, pixel for pixel.

#![cfg(feature = "oled")]

use embedded_graphics::image::GetPixel;
use embedded_graphics::pixelcolor::BinaryColor;
use embedded_graphics::prelude::Point;
use embedded_hal_mock::eh1::digital::{Mock as Pin, State, Transaction as T};
use embedded_hal_mock::eh1::MockError;
use phonehome::config::{Brightness, DisplayDriver};
use phonehome::indicate::board::{Board, BoardError};
use phonehome::indicate::display::png::{render_frame, Frame};
use phonehome::indicate::display::{AlertLine, DeviceLine, DisplayData, Page, HEIGHT, WIDTH};
use phonehome::indicate::hw::oled::{contrast, Oled};
use phonehome::indicate::hw::pins::{FrameSink, NoDisplay, PinBoard};
use phonehome::indicate::leds::{LedState, Leds};

#[path = "oled/controller.rs"]
mod controller;

use controller::{Bus, Controller, ADDRESS};

fn fixture() -> DisplayData {
    DisplayData {
        ssid: "phonehome-travel".into(),
        passphrase: "correct horse battery".into(),
        ssh_address: Some("192.168.8.1".into()),
        clients: 3,
        uptime_secs: Some(2 * 86_400 + 4 * 3_600 + 13 * 60),
        packets_per_sec: Some(1_234),
        drops: 12,
        unacknowledged: 5,
        alerts: vec![AlertLine {
            device: "Marie's Galaxy S23 Ultra".into(),
            kind: "pii_leak".into(),
            destination: "zzhc.vnet.cn".into(),
            country: Some("CN".into()),
            age_secs: 180,
        }],
        devices: vec![DeviceLine {
            name: "iPhone".into(),
            flows: 87,
            countries: vec!["US".into(), "IE".into()],
            leaks: 1,
            trackers: 4,
        }],
    }
}

/// Differences between what the panel shows and `frame` (rotated back when `rotate180`:
/// the module is upside down, so the viewer sees the panel turned by 180°).
fn mismatches(c: &Controller, frame: &Frame, rotate180: bool) -> Vec<(usize, usize)> {
    let (w, h) = (WIDTH as usize, HEIGHT as usize);
    let mut bad = Vec::new();
    for y in 0..h {
        for x in 0..w {
            let (px, py) = if rotate180 {
                (w - 1 - x, h - 1 - y)
            } else {
                (x, y)
            };
            let want = frame.pixel(Point::new(x as i32, y as i32)) == Some(BinaryColor::On);
            if c.panel_pixel(px, py) != want {
                bad.push((x, y));
            }
        }
    }
    bad
}

fn lit(frame: &Frame) -> usize {
    frame.data().iter().map(|b| b.count_ones() as usize).sum()
}

#[test]
fn every_page_reaches_the_panel_pixel_for_pixel() {
    let data = fixture();
    for driver in [DisplayDriver::Ssd1306, DisplayDriver::Sh1106] {
        for rotate180 in [false, true] {
            let bus = Bus::new(driver);
            let mut oled = Oled::new(driver, bus.clone(), ADDRESS, Brightness::Normal, rotate180)
                .unwrap_or_else(|e| panic!("{driver:?}: {e}"));
            {
                let c = bus.0.borrow();
                let blank = Frame::new();
                assert!(c.display_on, "{driver:?} left the display off");
                assert!(!c.inverted && !c.all_on);
                assert_eq!((c.start_line, c.display_offset), (0, 0));
                let pump = if driver == DisplayDriver::Sh1106 {
                    0x8B
                } else {
                    0x14
                };
                assert_eq!(c.charge_pump, Some(pump), "{driver:?} charge pump");
                assert!(mismatches(&c, &blank, rotate180).is_empty(), "new() blanks");
            }
            for page in Page::ALL {
                let frame = render_frame(page, &data);
                assert!(lit(&frame) > 100, "{page:?} draws something");
                oled.show(&frame).unwrap();
                let c = bus.0.borrow();
                let bad = mismatches(&c, &frame, rotate180);
                assert!(
                    bad.is_empty(),
                    "{driver:?} rotate180={rotate180} {page:?}: {} pixels differ, first {:?}",
                    bad.len(),
                    bad.first()
                );
                assert_eq!(c.overflow, 0);
                assert!(c.pending.is_empty(), "a command left half sent");
            }
            oled.blank().unwrap();
            assert!(mismatches(&bus.0.borrow(), &Frame::new(), rotate180).is_empty());
        }
    }
}

/// Without the rotation flag the picture is upright and NOT what a rotated module shows: the
/// emulator's orientation check has teeth.
#[test]
fn rotation_changes_what_the_panel_shows() {
    let frame = render_frame(Page::Status, &fixture());
    let bus = Bus::new(DisplayDriver::Ssd1306);
    let mut oled = Oled::new(
        DisplayDriver::Ssd1306,
        bus.clone(),
        ADDRESS,
        Brightness::Normal,
        false,
    )
    .unwrap();
    oled.show(&frame).unwrap();
    let c = bus.0.borrow();
    assert!(mismatches(&c, &frame, false).is_empty());
    assert!(mismatches(&c, &frame, true).len() > 100);
}

#[test]
fn brightness_presets_set_the_same_contrast_on_both_controllers() {
    for (_, brightness) in Brightness::NAMES {
        for driver in [DisplayDriver::Ssd1306, DisplayDriver::Sh1106] {
            let bus = Bus::new(driver);
            Oled::new(driver, bus.clone(), ADDRESS, brightness, false).unwrap();
            assert_eq!(
                bus.0.borrow().contrast,
                Some(contrast(brightness)),
                "{driver:?}"
            );
        }
    }
    assert_eq!(contrast(Brightness::Normal), 0x5F);
    assert!(contrast(Brightness::Dim) < contrast(Brightness::Bright));
}

#[test]
fn a_missing_module_is_an_error_and_a_replugged_one_is_initialised_again() {
    for driver in [DisplayDriver::Ssd1306, DisplayDriver::Sh1106] {
        // Nothing answers at 0x3D.
        let e = Oled::new(driver, Bus::new(driver), 0x3D, Brightness::Normal, false).unwrap_err();
        assert_eq!(e.part, "display");

        let bus = Bus::new(driver);
        let mut oled = Oled::new(driver, bus.clone(), ADDRESS, Brightness::Dim, false).unwrap();
        let frame = render_frame(Page::Alerts, &fixture());
        bus.0.borrow_mut().unplugged = true;
        assert_eq!(oled.show(&frame).unwrap_err().part, "display");
        // Plugged back in, powered up from scratch: display off, RAM garbage, no contrast.
        *bus.0.borrow_mut() = Controller::new(driver == DisplayDriver::Sh1106);
        oled.show(&frame).unwrap();
        let c = bus.0.borrow();
        assert!(c.display_on);
        assert_eq!(c.contrast, Some(contrast(Brightness::Dim)));
        assert!(mismatches(&c, &frame, false).is_empty(), "{driver:?}");
    }
    let none = Oled::new(
        DisplayDriver::None,
        Bus::new(DisplayDriver::Ssd1306),
        ADDRESS,
        Brightness::Normal,
        false,
    );
    assert_eq!(none.unwrap_err().part, "display");
}

const HIGH: State = State::High;
const LOW: State = State::Low;

/// A display double that records frames and can be made to fail.
#[derive(Debug, Default)]
struct Screen {
    shown: usize,
    blanked: bool,
    failing: bool,
}

impl FrameSink for Screen {
    fn show(&mut self, _frame: &Frame) -> Result<(), BoardError> {
        if self.failing {
            return Err(BoardError::new("display", "NACK"));
        }
        self.shown += 1;
        self.blanked = false;
        Ok(())
    }

    fn blank(&mut self) -> Result<(), BoardError> {
        if self.failing {
            return Err(BoardError::new("display", "NACK"));
        }
        self.blanked = true;
        Ok(())
    }
}

fn pins(green: &[State], amber: &[State], red: &[State]) -> (Pin, Pin, Pin) {
    let sets = |l: &[State]| l.iter().map(|&s| T::set(s)).collect::<Vec<_>>();
    (
        Pin::new(&sets(green)),
        Pin::new(&sets(amber)),
        Pin::new(&sets(red)),
    )
}

#[test]
fn pin_board_drives_leds_reads_the_button_and_shuts_down() {
    // Warn, critical at 0 ms (red lit) and 500 ms (red dark), then shutdown: all low.
    let (g, a, r) = pins(
        &[LOW, LOW, LOW, LOW],
        &[HIGH, LOW, LOW, LOW],
        &[LOW, HIGH, LOW, LOW],
    );
    let button = Pin::new(&[T::get(HIGH), T::get(LOW)]);
    let mut board = PinBoard::new(Leds::new(g, a, r), Some(button), Some(Screen::default()));
    board.set_leds(LedState::Warn, 0).unwrap();
    board.set_leds(LedState::Critical, 0).unwrap();
    board.set_leds(LedState::Critical, 500).unwrap();
    assert!(!board.button_low().unwrap());
    assert!(board.button_low().unwrap());
    board.show_frame(&Frame::new()).unwrap();
    board.shutdown().unwrap();
    let (leds, button, screen) = board.release();
    let (mut g, mut a, mut r) = leds.release();
    for pin in [&mut g, &mut a, &mut r] {
        pin.done();
    }
    button.expect("the button comes back").done();
    let screen = screen.unwrap();
    assert_eq!(screen.shown, 1);
    assert!(screen.blanked);
}

#[test]
fn a_failing_display_does_not_stop_the_leds() {
    let (g, a, r) = pins(&[HIGH, LOW], &[LOW, LOW], &[LOW, LOW]);
    let failing = Screen {
        failing: true,
        ..Screen::default()
    };
    let mut board = PinBoard::<_, _, _, Pin, _>::new(Leds::new(g, a, r), None, Some(failing));
    assert_eq!(board.show_frame(&Frame::new()).unwrap_err().part, "display");
    board.set_leds(LedState::Capturing, 0).unwrap();
    assert!(!board.button_low().unwrap(), "no button: never pressed");
    // Shutdown still switches the LEDs off, then reports the display's error.
    assert_eq!(board.shutdown().unwrap_err().part, "display");
    let (leds, _, _) = board.release();
    let (mut g, mut a, mut r) = leds.release();
    for pin in [&mut g, &mut a, &mut r] {
        pin.done();
    }
}

#[test]
fn a_display_that_could_not_be_opened_is_reported_by_show_frame() {
    let (g, a, r) = pins(&[LOW], &[LOW], &[LOW]);
    let opened = BoardError::new("display", "opening /dev/i2c-1: No such file");
    let mut board = PinBoard::<_, _, _, Pin, NoDisplay>::new(Leds::new(g, a, r), None, None)
        .with_display_error(opened.clone());
    assert!(!board.has_display());
    assert_eq!(board.display_error(), Some(&opened));
    assert_eq!(board.show_frame(&Frame::new()), Err(opened.clone()));
    assert_eq!(board.show_frame(&Frame::new()), Err(opened), "every time");
    board.shutdown().unwrap();
    let (leds, _, _) = board.release();
    let (mut g, mut a, mut r) = leds.release();
    for pin in [&mut g, &mut a, &mut r] {
        pin.done();
    }
}

#[test]
fn pin_errors_name_the_part() {
    let err = MockError::Io(std::io::ErrorKind::PermissionDenied);
    let (g, a, r) = (
        Pin::new(&[T::set(HIGH).with_error(err.clone())]),
        Pin::new(&[T::set(LOW)]),
        Pin::new(&[T::set(LOW)]),
    );
    let button = Pin::new(&[T::get(HIGH).with_error(err)]);
    let mut board = PinBoard::<_, _, _, _, NoDisplay>::new(Leds::new(g, a, r), Some(button), None);
    let e = board.set_leds(LedState::Capturing, 0).unwrap_err();
    assert_eq!(e.part, "leds");
    assert!(e.message.contains("PermissionDenied"), "{e}");
    assert_eq!(board.button_low().unwrap_err().part, "button");
    assert_eq!(
        board.show_frame(&Frame::new()),
        Ok(()),
        "no display: nothing to do"
    );
    let (leds, button, _) = board.release();
    let (mut g, mut a, mut r) = leds.release();
    for pin in [&mut g, &mut a, &mut r] {
        pin.done();
    }
    button.expect("the button comes back").done();
}
